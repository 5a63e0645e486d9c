-- Bulk loaders of bench data, in schema bench (which only the bench creates). They
-- write the same rows the API would, set-based, so a sale-sized data set loads in
-- seconds; admin.check_invariants() at the end of the bench checks that they did.
-- Raw keys and tokens are kept in bench tables so that pgbench and wrk send real ones.
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;

-- Users 1..n of the bench with their API keys; wallets charged p_balance won.
CREATE TABLE bench.users (n int PRIMARY KEY, user_id bigint NOT NULL, key text NOT NULL);
-- Raw queue tokens of bench users, per concert.
CREATE TABLE bench.tokens (concert_id bigint, n int, token text NOT NULL, PRIMARY KEY (concert_id, n));
-- Named concerts of the bench (hold, queue, join, pay, growth ones).
CREATE TABLE bench.concerts (name text PRIMARY KEY, id bigint NOT NULL);

CREATE FUNCTION bench.make_users(p_count int, p_balance bigint) RETURNS void LANGUAGE sql AS $$
  -- A key names its user (tk_<user id>.<secret>), so the id is drawn first.
  WITH i AS (
    SELECT n, nextval(pg_get_serial_sequence('ticket.users', 'id')) AS id
    FROM generate_series((SELECT coalesce(max(n), 0) + 1 FROM bench.users),
                         (SELECT coalesce(max(n), 0) FROM bench.users) + p_count) n),
  k AS (SELECT n, id, format('tk_%s.%s', id, ticket.base64url(gen_random_bytes(32))) AS key FROM i),
  u AS (
    INSERT INTO ticket.users (id, name, api_key_hash) OVERRIDING SYSTEM VALUE
    SELECT id, 'bench' || n, ticket.secret_hash(key) FROM k ORDER BY n)
  INSERT INTO bench.users (n, user_id, key) SELECT n, id, key FROM k;
  INSERT INTO ticket.wallets (user_id, balance)
  SELECT user_id, p_balance FROM bench.users b
  WHERE NOT EXISTS (SELECT 1 FROM ticket.wallets w WHERE w.user_id = b.user_id);
  INSERT INTO ticket.ledger (user_id, type, amount, balance_after)
  SELECT w.user_id, 'CHARGE', w.balance, w.balance FROM ticket.wallets w
  WHERE w.balance > 0 AND NOT EXISTS (SELECT 1 FROM ticket.ledger l WHERE l.user_id = w.user_id);
$$;

-- Stand-ins for the crowd of a growth run: p_count users with unusable keys
-- (random hashes), each with a wallet, nothing else.
CREATE TABLE bench.crowd (n int PRIMARY KEY, user_id bigint NOT NULL);
CREATE FUNCTION bench.make_crowd(p_count int) RETURNS void LANGUAGE sql AS $$
  WITH u AS (
    INSERT INTO ticket.users (name, api_key_hash)
    SELECT 'crowd' || n, gen_random_bytes(32)
    FROM generate_series((SELECT coalesce(max(n), 0) + 1 FROM bench.crowd),
                         (SELECT coalesce(max(n), 0) FROM bench.crowd) + p_count) n
    RETURNING id, name)
  INSERT INTO bench.crowd (n, user_id) SELECT substr(name, 6)::int, id FROM u;
  INSERT INTO ticket.wallets (user_id)
  SELECT user_id FROM bench.crowd c WHERE NOT EXISTS (SELECT 1 FROM ticket.wallets w WHERE w.user_id = c.user_id);
$$;

-- A concert for the bench: p_dates dates from tomorrow, 50 seats each; turns of
-- 4 hours and an hour's grace for unpolled waiters, so that nothing the bench set
-- up ends while it runs.
CREATE FUNCTION bench.concert(p_name text, p_dates int, p_max_active int, p_max_seats int DEFAULT 4)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_id bigint := admin.create_concert('Bench ' || p_name, 'Bench hall',
    ARRAY(SELECT now() + make_interval(days => k) FROM generate_series(1, p_dates) k),
    50, ARRAY[150000, 110000, 80000]::bigint[], 5, p_max_seats, p_max_active);
BEGIN
  PERFORM admin.set_queue(v_id, p_active_minutes => 240, p_idle_seconds => 3600);
  INSERT INTO bench.concerts VALUES (p_name, v_id);
  RETURN v_id;
END
$$;

CREATE FUNCTION bench.concert_id(p_name text) RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT id FROM bench.concerts WHERE name = p_name
$$;

