-- The minute's invariant audit (pg_cron's ticket-invariants: what changed in the last
-- day), on everything the bench left.
SELECT count(*) FROM admin.check_invariants(now() - interval '1 day');
