-- Growth data (psql variables from bench/run.sh): the same calls against a queue of
-- 1,000, 100,000 and 1,000,000 waiting tokens, and a catalogue of 10 and 10,000 dates.
-- In each queue concert users 1..100 hold (admitted) and users 101..1100 are the last
-- 1,000 in line, behind a crowd; polls ask for those, the costliest positions.
SELECT bench.make_crowd(999000);
SELECT bench.concert('waiting 1k', 10, 100) AS g \gset
SELECT bench.join(:g, 1, 1100);
SELECT bench.plan_holds(:g, 1, 100, 400);
SELECT bench.concert('waiting 100k', 10, 100) AS g \gset
SELECT bench.join(:g, 1, 100), bench.join(:g, 1, 99000, true), bench.join(:g, 101, 1100);
SELECT bench.plan_holds(:g, 1, 100, 400);
SELECT bench.concert('waiting 1M', 10, 100) AS g \gset
SELECT bench.join(:g, 1, 100), bench.join(:g, 1, 999000, true), bench.join(:g, 101, 1100);
SELECT bench.plan_holds(:g, 1, 100, 400);
SELECT bench.concert('dates 10k', 10000, 100) AS g \gset
SELECT bench.join(:g, 1, 1100);
SELECT bench.plan_holds(:g, 1, 100, 400);
VACUUM ANALYZE;
