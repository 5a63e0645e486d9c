-- The proxy database of the sharded topology (docs/scale.md): no tables, only
-- functions that route each api.* call to a partition with PL/Proxy. Its roles
-- are those of the partitions (each node is a cluster of its own).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ticket_web') THEN
    CREATE ROLE ticket_web LOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ticket_dba') THEN
    CREATE ROLE ticket_dba NOLOGIN;
  END IF;
END
$$;
-- As on one database: an overloaded proxy or partition answers 503 quickly.
ALTER ROLE ticket_web SET statement_timeout = '5s';
-- PL/Proxy says NOTICE each time it drops a partition's connection after a remote
-- error (an everyday 4xx): the programs would log every one.
ALTER ROLE ticket_web SET client_min_messages = warning;
COMMENT ON ROLE ticket_web IS 'What the HTTP programs log in as: EXECUTE on api.* and nothing else.';
COMMENT ON ROLE ticket_dba IS 'Operators: EXECUTE on admin.*; grant it to a DBA''s login role.';

CREATE EXTENSION IF NOT EXISTS plproxy;   -- also the foreign data wrapper plproxy

CREATE SCHEMA api;
CREATE SCHEMA admin;
CREATE SCHEMA route;
COMMENT ON SCHEMA api IS 'Today''s api.* signatures, each routed to the partition that holds its data.';
COMMENT ON SCHEMA admin IS 'Operators: concerts created on their partition, the clusters'' partitions.';
COMMENT ON SCHEMA route IS 'The routing: slots of keys and ids, the PL/Proxy calls, remote errors mapped back.';
REVOKE ALL ON SCHEMA api, admin, route FROM PUBLIC;
GRANT USAGE ON SCHEMA api, route TO ticket_web;
GRANT USAGE ON SCHEMA admin, route TO ticket_dba;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
DO $$ BEGIN EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database()); END $$;

CREATE TYPE api.reply AS (
  status      int,   -- HTTP status to send
  body        json,  -- JSON body (NULL for 204)
  retry_after int    -- seconds for a Retry-After header, or NULL
);
COMMENT ON TYPE api.reply IS 'What every api.* function returns: the HTTP status, body and Retry-After (as on the partitions).';
GRANT USAGE ON TYPE api.reply TO ticket_web;

-- New users and concerts go to the partitions in turn; the partition gives the id,
-- which falls in its slots (docs/scale.md).
CREATE SEQUENCE route.next_user_partition;
CREATE SEQUENCE route.next_concert_partition;
GRANT USAGE ON SEQUENCE route.next_user_partition TO ticket_web;
GRANT USAGE ON SEQUENCE route.next_concert_partition TO ticket_dba;
