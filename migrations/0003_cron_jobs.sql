-- pg_cron runs the clock-driven work. Its schedules are per minute; within a minute,
-- polls and payments admit the next in line themselves (see ticket.admit).
SELECT cron.schedule('ticket-tick', '* * * * *', 'SELECT admin.tick()');
SELECT cron.schedule('ticket-invariants', '* * * * *', 'SELECT admin.record_invariants()');
