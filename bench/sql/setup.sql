-- Bench data: a concert with :dates dates of 50 seats and :active admitted users who
-- hold them, and a second concert whose queue has :waiting users (100 admitted). Raw keys and tokens are kept in schema bench,
-- which only the bench creates, so pgbench can pick real ones.
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;
SELECT admin.create_concert('Bench', 'Bench hall',
  ARRAY(SELECT now() + make_interval(days => k) FROM generate_series(1, :dates) k),
  50, ARRAY[150000, 110000, 80000]::bigint[], 5, 4, 1) AS concert_id \gset
CREATE TABLE bench.concert AS SELECT :concert_id::bigint AS id;
CREATE TABLE bench.users (n int PRIMARY KEY, key text NOT NULL, token text);
INSERT INTO bench.users
SELECT n, (api.create_user('bench' || n)).body->>'api_key' FROM generate_series(1, :active + :waiting) n;
UPDATE bench.users SET token = (api.issue_token(key, :concert_id)).body->>'token' WHERE n <= :active;
-- Admit the first :active in one go (admitting on each join would recount them every time).
SELECT admin.set_queue(:concert_id, p_max_active => :active) AS admitted \gset
-- The waiting room: a sale-sized queue, 100 admitted at a time, :waiting behind them.
SELECT admin.create_concert('Bench queue', 'Bench hall', ARRAY[now() + interval '1 day']) AS queue_concert_id \gset
UPDATE bench.users SET token = (api.issue_token(key, :queue_concert_id)).body->>'token' WHERE n > :active;
SELECT count(api.charge_wallet(key, 10000000, NULL)) AS charged FROM bench.users WHERE n <= :active \gset
-- Holds walk through the seats in order, a user's four spread :active holds apart: no
-- two holds in flight share a seat or a user (one user's holds queue on its token).
CREATE TABLE bench.holds (n bigint PRIMARY KEY, key text, token text, on_date date, seat_no int);
INSERT INTO bench.holds
SELECT x.n, u.key, u.token, x.on_date, x.seat_no
FROM (SELECT row_number() OVER (ORDER BY d.on_date, s.seat_no) AS n, d.on_date, s.seat_no
      FROM ticket.concert_dates d JOIN ticket.seats s ON s.date_id = d.id
      WHERE d.concert_id = :concert_id) x
JOIN bench.users u ON u.n = (x.n - 1) % :active + 1
WHERE x.n <= 4 * :active;
CREATE SEQUENCE bench.next_hold;
-- One round trip per hold: the next prepared hold, then api.hold_seat.
CREATE FUNCTION bench.hold_next() RETURNS SETOF api.reply LANGUAGE sql AS $$
  SELECT r.* FROM bench.holds h,
    LATERAL api.hold_seat(h.key, h.token, (SELECT id FROM bench.concert), h.on_date, ARRAY[h.seat_no]) r
  WHERE h.n = (SELECT nextval('bench.next_hold'))
$$;
VACUUM ANALYZE;

-- Between runs: every seat free again, holds start from the first prepared one.
CREATE FUNCTION bench.reset_holds() RETURNS void LANGUAGE sql AS $$
  UPDATE ticket.seats SET reservation_id = NULL, held_until = NULL WHERE reservation_id IS NOT NULL;
  DELETE FROM ticket.reservation_seats;
  DELETE FROM ticket.reservations;
  SELECT setval('bench.next_hold', 1, false);
$$;
