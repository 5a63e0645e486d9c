-- The nightly invariant audit (pg_cron's ticket-invariants-all: every row), on
-- everything the bench left.
SELECT count(*) FROM admin.check_invariants();