-- Join the queue of a concert in bulk, in order: bench users p_first..p_last
-- (their raw tokens kept), or with p_crowd the crowd's users (tokens nobody
-- can send). The first joiners up to max_active are ACTIVE, as admit() would make them.
CREATE FUNCTION bench.join(p_concert bigint, p_first int, p_last int, p_crowd boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_joined  bigint;
  v_max     int;
  v_admitted bigint;
BEGIN
  SELECT ticket.queue_joined(q.concert_id), c.max_active, q.admitted INTO v_joined, v_max, v_admitted
  FROM ticket.queues q JOIN ticket.concerts c ON c.id = q.concert_id
  WHERE q.concert_id = p_concert FOR UPDATE;
  CREATE TEMP TABLE joiners ON COMMIT DROP AS
  SELECT row_number() OVER (ORDER BY j.n) + v_joined AS seq, j.n, j.user_id, j.key,
         gen_random_bytes(16) AS nonce, nextval('ticket.queue_tokens_id_seq') AS id
  FROM (SELECT n, user_id, key FROM bench.users WHERE NOT p_crowd AND n BETWEEN p_first AND p_last
        UNION ALL
        SELECT n, user_id, NULL FROM bench.crowd WHERE p_crowd AND n BETWEEN p_first AND p_last) j;
  ALTER TABLE joiners ADD COLUMN token text;
  UPDATE joiners SET token = CASE WHEN key IS NULL THEN NULL ELSE ticket.queue_token(key, nonce, p_concert, id) END;
  INSERT INTO ticket.queue_tokens (id, concert_id, user_id, token_hash, nonce, seq, status,
                                   activated_at, expires_at)
  OVERRIDING SYSTEM VALUE
  SELECT id, p_concert, user_id, coalesce(ticket.secret_hash(token), gen_random_bytes(32)), nonce, seq,
         CASE WHEN seq <= v_max THEN 'ACTIVE' ELSE 'WAITING' END,
         CASE WHEN seq <= v_max THEN now() END,
         CASE WHEN seq <= v_max THEN now() + interval '4 hours' END
  FROM joiners ORDER BY seq;
  INSERT INTO bench.tokens (concert_id, n, token) SELECT p_concert, n, token FROM joiners WHERE token IS NOT NULL;
  IF EXISTS (SELECT 1 FROM joiners) THEN
    PERFORM setval(ticket.queue_seq(p_concert), (SELECT max(seq) FROM joiners));
  END IF;
  UPDATE ticket.queues
  SET settled = settled + (SELECT count(*) FROM joiners),
      admitted = admitted + (SELECT count(*) FROM joiners WHERE seq <= v_max)
  WHERE concert_id = p_concert;
  DROP TABLE joiners;
END
$$;

-- Holds for a run, in the order they are to be made: seats of the concert with dates
-- interleaved; hold k is by holder p_first_holder + (k-1) % p_holders, so a holder's
-- holds are p_holders apart and never in flight together (one user's holds queue on
-- its token). Walked by the sequence bench.next_<concert id>.
CREATE TABLE bench.holds (concert_id bigint, n bigint, holder int NOT NULL, key text NOT NULL,
                          token text NOT NULL, on_date date NOT NULL, seat_no int NOT NULL,
                          reservation_id bigint, PRIMARY KEY (concert_id, n));
CREATE FUNCTION bench.plan_holds(p_concert bigint, p_first_holder int, p_holders int, p_count int)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF p_count > p_holders * (SELECT max_seats_per_user FROM ticket.concerts WHERE id = p_concert) THEN
    RAISE EXCEPTION 'bench: % holds by % holders exceed the seats a user may hold', p_count, p_holders;
  END IF;
  INSERT INTO bench.holds
  SELECT p_concert, x.n, u.n, u.key, t.token, x.on_date, x.seat_no
  FROM (SELECT row_number() OVER (ORDER BY s.seat_no, hashint8(d.id)) AS n, d.on_date, s.seat_no
        FROM ticket.concert_dates d JOIN ticket.seats s ON s.date_id = d.id
        WHERE d.concert_id = p_concert) x
  JOIN bench.users u ON u.n = p_first_holder + (x.n - 1) % p_holders
  JOIN bench.tokens t ON t.concert_id = p_concert AND t.n = u.n
  WHERE x.n <= p_count;
  IF NOT found THEN
    RAISE EXCEPTION 'bench: no holds planned for concert %', p_concert;
  END IF;
  EXECUTE format('CREATE SEQUENCE bench.next_%s', p_concert);
END
$$;

-- The next planned hold of a concert, made through the API: one round trip.
CREATE FUNCTION bench.hold_next(p_concert bigint) RETURNS SETOF api.reply LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY SELECT r.* FROM bench.holds h,
    LATERAL api.hold_seat(h.key, h.token, p_concert, h.on_date, ARRAY[h.seat_no]) r
  WHERE h.concert_id = p_concert AND h.n = (SELECT nextval(format('bench.next_%s', p_concert)::regclass));
END
$$;

CREATE FUNCTION bench.holds_made(p_concert bigint) RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT count(*) FROM ticket.reservations WHERE concert_id = p_concert
$$;

-- Holds p_first..p_last of the plan made in bulk, as hold_seat would, to be paid.
CREATE FUNCTION bench.make_holds(p_concert bigint, p_first bigint, p_last bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  CREATE TEMP TABLE made ON COMMIT DROP AS
  SELECT h.n, u.user_id, d.id AS date_id, s.id AS seat_id, s.price,
         now() + make_interval(mins => c.hold_minutes) AS expires_at
  FROM bench.holds h
  JOIN bench.users u ON u.n = h.holder
  JOIN ticket.concerts c ON c.id = h.concert_id
  JOIN ticket.concert_dates d ON d.concert_id = h.concert_id AND d.on_date = h.on_date
  JOIN ticket.seats s ON s.date_id = d.id AND s.seat_no = h.seat_no
  WHERE h.concert_id = p_concert AND h.n BETWEEN p_first AND p_last AND h.reservation_id IS NULL;
  ALTER TABLE made ADD COLUMN reservation_id bigint;
  UPDATE made SET reservation_id = nextval(pg_get_serial_sequence('ticket.reservations', 'id'));
  INSERT INTO ticket.reservations (id, user_id, concert_id, date_id, status, amount, expires_at)
  OVERRIDING SYSTEM VALUE
  SELECT reservation_id, user_id, p_concert, date_id, 'HELD', price, expires_at FROM made;
  INSERT INTO ticket.reservation_seats (reservation_id, seat_id, claim)
  SELECT reservation_id, seat_id, tstzrange(now(), expires_at) FROM made;
  UPDATE ticket.seats s SET reservation_id = m.reservation_id, held_until = m.expires_at
  FROM made m WHERE s.id = m.seat_id;
  UPDATE bench.holds h SET reservation_id = m.reservation_id
  FROM made m WHERE h.concert_id = p_concert AND h.n = m.n;
  DROP TABLE made;
END
$$;

-- Payments walk the made holds in order (sequence bench.next_pay).
CREATE SEQUENCE bench.next_pay;
CREATE FUNCTION bench.pay_next(p_concert bigint) RETURNS SETOF api.reply LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY SELECT r.* FROM bench.holds h,
    LATERAL api.pay_reservation(h.key, h.token, h.reservation_id, 'bench-pay-' || h.n) r
  WHERE h.concert_id = p_concert AND h.n = (SELECT nextval('bench.next_pay'));
END
$$;

-- Joins walk the bench users in order (sequence bench.next_join, read by
-- bench/sql/join.sql); between runs the join concert's queue is emptied again, and its
-- room filled with the crowd, as in a sale after its first second (the first max_active
-- joins of a sale, admitted at once and in order, wait for each other: the surge
-- measures them).
CREATE SEQUENCE bench.next_join;
CREATE FUNCTION bench.reset_joins(p_concert bigint) RETURNS void LANGUAGE sql AS $$
  DELETE FROM ticket.queue_tokens WHERE concert_id = p_concert;
  DELETE FROM ticket.queue_drops WHERE concert_id = p_concert;
  UPDATE ticket.queues SET settled = 0, admitted = 0, pending_upto = NULL, pending_joins = NULL
  WHERE concert_id = p_concert;
  SELECT setval(ticket.queue_seq(p_concert), 1, false);
  SELECT setval('bench.next_join', 1, false);
  SELECT bench.join(p_concert, 1, (SELECT max_active FROM ticket.concerts WHERE id = p_concert), true);
$$;

CREATE SEQUENCE bench.next_charge;

-- The scratch table of D (bench/sql/durable.sql): a logged table with a key, so
-- each insert writes a heap row, an index entry and its WAL like any small write.
CREATE TABLE bench.durable (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, client int NOT NULL);
