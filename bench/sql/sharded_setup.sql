-- The data of make bench TOPOLOGY=sharded (bench/sharded.sh), made through the API
-- alone (api.*, admin.create_concert), so that the same script loads one database and
-- the proxy alike. psql variables:
--   line, admitted  users made for sharded_line.sql
--   pays        users who each hold a seat and pay it, one at a time (the pay concert)
--   sale_users  users of each of the two sale concerts (keys for bench/programs/surge)
--   sale_dates  dates of 50 seats of each sale concert
-- Concerts are made in this order: on the proxy, in turn on the concert partitions,
-- so the two sale concerts land on different ones. Every user has 10,000,000 won.
-- Then bench/sharded.sh sets the queues of the poll and seats concerts on the node
-- that holds them (admin.set_queue is not routed) and runs sharded_line.sql.
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;
CREATE TABLE bench.users (n int PRIMARY KEY, key text NOT NULL);
CREATE TABLE bench.concerts (name text PRIMARY KEY, id bigint NOT NULL);
CREATE TABLE bench.tokens (concert text, n int, token text NOT NULL, PRIMARY KEY (concert, n));

-- Stop the load at the first answer that is not the one wanted.
CREATE FUNCTION bench.must(p_reply api.reply, p_status int, p_what text) RETURNS json
LANGUAGE plpgsql AS $$
BEGIN
  IF p_reply.status IS DISTINCT FROM p_status THEN
    RAISE EXCEPTION 'bench: % answered % %, not %', p_what, p_reply.status, p_reply.body, p_status;
  END IF;
  RETURN p_reply.body;
END
$$;

\set users :line + 2 * :sale_users
INSERT INTO bench.users
SELECT n, bench.must(api.create_user('bench' || n), 201, 'create_user')->>'api_key'
FROM generate_series(1, :users) n;
SELECT count(bench.must(api.charge_wallet(key, 10000000, 'bench-charge-' || n), 200, 'charge_wallet'))
FROM bench.users;

INSERT INTO bench.concerts
SELECT 'poll', admin.create_concert('Bench poll', 'Bench hall', ARRAY[now() + interval '1 day'], p_max_active => 1);
INSERT INTO bench.concerts
SELECT 'seats', admin.create_concert('Bench seats', 'Bench hall', ARRAY[now() + interval '1 day'],
                                     p_max_active => :admitted);
INSERT INTO bench.concerts
SELECT 'sale_a', admin.create_concert('Bench sale A', 'Bench hall',
  ARRAY(SELECT now() + make_interval(days => k) FROM generate_series(1, :sale_dates) k), p_max_active => 100);
INSERT INTO bench.concerts
SELECT 'sale_b', admin.create_concert('Bench sale B', 'Bench hall',
  ARRAY(SELECT now() + make_interval(days => k) FROM generate_series(1, :sale_dates) k), p_max_active => 100);
INSERT INTO bench.concerts
SELECT 'join', admin.create_concert('Bench join', 'Bench hall', ARRAY[now() + interval '1 day'], p_max_active => 1);
INSERT INTO bench.concerts
SELECT 'pay', admin.create_concert('Bench pay', 'Bench hall',
  ARRAY(SELECT now() + make_interval(days => k) FROM generate_series(1, ceil(:pays / 50.0)::int) k),
  p_max_active => :pays);
-- Joins walk the users in order (bench/sql/sharded/join.sql).
CREATE SEQUENCE bench.next_join;
CREATE SEQUENCE bench.next_pay;
