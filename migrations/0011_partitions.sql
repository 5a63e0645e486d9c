-- The sharded topology (docs/scale.md): the same schema on every node, each partition
-- serving one side of it. The proxy logs in to the partitions as ticket_proxy, which may
-- call api.* like the programs, and peer.*: the steps of a call split between a
-- concert partition and a user partition, with the user the proxy has authenticated.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ticket_proxy') THEN
    CREATE ROLE ticket_proxy LOGIN;
  END IF;
END
$$;
ALTER ROLE ticket_proxy SET statement_timeout = '5s';
ALTER ROLE ticket_proxy SET lock_timeout = '3s';
COMMENT ON ROLE ticket_proxy IS
  'What the PL/Proxy proxy logs in to a partition as: EXECUTE on api.* and peer.* (docs/scale.md).';

CREATE SCHEMA peer;
COMMENT ON SCHEMA peer IS
  'The partitions'' side of routed calls: api.* for a user the proxy authenticated, and the steps of a payment.';
REVOKE ALL ON SCHEMA peer FROM PUBLIC;
GRANT USAGE ON SCHEMA api, peer TO ticket_proxy;

-- Which side of the data this node serves: all of it (one database), or one side of a
-- partitioned topology, set once by admin.become_partition.
CREATE TABLE ticket.node (
  one   boolean PRIMARY KEY DEFAULT true CHECK (one),
  side  text NOT NULL DEFAULT 'all' CHECK (side IN ('all', 'concerts', 'users'))
);
INSERT INTO ticket.node DEFAULT VALUES;
COMMENT ON TABLE ticket.node IS
  'One row: the side of the data this node serves (all on one database; concerts or users on a partition).';
