-- The lines of make bench TOPOLOGY=sharded, joined through the API (after
-- sharded_setup.sql). psql variables:
--   line      users in line for the poll concert: user 1 admitted (max_active 1),
--             2..:line WAITING, the last one farthest back
--   admitted  users admitted to the seats concert (its seat maps)
--   pays      users admitted to the pay concert, each with a seat of its own to hold
SET client_min_messages = warning;
-- The poll concert's line, joined in order: user 1 admitted, 2.. :line waiting.
INSERT INTO bench.tokens
SELECT 'poll', n, bench.must(api.issue_token(key, (SELECT id FROM bench.concerts WHERE name = 'poll')),
                             201, 'issue_token')->>'token'
FROM bench.users WHERE n <= :line ORDER BY n;
INSERT INTO bench.tokens
SELECT 'seats', n, bench.must(api.issue_token(key, (SELECT id FROM bench.concerts WHERE name = 'seats')),
                              201, 'issue_token')->>'token'
FROM bench.users WHERE n <= :admitted ORDER BY n;
-- The seats concert's date, as its users see it.
CREATE TABLE bench.seat_date AS
SELECT (bench.must(api.available_dates(u.key, t.token, c.id), 200, 'available_dates')->'dates'->0->>'date')::date AS on_date
FROM bench.users u JOIN bench.tokens t ON t.concert = 'seats' AND t.n = u.n, bench.concerts c
WHERE u.n = 1 AND c.name = 'seats';

-- The pay concert: users 1..:pays admitted, user n to hold seat (n - 1) % 50 + 1 of
-- its ((n - 1) / 50 + 1)th date, then pay it (bench/sql/sharded/pay.sql).
INSERT INTO bench.tokens
SELECT 'pay', n, bench.must(api.issue_token(key, (SELECT id FROM bench.concerts WHERE name = 'pay')),
                            201, 'issue_token')->>'token'
FROM bench.users WHERE n <= :pays ORDER BY n;
CREATE TABLE bench.pay_plan AS
WITH d AS (
  SELECT (x.value->>'date')::date AS on_date, x.i
  FROM bench.users u JOIN bench.tokens t ON t.concert = 'pay' AND t.n = u.n, bench.concerts c,
       json_array_elements(bench.must(api.available_dates(u.key, t.token, c.id), 200, 'available_dates')->'dates')
         WITH ORDINALITY x(value, i)
  WHERE u.n = 1 AND c.name = 'pay')
SELECT u.n, u.key, t.token, d.on_date, (u.n - 1) % 50 + 1 AS seat_no
FROM bench.users u JOIN bench.tokens t ON t.concert = 'pay' AND t.n = u.n JOIN d ON d.i = (u.n - 1) / 50 + 1;
