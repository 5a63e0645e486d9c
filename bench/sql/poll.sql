\set n random(:active + 101, :active + :waiting)
SELECT * FROM api.queue_status((SELECT token FROM bench.users WHERE n = :n));
