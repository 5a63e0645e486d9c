\set n random(126, 1125)
SELECT * FROM api.queue_status((SELECT token FROM bench.tokens WHERE concert_id = :queue AND n = :n));
