-- The proxy's api.* run as ticket_router, whose user mapping logs in to the partitions
-- as ticket_proxy: the one login a partition trusts to vouch for a user it authenticated
-- on another partition (plpgsql/90_peer.sql). The programs' ticket_web may call api.*
-- only, never route.* (which take a user id on trust).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ticket_router') THEN
    CREATE ROLE ticket_router NOLOGIN;
  END IF;
END
$$;
COMMENT ON ROLE ticket_router IS 'Owns the proxy''s api.* (SECURITY DEFINER): calls route.*, reaches the partitions as ticket_proxy.';
GRANT USAGE ON SCHEMA api, route TO ticket_router;
GRANT USAGE ON SEQUENCE route.next_user_partition TO ticket_router;
REVOKE USAGE ON SCHEMA route FROM ticket_web;
REVOKE USAGE ON SEQUENCE route.next_user_partition FROM ticket_web;

-- A payment whose steps were cut off (a node or the proxy went away) is finished or
-- undone by the proxy, which alone sees both sides.
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT cron.schedule('ticket-recover-payments', '* * * * *', 'SELECT admin.recover_payments()');
