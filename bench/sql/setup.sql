-- The sale-sized data set of the main table (psql variables from bench/run.sh):
--   hold   :dates dates of 50 seats; users 1..:holders admitted, up to 4 seats each;
--          seat maps and holds
--   queue  users :holders+1..:holders+:waiting in line, 100 admitted, polls
--   join   a full room (100 of the crowd) that users 1.. join in order, emptied between runs
--   pay    every user in line, 200 admitted; each pays one hold (made in bulk
--          before a run), which ends the turn and admits the next, as in a sale
-- Every user has 10,000,000 won to spend.
\set users :holders + :waiting
SELECT bench.make_users(:users, 10000000);

SELECT bench.concert('hold', :dates, :holders) AS hold \gset
SELECT bench.join(:hold, 1, :holders);
SELECT bench.plan_holds(:hold, 1, :holders, 4 * :holders);
CREATE TABLE bench.dates AS
  SELECT row_number() OVER (ORDER BY on_date) AS n, on_date FROM ticket.concert_dates WHERE concert_id = :hold;

SELECT bench.concert('queue', 1, 100) AS queue \gset
SELECT bench.join(:queue, :holders + 1, :users);

SELECT bench.concert('join', 1, 100);
SELECT bench.make_crowd(100);  -- who fill the join concert's room (bench.reset_joins)

SELECT bench.concert('pay', ceil(:users / 50.0)::int, 200, 1) AS pay \gset
SELECT bench.join(:pay, 1, :users);
SELECT bench.plan_holds(:pay, 1, :users, :users);
VACUUM ANALYZE;
