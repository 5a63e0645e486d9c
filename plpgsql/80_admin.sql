-- What DBAs and pg_cron call: concerts, queue settings, the clock tick, the books.
-- `\df+ admin.*` in psql lists them with these comments.

CREATE OR REPLACE FUNCTION admin.add_date(p_concert_id bigint, p_starts_at timestamptz,
                                          p_seats int DEFAULT 50,
                                          p_prices bigint[] DEFAULT ARRAY[150000, 110000, 80000],
                                          p_booking_opens_at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_date_id bigint;
BEGIN
  IF p_seats NOT BETWEEN 1 AND 10000 OR coalesce(cardinality(p_prices), 0) = 0 THEN
    RAISE EXCEPTION USING ERRCODE = 'T400A', MESSAGE = 'need 1 to 10000 seats and at least one price';
  END IF;
  IF p_booking_opens_at >= p_starts_at THEN
    RAISE EXCEPTION USING ERRCODE = 'T400A', MESSAGE = 'booking must open before the performance starts';
  END IF;
  -- The date of a performance is its calendar day in Seoul, where the concerts are.
  INSERT INTO ticket.concert_dates (concert_id, on_date, starts_at, booking_opens_at)
  VALUES (p_concert_id, (p_starts_at AT TIME ZONE 'Asia/Seoul')::date, p_starts_at, p_booking_opens_at)
  RETURNING id INTO v_date_id;
  -- Price tiers split the seats evenly, the first tier at the front.
  INSERT INTO ticket.seats (date_id, seat_no, price)
  SELECT v_date_id, n, p_prices[((n - 1) * cardinality(p_prices)) / p_seats + 1]
  FROM generate_series(1, p_seats) n;
  UPDATE ticket.queues SET sold_out = false WHERE concert_id = p_concert_id AND p_starts_at > now();
  RETURN v_date_id;
END
$$;
COMMENT ON FUNCTION admin.add_date(bigint, timestamptz, int, bigint[], timestamptz) IS
  'Add a performance with p_seats seats; p_prices are tiers from the front rows back; seats can be held from p_booking_opens_at (NULL: with the sale). Returns the date id.';

CREATE OR REPLACE FUNCTION admin.create_concert(p_title text, p_venue text, p_starts_at timestamptz[],
                                                p_seats int DEFAULT 50,
                                                p_prices bigint[] DEFAULT ARRAY[150000, 110000, 80000],
                                                p_hold_minutes int DEFAULT 5,
                                                p_max_seats_per_user int DEFAULT 1,
                                                p_max_active int DEFAULT 100,
                                                p_refund_hours_before int DEFAULT 24,
                                                p_refund_fee_percent int DEFAULT 10,
                                                p_sale_opens_at timestamptz DEFAULT NULL,
                                                p_pre_queue_minutes int DEFAULT 60)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_id bigint;
BEGIN
  INSERT INTO ticket.concerts (title, venue, hold_minutes, max_seats_per_user, max_active,
                               refund_hours_before, refund_fee_percent)
  VALUES (p_title, p_venue, p_hold_minutes, p_max_seats_per_user, p_max_active,
          p_refund_hours_before, p_refund_fee_percent)
  RETURNING id INTO v_id;
  INSERT INTO ticket.queues (concert_id, turn_seconds)
  SELECT v_id, active_minutes * 60 FROM ticket.concerts WHERE id = v_id;
  -- Joins take their place in line from it, without a lock (ticket.settle).
  EXECUTE format('CREATE SEQUENCE ticket.queue_seq_%s CACHE 1', v_id);
  PERFORM admin.add_date(v_id, t, p_seats, p_prices) FROM unnest(p_starts_at) t;
  IF p_sale_opens_at IS NOT NULL THEN
    PERFORM admin.schedule_sale(v_id, p_sale_opens_at, p_pre_queue_minutes);
  END IF;
  RETURN v_id;
END
$$;
COMMENT ON FUNCTION admin.create_concert(text, text, timestamptz[], int, bigint[], int, int, int, int, int, timestamptz, int) IS
  'Create a concert with its performances (one per start time), seats, price tiers and refund terms, on sale at once or from p_sale_opens_at with a pre-queue p_pre_queue_minutes before. Returns its id.';

CREATE OR REPLACE FUNCTION admin.schedule_sale(p_concert_id bigint, p_sale_opens_at timestamptz,
                                               p_pre_queue_minutes int DEFAULT 60)
RETURNS TABLE (concert_id bigint, sale_opens_at timestamptz, pre_queue_opens_at timestamptz, commitment text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_c ticket.concerts;
BEGIN
  SELECT * INTO v_c FROM ticket.concerts c WHERE c.id = p_concert_id FOR NO KEY UPDATE;
  IF NOT found THEN
    RAISE EXCEPTION USING ERRCODE = 'T404A', MESSAGE = format('concert %s not found', p_concert_id);
  ELSIF v_c.opened_at IS NOT NULL OR ticket.queue_joined(p_concert_id) > 0 THEN
    RAISE EXCEPTION USING ERRCODE = 'T400A',
      MESSAGE = format('concert %s is on sale already: its line cannot be reordered', p_concert_id);
  ELSIF p_sale_opens_at IS NULL OR p_pre_queue_minutes IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'T400A', MESSAGE = 'need a sale time and the pre-queue''s minutes';
  END IF;
  -- The seed is drawn once: a new time keeps the order people were promised.
  INSERT INTO ticket.sale_seeds AS s (concert_id, seed) VALUES (p_concert_id, gen_random_bytes(32))
  ON CONFLICT ON CONSTRAINT sale_seeds_pkey DO NOTHING;
  UPDATE ticket.concerts c
  SET sale_opens_at = p_sale_opens_at, pre_queue_minutes = p_pre_queue_minutes,
      shuffle_commitment = (SELECT sha256(s.seed) FROM ticket.sale_seeds s WHERE s.concert_id = p_concert_id)
  WHERE c.id = p_concert_id;
  RETURN QUERY
    SELECT c.id, c.sale_opens_at, c.sale_opens_at - make_interval(mins => c.pre_queue_minutes),
           encode(c.shuffle_commitment, 'hex')
    FROM ticket.concerts c WHERE c.id = p_concert_id;
END
$$;
COMMENT ON FUNCTION admin.schedule_sale(bigint, timestamptz, int) IS
  'Set or move a concert''s sale opening and pre-queue (before the opening only); returns the seed''s commitment, never the seed.';

CREATE OR REPLACE FUNCTION admin.open_sale(p_concert_id bigint)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  RETURN ticket.open_sale(p_concert_id);
END
$$;
COMMENT ON FUNCTION admin.open_sale(bigint) IS
  'Open a due sale now rather than at the next call or tick; true when this call placed the pre-queue.';

CREATE OR REPLACE FUNCTION admin.set_queue(p_concert_id bigint, p_max_active int DEFAULT NULL,
                                           p_active_minutes int DEFAULT NULL, p_idle_seconds int DEFAULT NULL)
RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  PERFORM 1 FROM ticket.queues WHERE concert_id = p_concert_id FOR UPDATE;
  UPDATE ticket.concerts
  SET max_active = coalesce(p_max_active, max_active),
      active_minutes = coalesce(p_active_minutes, active_minutes),
      idle_seconds = coalesce(p_idle_seconds, idle_seconds),
      queue_changed_at = now()
  WHERE id = p_concert_id;
  IF NOT found THEN
    RAISE EXCEPTION USING ERRCODE = 'T404A', MESSAGE = format('concert %s not found', p_concert_id);
  END IF;
  RETURN ticket.admit(p_concert_id);
END
$$;
COMMENT ON FUNCTION admin.set_queue(bigint, int, int, int) IS
  'Change how many are admitted at once, how long a turn lasts and when an unpolled waiter is dropped (NULL keeps). Returns how many were admitted now.';

CREATE OR REPLACE FUNCTION admin.set_holds(p_concert_id bigint, p_hold_minutes int DEFAULT NULL,
                                           p_max_seats_per_user int DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  UPDATE ticket.concerts
  SET hold_minutes = coalesce(p_hold_minutes, hold_minutes),
      max_seats_per_user = coalesce(p_max_seats_per_user, max_seats_per_user),
      holds_changed_at = now()
  WHERE id = p_concert_id;
  IF NOT found THEN
    RAISE EXCEPTION USING ERRCODE = 'T404A', MESSAGE = format('concert %s not found', p_concert_id);
  END IF;
END
$$;
COMMENT ON FUNCTION admin.set_holds(bigint, int, int) IS
  'Change how long new holds last and how many seats one person may hold (NULL keeps); existing holds keep their expiry.';

-- Each "nobody" is asked of a partial index in its own order (ticket.anyone_waiting
-- says why). admin.concerts_to_tick finds the concerts not at rest as a set, by the
-- same conditions (tests/sql/09_admin.sql keeps the two alike).
CREATE OR REPLACE FUNCTION ticket.concert_at_rest(p_concert_id bigint)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  -- Found sold out by an earlier tick, no date ahead, no opening due, nobody in its
  -- queue, no hold.
  RETURN (SELECT q.sold_out FROM ticket.queues q WHERE q.concert_id = p_concert_id)
     AND NOT EXISTS (SELECT 1 FROM ticket.concerts c WHERE c.id = p_concert_id AND c.sale_opens_at IS NOT NULL AND c.opened_at IS NULL)
     AND NOT ticket.date_ahead(p_concert_id)
     AND NOT ticket.anyone_waiting(p_concert_id)
     AND (SELECT id FROM ticket.queue_tokens WHERE concert_id = p_concert_id AND status = 'ACTIVE' ORDER BY expires_at LIMIT 1) IS NULL
     -- the live holds of every concert, in expiry order: a few hundred rows, not the table
     AND (SELECT id FROM ticket.reservations WHERE status = 'HELD' AND concert_id = p_concert_id ORDER BY expires_at LIMIT 1) IS NULL;
END
$$;
COMMENT ON FUNCTION ticket.concert_at_rest(bigint) IS
  'True when the tick has nothing left to do for a concert: past, found sold out, no opening due, nobody in its queue, no hold.';

-- The minute's tick works concert by concert, each in a transaction of its own
-- (admin.tick), and never waits behind a busy concert: whatever is locked is left to
-- the next minute, when readers already treat it by the clock.
CREATE OR REPLACE FUNCTION admin.tick_concert(p_concert_id bigint, OUT holds_expired int, OUT waiting_dropped int,
                                              OUT sold_out int, OUT admitted int, OUT skipped boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_concert ticket.concerts;
  v_r       bigint;
  v_seqs    bigint[];
  v_sold_out boolean;
  v_was_sold_out boolean;
BEGIN
  holds_expired := 0; waiting_dropped := 0; sold_out := 0; admitted := 0; skipped := false;
  SELECT * INTO v_concert FROM ticket.concerts WHERE id = p_concert_id;
  IF NOT found THEN
    RAISE EXCEPTION USING ERRCODE = 'T404A', MESSAGE = format('concert %s not found', p_concert_id);
  END IF;
  -- A past concert with nothing left to do is only read, without the queue lock,
  -- whose row lock cost a WAL flush each minute for each concert of the catalogue.
  IF ticket.concert_at_rest(p_concert_id) THEN
    RETURN;
  END IF;
  -- The fallback of an opening nobody called for (it waits only for joins in flight).
  PERFORM ticket.open_if_due(p_concert_id);
  SELECT * INTO v_concert FROM ticket.concerts WHERE id = p_concert_id;

  -- Holds past expiry are already free to every reader; this makes it visible in the
  -- rows. Before the queue lock: a payment holding seats waits for that lock.
  FOR v_r IN SELECT id FROM ticket.reservations
             WHERE concert_id = p_concert_id AND status = 'HELD' AND expires_at <= now()
             ORDER BY id FOR UPDATE SKIP LOCKED
  LOOP
    UPDATE ticket.reservations SET status = 'EXPIRED', ended_at = expires_at WHERE id = v_r;
    UPDATE ticket.seats SET reservation_id = NULL, held_until = NULL
    WHERE id IN (SELECT id FROM ticket.seats WHERE reservation_id = v_r AND NOT sold
                 ORDER BY seat_no FOR UPDATE SKIP LOCKED);
    holds_expired := holds_expired + 1;
  END LOOP;

  PERFORM 1 FROM ticket.queues WHERE concert_id = p_concert_id FOR UPDATE SKIP LOCKED;
  IF NOT found THEN
    skipped := true;
    RETURN;
  END IF;
  -- Waiters who stopped polling are dropped; on the waiting list (sold out) they poll
  -- slowly, so their silence may last longer.
  SELECT q.sold_out INTO v_was_sold_out FROM ticket.queues q WHERE q.concert_id = p_concert_id;
  v_sold_out := ticket.check_sold_out(p_concert_id);
  sold_out := (v_sold_out AND NOT v_was_sold_out)::int;
  WITH ended AS (
    UPDATE ticket.queue_tokens SET status = 'EXPIRED', ended_at = now()
    WHERE concert_id = p_concert_id AND status = 'WAITING'
      AND last_seen_at < now() - make_interval(secs => CASE WHEN v_sold_out THEN v_concert.waitlist_idle_seconds
                                                             ELSE v_concert.idle_seconds END)
    RETURNING seq)
  SELECT array_agg(seq) INTO v_seqs FROM ended;
  -- The same for ranked pre-queue entries not yet turned into WAITING tokens (they
  -- count as seen at the opening).
  IF v_concert.shuffle_entries > (SELECT placed FROM ticket.queues q WHERE q.concert_id = p_concert_id) THEN
    WITH ended AS (
      UPDATE ticket.queue_tokens t SET status = 'EXPIRED', ended_at = now(), seq = r.rank
      FROM ticket.pre_queue_ranks r
      WHERE r.concert_id = p_concert_id AND r.token_id = t.id AND t.status = 'PRE_QUEUE'
        AND greatest(t.last_seen_at, v_concert.opened_at)
            < now() - make_interval(secs => CASE WHEN v_sold_out THEN v_concert.waitlist_idle_seconds
                                                  ELSE v_concert.idle_seconds END)
      RETURNING t.seq)
    SELECT coalesce(v_seqs, '{}') || array_agg(seq) INTO v_seqs FROM ended;
  END IF;
  waiting_dropped := coalesce(cardinality(v_seqs), 0);
  IF v_seqs IS NOT NULL THEN
    PERFORM ticket.queue_drop(p_concert_id, v_seqs);
  END IF;
  admitted := ticket.admit(p_concert_id);
END
$$;
COMMENT ON FUNCTION admin.tick_concert(bigint) IS
  'One concert''s share of the tick: expire holds, find it sold out (sold_out 1 when this tick found it so first), drop unpolled waiters, admit; skipped when its queue is locked.';

CREATE OR REPLACE FUNCTION admin.housekeeping(OUT keys_purged int, OUT errors_folded int)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  DELETE FROM ticket.idempotency_keys WHERE created_at < now() - interval '48 hours';
  GET DIAGNOSTICS keys_purged = ROW_COUNT;
  -- Fold the error log into its counters.
  WITH folded AS (DELETE FROM ticket.request_errors RETURNING code),
  counted AS (
    INSERT INTO ticket.error_counts AS e (code, n)
    SELECT code, count(*) FROM folded GROUP BY code
    ON CONFLICT (code) DO UPDATE SET n = e.n + excluded.n)
  SELECT count(*) INTO errors_folded FROM folded;
END
$$;
COMMENT ON FUNCTION admin.housekeeping() IS
  'The tick''s housekeeping: purge idempotency keys older than 48 hours, fold the error log into error_counts.';

CREATE OR REPLACE FUNCTION admin.concert_ids()
RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ SELECT id FROM ticket.concerts ORDER BY id $$;
COMMENT ON FUNCTION admin.concert_ids() IS 'Every concert id, in order.';

-- What admin.tick walks: the concerts not at rest (ticket.concert_at_rest), found from
-- what can stir one, not by asking every concert of the catalogue each minute (with
-- 25,000 past concerts 0.9 s a tick, for nothing). Not found sold out, an opening
-- not yet made, a date ahead, a hold, a live token: the tokens' partial indexes are
-- walked one concert at a time (concert_id > the last), a probe per concert, not per token.
CREATE OR REPLACE FUNCTION admin.concerts_to_tick()
RETURNS SETOF bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_ids    bigint[];
  v_status text;
  v_id     bigint;
BEGIN
  v_ids := ARRAY(SELECT concert_id FROM ticket.queues WHERE NOT sold_out)
        || ARRAY(SELECT id FROM ticket.concerts WHERE sale_opens_at IS NOT NULL AND opened_at IS NULL)
        || ticket.concerts_ahead()
        || ARRAY(SELECT DISTINCT concert_id FROM ticket.reservations WHERE status = 'HELD');
  FOREACH v_status IN ARRAY ARRAY['PRE_QUEUE', 'WAITING', 'ACTIVE'] LOOP
    v_id := 0;
    LOOP
      -- The status as a literal, so that each query is planned on its partial index.
      EXECUTE format('SELECT concert_id FROM ticket.queue_tokens WHERE status = %L AND concert_id > $1 ORDER BY concert_id LIMIT 1',
                     v_status) INTO v_id USING v_id;
      EXIT WHEN v_id IS NULL;
      v_ids := v_ids || v_id;
    END LOOP;
  END LOOP;
  RETURN QUERY SELECT DISTINCT i FROM unnest(v_ids) i ORDER BY i;
END
$$;
COMMENT ON FUNCTION admin.concerts_to_tick() IS
  'The concerts the minute''s tick has work for (all but those at rest), in id order: what admin.tick walks.';

-- A procedure, so that each concert commits on its own; neither SECURITY DEFINER nor
-- SET (PostgreSQL allows no COMMIT in either): it only calls the definer functions.
CREATE OR REPLACE PROCEDURE admin.tick()
LANGUAGE plpgsql
AS $$
DECLARE
  v_id      bigint;
  v_t       record;
  v_sum     int[] := ARRAY[0, 0, 0, 0];
  v_skipped bigint[] := '{}';
  v_h       record;
BEGIN
  FOR v_id IN SELECT admin.concerts_to_tick() LOOP
    v_t := admin.tick_concert(v_id);
    v_sum := ARRAY[v_sum[1] + v_t.holds_expired, v_sum[2] + v_t.waiting_dropped,
                   v_sum[3] + v_t.sold_out, v_sum[4] + v_t.admitted];
    IF v_t.skipped THEN
      v_skipped := v_skipped || v_id;
    END IF;
    COMMIT;
  END LOOP;
  v_h := admin.housekeeping();
  COMMIT;
  RAISE NOTICE 'tick: % holds expired, % waiters dropped, % concerts found sold out, % admitted, % keys purged; skipped concerts: %',
    v_sum[1], v_sum[2], v_sum[3], v_sum[4], v_h.keys_purged,
    CASE WHEN cardinality(v_skipped) = 0 THEN 'none' ELSE array_to_string(v_skipped, ', ') END;
END
$$;
COMMENT ON PROCEDURE admin.tick() IS
  'pg_cron, every minute (CALL admin.tick()): admin.tick_concert for each concert not at rest, each committed apart, then admin.housekeeping().';

-- The first id of a table's rows created since p_since, found by walking its primary
-- key back from the end a thousand rows at a time: O(rows since), where a filter on
-- created_at reads the whole table. Ids grow with time: a row's created_at is the
-- start of the transaction that took its id, so one taken later can be older only by
-- that transaction's length; an hour of slack covers it (the nightly full audit covers
-- the rest). NULL once more than p_most rows are found (NULL: no limit).
CREATE OR REPLACE FUNCTION ticket.first_id_since(p_table regclass, p_since timestamptz, p_most bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  v_before bigint;  -- NULL: past the last row
  v_min    bigint;
  v_old    bigint;
  v_walked bigint := 0;
BEGIN
  LOOP
    EXECUTE format('SELECT min(id), max(id) FILTER (WHERE created_at < $2) FROM (SELECT id, created_at FROM %s
                    WHERE $1 IS NULL OR id < $1 ORDER BY id DESC LIMIT 1000) b', p_table)
      INTO v_min, v_old USING v_before, p_since - interval '1 hour';
    IF v_old IS NOT NULL THEN
      RETURN v_old + 1;
    ELSIF v_min IS NULL THEN
      -- Every row is recent (or there is none: 0, below any id).
      RETURN coalesce(v_before, 0);
    END IF;
    v_walked := v_walked + 1000;
    IF v_walked > p_most THEN
      RETURN NULL;
    END IF;
    v_before := v_min;
  END LOOP;
END
$$;
COMMENT ON FUNCTION ticket.first_id_since(regclass, timestamptz, bigint) IS
  'The smallest id from which p_table''s rows were created since p_since (an hour of slack), walking its primary key back from the end; NULL past p_most rows.';

-- What can have changed since p_since through the functions, for admin.check_invariants.
-- A concert's rows change while it has a date ahead (sales, holds, refunds before the
-- deadline), while the tick has work for it, and after that only by a payment still
-- PAYING (recovery), a refund (an operator's, whatever the deadline) or a settings
-- change. A user's wallet changes with a ledger row. So: the concerts with a date
-- starting since p_since (the tick's last work for a concert follows its last date by
-- minutes), created or reconfigured since, not at rest, with a payment PAYING, a
-- payment or refund made since or a refund pending; the users created since or with a
-- ledger row since, or with a payment PAYING. NULL for every concert, or every user,
-- when a twentieth of the payments, or of the wallets, changed since: then a pass over
-- every row costs less than looking each one up (make bench: a day's million users
-- looked up one by one took 12 s, every wallet and ledger row read once 3 s).
CREATE OR REPLACE FUNCTION ticket.audit_scope(p_since timestamptz, OUT concerts bigint[], OUT users bigint[])
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  v_most_payments bigint := greatest(1000, (SELECT reltuples FROM pg_class WHERE oid = 'ticket.payments'::regclass)::bigint / 20);
  v_most_users    bigint := greatest(1000, (SELECT reltuples FROM pg_class WHERE oid = 'ticket.wallets'::regclass)::bigint / 20);
  v_payments      bigint := ticket.first_id_since('ticket.payments', p_since, v_most_payments);
  v_refunds       bigint := ticket.first_id_since('ticket.refunds', p_since, v_most_payments);
  v_users         bigint := ticket.first_id_since('ticket.users', p_since, v_most_users);
  v_ledger        bigint := ticket.first_id_since('ticket.ledger', p_since, v_most_users);
  v_paying        record;
BEGIN
  -- Payments PAYING: their concerts and users, read once for both.
  SELECT coalesce(array_agg(concert_id), '{}') AS concerts, coalesce(array_agg(user_id), '{}') AS users INTO v_paying
  FROM ticket.reservations WHERE status = 'PAYING';
  IF v_payments IS NOT NULL AND v_refunds IS NOT NULL THEN
    concerts := ARRAY(
      SELECT concert_id FROM ticket.concert_dates WHERE starts_at >= p_since
      UNION SELECT id FROM ticket.concerts
            WHERE created_at >= p_since OR queue_changed_at >= p_since OR holds_changed_at >= p_since
      UNION SELECT admin.concerts_to_tick()
      UNION SELECT unnest(v_paying.concerts)
      UNION SELECT r.concert_id FROM ticket.payments p JOIN ticket.reservations r ON r.id = p.reservation_id
            WHERE p.id >= v_payments
      UNION SELECT r.concert_id FROM ticket.refunds rf JOIN ticket.reservations r ON r.id = rf.reservation_id
            WHERE rf.id >= v_refunds OR (rf.amount > 0 AND rf.ledger_id IS NULL));
  END IF;
  IF v_users IS NOT NULL AND v_ledger IS NOT NULL THEN
    users := ARRAY(
      SELECT id FROM ticket.users WHERE id >= v_users
      UNION SELECT user_id FROM ticket.ledger WHERE id >= v_ledger
      UNION SELECT unnest(v_paying.users));
    IF cardinality(users) > v_most_users THEN
      users := NULL;
    END IF;
  END IF;
END
$$;
COMMENT ON FUNCTION ticket.audit_scope(timestamptz) IS
  'The concerts and users whose rows the functions can have changed since p_since, for the minute''s audit; NULL for all of them when a twentieth or more did.';

-- The minute's audit looks at what can have changed in the last day (p_since): it read
-- the whole history each minute, 4 s of a core with a million users. The full audit
-- (p_since NULL, the default) runs nightly and on demand. Each part keeps its rule;
-- its scope is written into its query, between {{ and }} by concert ($1, p_concerts:
-- ticket.audit_scope's) and between [[ and ]] by user ($2, p_users), kept by the
-- minute's audit and dropped where it looks at every concert or user, so that each is
-- planned as it runs: a full part reads its table in one pass, a scoped one reaches
-- its rows by index. Not "$1 IS NULL OR ...": a sub-select under an OR is never made
-- a join, and each scoped part read its whole table again. The users as a set to join
-- (unnest), not an array to match: the planner weighs each element of an array, which
-- took seconds for a day's users. Parts without a scope read live rows by a partial
-- index already.
CREATE OR REPLACE FUNCTION ticket.invariants_of(p_concerts bigint[], p_users bigint[])
RETURNS TABLE (invariant text, detail text)
LANGUAGE plpgsql STABLE
AS $f$
DECLARE
  v_sql text := $q$
  SELECT 'seat has one live claim', format('seat %s has %s live claims', rs.seat_id, count(*))
  FROM ticket.reservation_seats rs
  WHERE rs.claim @> now()
    {{AND rs.reservation_id IN (SELECT id FROM ticket.reservations WHERE concert_id = ANY ($1))}}
  GROUP BY rs.seat_id HAVING count(*) > 1
UNION ALL
  SELECT 'sold seat has one confirmed, paid reservation',
         format('seat %s (reservation %s): %s', s.id, s.reservation_id,
                coalesce(r.status, 'no reservation') || coalesce(', payments ' || p.n, ', no payment'))
  FROM ticket.seats s
  LEFT JOIN ticket.reservations r ON r.id = s.reservation_id
  LEFT JOIN LATERAL (SELECT count(*) AS n FROM ticket.payments WHERE reservation_id = r.id) p ON true
  WHERE s.sold {{AND s.date_id IN (SELECT id FROM ticket.concert_dates WHERE concert_id = ANY ($1))}}
    AND (r.status IS DISTINCT FROM 'CONFIRMED' OR p.n <> 1
         OR NOT EXISTS (SELECT 1 FROM ticket.reservation_seats rs
                        WHERE rs.reservation_id = r.id AND rs.seat_id = s.id AND upper_inf(rs.claim)))
UNION ALL
  SELECT 'confirmed reservation has its seats sold and one payment of its amount',
         format('reservation %s', r.id)
  FROM ticket.reservations r
  WHERE r.status = 'CONFIRMED' {{AND r.concert_id = ANY ($1)}}
    AND (NOT EXISTS (SELECT 1 FROM ticket.payments p WHERE p.reservation_id = r.id AND p.amount = r.amount)
         OR EXISTS (SELECT 1 FROM ticket.reservation_seats rs JOIN ticket.seats s ON s.id = rs.seat_id
                    WHERE rs.reservation_id = r.id AND (NOT s.sold OR s.reservation_id <> r.id)))
UNION ALL
  SELECT 'held seat belongs to a live hold', format('seat %s (reservation %s)', s.id, s.reservation_id)
  FROM ticket.seats s LEFT JOIN ticket.reservations r ON r.id = s.reservation_id
  WHERE s.held_until > now() {{AND s.date_id IN (SELECT id FROM ticket.concert_dates WHERE concert_id = ANY ($1))}}
    AND (r.status IS DISTINCT FROM 'HELD' OR r.expires_at <> s.held_until)
    AND NOT (r.status = 'PAYING' AND s.held_until = 'infinity')
UNION ALL
  -- The two sides of each payment, and of each refund, where one database has both; on
  -- a partition (ticket.node_side()) the proxy's admin.check_invariants compares them.
  -- The side is a sub-select, read once per query: called on each row, it was 83,000
  -- calls and half the minute's audit on a bench-sized database.
  SELECT 'payment has its debit', format('payment %s (%s)', p.id, p.ref)
  FROM ticket.payments p LEFT JOIN ticket.debits d ON d.ref = p.ref
  WHERE (SELECT ticket.node_side()) = 'all'
    {{AND p.reservation_id IN (SELECT id FROM ticket.reservations WHERE concert_id = ANY ($1))}}
    AND (d.outcome IS DISTINCT FROM 'DEBITED' OR d.amount <> p.amount
         OR d.ledger_id <> p.ledger_id OR d.user_id <> p.user_id)
UNION ALL
  SELECT 'debit has its payment, or its payment is going on', format('debit %s of user %s', d.ref, d.user_id)
  FROM ticket.debits d
  WHERE (SELECT ticket.node_side()) = 'all' AND d.outcome = 'DEBITED'
    [[AND d.ledger_id IN (SELECT id FROM ticket.ledger WHERE user_id IN (SELECT unnest($2)))]]
    AND NOT EXISTS (SELECT 1 FROM ticket.payments p WHERE p.ref = d.ref)
    AND NOT EXISTS (SELECT 1 FROM ticket.reservations r WHERE r.payment_ref = d.ref AND r.status = 'PAYING')
UNION ALL
  -- The audits below that read every row of a table read it in one pass, grouped or
  -- joined by hash, not a lookup per row: per wallet, per queue and per token they were
  -- 7 of the 8 s the audit took with a million users (docs/bench.md). The last row's
  -- balance_after is the largest [id, balance_after] pair's, found in the same pass.
  SELECT 'balance equals ledger sum and is >= 0',
         format('user %s: balance %s, ledger sum %s, last balance_after %s', w.user_id, w.balance,
                coalesce(l.total, 0), l.last[2])
  FROM ticket.wallets w
  LEFT JOIN (SELECT user_id, sum(CASE WHEN type = 'PAYMENT' THEN -amount ELSE amount END) AS total,
                    max(ARRAY[id, balance_after]) AS last
             FROM ticket.ledger [[WHERE user_id IN (SELECT unnest($2))]] GROUP BY user_id) l ON l.user_id = w.user_id
  WHERE (w.balance < 0 OR w.balance <> coalesce(l.total, 0) OR w.balance <> coalesce(l.last[2], 0))
    [[AND w.user_id IN (SELECT unnest($2))]]
UNION ALL
  -- Lowering max_active ends no turn: more may be active than the new limit, but then
  -- none of them may have been admitted since the change.
  SELECT 'active tokens <= max_active', format('concert %s: %s active, max %s', c.id, ticket.queue_active(c.id), c.max_active)
  FROM ticket.concerts c
  WHERE ticket.queue_active(c.id) > c.max_active {{AND c.id = ANY ($1)}}
    AND EXISTS (SELECT 1 FROM ticket.queue_tokens t
                WHERE t.concert_id = c.id AND t.status = 'ACTIVE' AND t.expires_at > now()
                  AND t.activated_at > c.queue_changed_at)
UNION ALL
  SELECT 'a turn ends by its cap', format('token %s of concert %s: ends %s, cap %s', t.id, c.id, t.expires_at,
                                          ticket.turn_cap(t.activated_at, c.active_minutes, c.hold_minutes))
  FROM ticket.queue_tokens t JOIN ticket.concerts c ON c.id = t.concert_id
  WHERE t.status = 'ACTIVE' AND t.expires_at > now()
    AND t.expires_at > ticket.turn_cap(t.activated_at, c.active_minutes, c.hold_minutes)
    AND t.activated_at > greatest(c.queue_changed_at, c.holds_changed_at)
UNION ALL
  -- As for max_active, a lowered limit ends nobody's seats: only a user who got a seat
  -- since the change can be over it.
  SELECT 'seats per user <= max_seats_per_user',
         format('user %s, concert %s: %s seats held or bought, max %s', r.user_id, c.id, count(*), c.max_seats_per_user)
  FROM ticket.reservations r
  JOIN ticket.reservation_seats rs ON rs.reservation_id = r.id
  JOIN ticket.concerts c ON c.id = r.concert_id
  WHERE (r.status IN ('CONFIRMED', 'PAYING') OR (r.status = 'HELD' AND r.expires_at > now()))
    {{AND r.concert_id = ANY ($1)}}
  GROUP BY r.user_id, c.id, c.max_seats_per_user, c.holds_changed_at
  HAVING count(*) > c.max_seats_per_user AND max(r.created_at) > c.holds_changed_at
UNION ALL
  -- Its ledger row once credited; a refund whose credit is pending has none yet.
  SELECT 'a refund has its ledger row', format('refund %s of reservation %s', rf.id, rf.reservation_id)
  FROM ticket.refunds rf
  JOIN ticket.reservations r ON r.id = rf.reservation_id
  JOIN ticket.payments p ON p.id = rf.payment_id
  LEFT JOIN ticket.ledger l ON l.id = rf.ledger_id
  WHERE (r.status <> 'REFUNDED' OR p.reservation_id <> r.id OR rf.amount + rf.fee <> p.amount
     OR (rf.ledger_id IS NOT NULL AND (SELECT ticket.node_side()) = 'all' AND (l.type IS DISTINCT FROM 'REFUND' OR l.amount <> rf.amount
                                       OR l.reservation_id <> r.id OR l.user_id <> r.user_id)))
    {{AND r.concert_id = ANY ($1)}}
UNION ALL
  -- The two sides of each refund, as of each payment.
  SELECT 'refund has its credit, or its credit is pending', format('refund %s (%s)', rf.id, rf.ref)
  FROM ticket.refunds rf
  JOIN ticket.reservations r ON r.id = rf.reservation_id
  LEFT JOIN ticket.credits c ON c.ref = rf.ref
  WHERE rf.ledger_id IS NOT NULL AND (SELECT ticket.node_side()) = 'all' {{AND r.concert_id = ANY ($1)}}
    AND (c.ledger_id IS DISTINCT FROM rf.ledger_id OR c.amount <> rf.amount OR c.user_id <> r.user_id
         OR c.reservation_id <> rf.reservation_id)
UNION ALL
  SELECT 'credit has its refund', format('credit %s of user %s', c.ref, c.user_id)
  FROM ticket.credits c
  WHERE (SELECT ticket.node_side()) = 'all'
    [[AND c.ledger_id IN (SELECT id FROM ticket.ledger WHERE user_id IN (SELECT unnest($2)))]]
    AND NOT EXISTS (SELECT 1 FROM ticket.refunds rf
                    WHERE rf.ref = c.ref AND rf.reservation_id = c.reservation_id AND rf.amount = c.amount)
UNION ALL
  -- Recovery finishes or releases a payment PAYING for a minute; one PAYING for longer
  -- means it is not running, or fails (its debit may be taken: the payment is owed).
  SELECT 'a payment finishes within minutes', format('reservation %s (%s) paying since %s', r.id, r.payment_ref, r.paying_since)
  FROM ticket.reservations r
  WHERE r.status = 'PAYING' AND r.paying_since < now() - interval '5 minutes'
UNION ALL
  -- Recovery credits a pending refund after a minute; one pending for longer means it
  -- is not running, or fails.
  SELECT 'a refund is credited within minutes', format('refund %s (%s) pending since %s', rf.id, rf.ref, rf.created_at)
  FROM ticket.refunds rf
  WHERE rf.amount > 0 AND rf.ledger_id IS NULL AND rf.created_at < now() - interval '5 minutes'
UNION ALL
  -- Confirmed with its refund, or the credit of a refund still pending.
  SELECT 'a REFUND ledger row belongs to a refund', format('ledger row %s', l.id)
  FROM ticket.ledger l
  WHERE (SELECT ticket.node_side()) = 'all' AND l.type = 'REFUND' [[AND l.user_id IN (SELECT unnest($2))]]
    AND NOT EXISTS (SELECT 1 FROM ticket.credits c JOIN ticket.refunds rf ON rf.ref = c.ref
                    WHERE c.ledger_id = l.id
                      AND (rf.ledger_id = l.id OR (rf.ledger_id IS NULL AND rf.amount = l.amount)))
UNION ALL
  SELECT 'no seat is both sold and refunded', format('seat %s (reservation %s)', rs.seat_id, r.id)
  FROM ticket.reservations r JOIN ticket.reservation_seats rs ON rs.reservation_id = r.id
  JOIN ticket.seats s ON s.id = rs.seat_id
  WHERE r.status = 'REFUNDED' {{AND r.concert_id = ANY ($1)}}
    AND (upper_inf(rs.claim) OR (s.sold AND s.reservation_id = r.id))
UNION ALL
  -- Up to settled every seq is a token or a hole recorded as a drop; behind it joins may
  -- still be committing.
  SELECT 'queue counters match the tokens',
         format('concert %s: %s waiting up to seq %s by counters, %s by rows; %s admitted by counter, %s by rows',
                t.concert_id, t.settled - t.admitted - ticket.queue_drops_before(t.concert_id, t.settled),
                t.settled, t.waiting, t.admitted, t.admitted_rows)
  FROM (SELECT q.concert_id, q.settled, q.admitted,
               count(*) FILTER (WHERE (tk.status = 'WAITING' AND tk.seq <= q.settled)
                                   OR (tk.status = 'PRE_QUEUE' AND r.rank IS NOT NULL)) AS waiting,
               count(*) FILTER (WHERE tk.activated_at IS NOT NULL) AS admitted_rows
        FROM ticket.queues q
        -- The scope on the tokens too: joined on the queue's concert alone, the planner
        -- expects the average concert's line and reads every token by hash.
        LEFT JOIN ticket.queue_tokens tk ON tk.concert_id = q.concert_id {{AND tk.concert_id = ANY ($1)}}
        LEFT JOIN ticket.pre_queue_ranks r ON r.token_id = tk.id AND tk.status = 'PRE_QUEUE'
        {{WHERE q.concert_id = ANY ($1)}}
        GROUP BY q.concert_id) t
  WHERE t.settled - t.admitted - ticket.queue_drops_before(t.concert_id, t.settled) <> t.waiting
     OR t.admitted <> t.admitted_rows
UNION ALL
  SELECT 'a queue token has its concert and user', format('token %s', t.id)
  FROM ticket.queue_tokens t
  LEFT JOIN ticket.concerts c ON c.id = t.concert_id
  LEFT JOIN ticket.users u ON u.id = t.user_id
  WHERE (c.id IS NULL OR ((SELECT ticket.node_side()) = 'all' AND u.id IS NULL)) {{AND t.concert_id = ANY ($1)}}
UNION ALL
  SELECT 'the opening ranked the whole pre-queue', format('token %s of concert %s', t.id, c.id)
  FROM ticket.queue_tokens t JOIN ticket.concerts c ON c.id = t.concert_id
  WHERE t.status = 'PRE_QUEUE' AND c.opened_at IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM ticket.pre_queue_ranks r WHERE r.token_id = t.id)
UNION ALL
  SELECT 'a pre-queue rank is its token''s seq once placed', format('rank %s of concert %s', r.rank, r.concert_id)
  FROM ticket.pre_queue_ranks r JOIN ticket.queue_tokens t ON t.id = r.token_id
  WHERE t.seq IS DISTINCT FROM r.rank AND t.status <> 'PRE_QUEUE' {{AND r.concert_id = ANY ($1)}}
  $q$;
BEGIN
  v_sql := CASE WHEN p_concerts IS NULL THEN regexp_replace(v_sql, '\{\{.*?\}\}', '', 'g')
                ELSE replace(replace(v_sql, '{{', ''), '}}', '') END;
  v_sql := CASE WHEN p_users IS NULL THEN regexp_replace(v_sql, '\[\[.*?\]\]', '', 'g')
                ELSE replace(replace(v_sql, '[[', ''), ']]', '') END;
  RETURN QUERY EXECUTE v_sql USING p_concerts, p_users;
END
$f$;
COMMENT ON FUNCTION ticket.invariants_of(bigint[], bigint[]) IS
  'admin.check_invariants'' parts for these concerts and users (NULL: every one).';

-- No JIT: compiling the audit's many expressions took 2.0 s of its 2.4 s on a bench
-- database in a surge (0.39 s without), a core for seconds each minute of a sale. No
-- parallel workers: on two cores they took the second core from the sale too, and the
-- audit ran no sooner (docs/bench.md).
CREATE OR REPLACE FUNCTION admin.check_invariants(p_since timestamptz DEFAULT NULL)
RETURNS TABLE (invariant text, detail text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp SET jit = off
  SET max_parallel_workers_per_gather = 0
AS $$
BEGIN
  IF p_since IS NULL THEN
    RETURN QUERY SELECT * FROM ticket.invariants_of(NULL, NULL);
  ELSE
    RETURN QUERY SELECT i.* FROM ticket.audit_scope(p_since) s, ticket.invariants_of(s.concerts, s.users) i;
  END IF;
END
$$;
COMMENT ON FUNCTION admin.check_invariants(timestamptz) IS
  'One row per broken invariant (none when healthy): live claims, sales and payments, holds, balances vs ledger, active tokens, turn caps, seats per user, refunds and their credits, queue counters, the pre-queue''s placing. With p_since, only the concerts and users whose rows can have changed since (ticket.audit_scope).';

CREATE OR REPLACE FUNCTION admin.record_invariants(p_since timestamptz DEFAULT NULL)
RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_n int;
BEGIN
  INSERT INTO ticket.invariant_violations (invariant, detail)
  SELECT invariant, detail FROM admin.check_invariants(p_since);
  GET DIAGNOSTICS v_n = ROW_COUNT;
  RETURN v_n;
END
$$;
COMMENT ON FUNCTION admin.record_invariants(timestamptz) IS
  'pg_cron: store what admin.check_invariants(p_since) finds in ticket.invariant_violations; returns the count. Every minute for the last day, nightly for everything.';

CREATE OR REPLACE FUNCTION admin.violations(p_since timestamptz DEFAULT now() - interval '1 day')
RETURNS SETOF ticket.invariant_violations
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ SELECT * FROM ticket.invariant_violations WHERE checked_at >= p_since ORDER BY id $$;
COMMENT ON FUNCTION admin.violations(timestamptz) IS 'Invariant violations recorded by pg_cron since p_since (default: the last day).';

CREATE OR REPLACE FUNCTION admin.sales_report(p_concert_id bigint DEFAULT NULL)
RETURNS TABLE (concert_id bigint, title text, on_date date, starts_at timestamptz,
               seats bigint, sold bigint, held bigint, available bigint, revenue bigint,
               refunded bigint, fees bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT c.id, c.title, d.on_date, d.starts_at, count(*),
         count(*) FILTER (WHERE ticket.seat_status(s.sold, s.held_until) = 'SOLD'),
         count(*) FILTER (WHERE ticket.seat_status(s.sold, s.held_until) = 'HELD'),
         count(*) FILTER (WHERE ticket.seat_status(s.sold, s.held_until) = 'AVAILABLE'),
         coalesce(sum(s.price) FILTER (WHERE s.sold), 0)::bigint + f.fees,
         f.refunded, f.fees
  FROM ticket.concerts c
  JOIN ticket.concert_dates d ON d.concert_id = c.id
  JOIN ticket.seats s ON s.date_id = d.id
  CROSS JOIN LATERAL (SELECT count(*) AS refunded, coalesce(sum(rf.fee), 0)::bigint AS fees
                      FROM ticket.refunds rf JOIN ticket.reservations r ON r.id = rf.reservation_id
                      WHERE r.date_id = d.id) f
  WHERE p_concert_id IS NULL OR c.id = p_concert_id
  GROUP BY c.id, c.title, d.on_date, d.starts_at, f.refunded, f.fees
  ORDER BY c.id, d.on_date
$$;
COMMENT ON FUNCTION admin.sales_report(bigint) IS
  'Per concert date: seats sold, held and available, reservations refunded, and the revenue (sold seats plus refund fees kept).';

-- Reading a concert's sequence locks it to the end of the transaction: a report of
-- 25,000 past concerts took 25,000 locks, and six at once filled the server's lock table
-- (out of shared memory, for every session). So only the concerts not at rest
-- (admin.concerts_to_tick, one set) have theirs read; one at rest takes no join that
-- counts, and its last tick's ticket.settle settled up to its sequence or noted it
-- (pending_upto), so its rows say how many joined (a join rolled back after that tick
-- is not counted).
CREATE OR REPLACE FUNCTION admin.queue_report(p_concert_id bigint DEFAULT NULL)
RETURNS TABLE (concert_id bigint, title text, status text, waiting bigint, active bigint, max_active int,
               joined bigint, settled bigint, admitted bigint, turn_seconds real, sold_out boolean,
               sale_opens_at timestamptz, opened_at timestamptz, shuffle_entries int, shuffle_ms real,
               commitment text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT c.id, c.title, ticket.status_of(c, q), ticket.queue_waiting(c.id), ticket.queue_active(c.id),
         c.max_active,
         CASE WHEN c.id IN (SELECT admin.concerts_to_tick()) THEN ticket.queue_joined(c.id)
              ELSE greatest(q.settled, q.pending_upto, (SELECT max(t.seq) FROM ticket.queue_tokens t WHERE t.concert_id = c.id)) END,
         q.settled, q.admitted, q.turn_seconds, q.sold_out,
         c.sale_opens_at, c.opened_at, c.shuffle_entries, c.shuffle_ms, encode(c.shuffle_commitment, 'hex')
  FROM ticket.concerts c JOIN ticket.queues q ON q.concert_id = c.id
  WHERE p_concert_id IS NULL OR c.id = p_concert_id
  ORDER BY c.id
$$;
COMMENT ON FUNCTION admin.queue_report(bigint) IS
  'The waiting room of each concert: status, waiting, active, joined (seqs handed out), settled, admitted, average turn, sold out, and its opening (when, entries placed, how long it took, the commitment).';

CREATE OR REPLACE FUNCTION admin.books(OUT charged bigint, OUT paid bigint, OUT refunded bigint,
                                       OUT fees_kept bigint, OUT balances bigint, OUT difference bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT l.charged, l.paid, l.refunded, f.fees, w.balances, l.charged + l.refunded - l.paid - w.balances
  FROM (SELECT coalesce(sum(amount) FILTER (WHERE type = 'CHARGE'), 0)::bigint AS charged,
               coalesce(sum(amount) FILTER (WHERE type = 'PAYMENT'), 0)::bigint AS paid,
               coalesce(sum(amount) FILTER (WHERE type = 'REFUND'), 0)::bigint AS refunded
        FROM ticket.ledger) l,
       (SELECT coalesce(sum(fee), 0)::bigint AS fees FROM ticket.refunds) f,
       (SELECT coalesce(sum(balance), 0)::bigint AS balances FROM ticket.wallets) w
$$;
COMMENT ON FUNCTION admin.books() IS
  'All money in won: charged + refunded - paid must equal the sum of balances (difference 0); fees_kept is what refunds kept.';

CREATE OR REPLACE FUNCTION admin.seed_demo()
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_id bigint;
BEGIN
  SELECT id INTO v_id FROM ticket.concerts WHERE title = 'Seoul Winter Night 2026' ORDER BY id LIMIT 1;
  IF found THEN
    RETURN v_id;
  END IF;
  -- Four evenings a week apart from next week, 19:30 in Seoul; three price tiers.
  RETURN admin.create_concert('Seoul Winter Night 2026', 'Olympic Hall, Seoul',
    ARRAY(SELECT (date_trunc('day', now() AT TIME ZONE 'Asia/Seoul') + make_interval(days => 7 * k)
                  + interval '19 hours 30 minutes') AT TIME ZONE 'Asia/Seoul'
          FROM generate_series(1, 4) k),
    50, ARRAY[150000, 110000, 80000]::bigint[]);
END
$$;
COMMENT ON FUNCTION admin.seed_demo() IS
  'The demo concert: four future dates, 50 seats each in three price tiers (150,000 / 110,000 / 80,000 won). Idempotent.';
