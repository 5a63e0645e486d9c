\set n random(:holders + 101, :holders + :waiting)
SELECT * FROM api.queue_status((SELECT token FROM bench.tokens WHERE concert_id = :queue AND n = :n));
