\set n random(101, 1100)
SELECT * FROM api.queue_status((SELECT token FROM bench.tokens WHERE concert_id = :queue AND n = :n));
