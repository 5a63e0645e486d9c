-- The concert's status is worked out from its rows (ticket.status_of(concerts, queues))
-- and its JSON read by ticket.concert_bodies alone: the functions these replaced go.
DROP FUNCTION IF EXISTS ticket.status_of(boolean, timestamptz, int, timestamptz, boolean);
DROP FUNCTION IF EXISTS ticket.concert_body(bigint);
