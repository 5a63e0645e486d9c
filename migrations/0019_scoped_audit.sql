-- The minute's invariant audit looks at the concerts and users whose rows can have
-- changed in the last day; the whole history is audited nightly, at 04:17 in Seoul
-- (19:17 UTC, pg_cron's clock), when no sale runs. admin.check_invariants() without an
-- argument stays the full audit (plpgsql/80_admin.sql).
DROP FUNCTION IF EXISTS admin.check_invariants();
DROP FUNCTION IF EXISTS admin.record_invariants();
SELECT cron.schedule('ticket-invariants', '* * * * *', $$SELECT admin.record_invariants(now() - interval '1 day')$$);
SELECT cron.schedule('ticket-invariants-all', '17 19 * * *', 'SELECT admin.record_invariants()');
-- Its parts reach the reservations of the concerts it looks at by this index.
CREATE INDEX reservations_by_concert ON ticket.reservations (concert_id);
