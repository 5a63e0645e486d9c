\set n random(2, :line)
SELECT * FROM api.queue_status((SELECT token FROM bench.tokens WHERE concert = 'poll' AND n = :n));
