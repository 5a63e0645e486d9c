-- A standby's refusal of a read is a reply without a status, not an error (TSB01): a
-- remote error cost the proxy half a millisecond more than a row. ticket.ask_primary
-- returns that reply now; the check that raised goes (plpgsql/92_standby.sql).
DROP FUNCTION IF EXISTS ticket.ask_primary(text);
DROP FUNCTION IF EXISTS ticket.check_standby_lag(interval);

-- A refund's Idempotency-Key whose first request was cut off after its first step is
-- finished by a retry: peer.refund_begin says the claim is in progress instead of
-- raising 409, and the proxy looks for the refund (plpgsql/90_peer.sql).
DROP FUNCTION IF EXISTS peer.refund_begin(text, text, bigint);
