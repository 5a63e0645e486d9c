-- admin.queue_report reads `joined` of the concerts at rest from their rows itself
-- (plpgsql/80_admin.sql): the per-concert helper it called goes.
DROP FUNCTION IF EXISTS ticket.queue_joined_for_report(bigint);
