-- The minute's invariant audit (pg_cron's ticket-invariants), on everything the bench left.
SELECT count(*) FROM admin.check_invariants();
