-- Growth data (psql variables from bench/run.sh): the same calls against a queue of
-- 1,000, 100,000 and 1,000,000 waiting tokens, and a catalogue of 10 and 10,000 dates.
-- In each concert users 1..125 hold (admitted, 500 holds planned: every seat of 10
-- dates) and users 126..1125 are the last 1,000 in line, behind a crowd; polls ask
-- for those, the costliest positions.
SELECT bench.make_crowd(999000);
SELECT bench.concert('waiting 1k', 10, 125) AS g \gset
SELECT bench.join(:g, 1, 1125);
SELECT bench.plan_holds(:g, 1, 125, 500);
SELECT bench.concert('waiting 100k', 10, 125) AS g \gset
SELECT bench.join(:g, 1, 125), bench.join(:g, 1, 99000, true), bench.join(:g, 126, 1125);
SELECT bench.plan_holds(:g, 1, 125, 500);
SELECT bench.concert('waiting 1M', 10, 125) AS g \gset
SELECT bench.join(:g, 1, 125), bench.join(:g, 1, 999000, true), bench.join(:g, 126, 1125);
SELECT bench.plan_holds(:g, 1, 125, 500);
SELECT bench.concert('dates 10k', 10000, 125) AS g \gset
SELECT bench.join(:g, 1, 1125);
SELECT bench.plan_holds(:g, 1, 125, 500);
VACUUM ANALYZE;
