-- Roles, extensions and schemas. Roles are cluster-wide, so they are created only
-- when missing: several databases (run, test) may share one cluster.
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
-- An overloaded database answers 503 quickly instead of letting requests pile up;
-- set on the role so it holds through pgbouncer's transaction pooling too.
ALTER ROLE ticket_web SET statement_timeout = '5s';
ALTER ROLE ticket_web SET lock_timeout = '3s';
COMMENT ON ROLE ticket_web IS 'What the HTTP programs log in as: EXECUTE on api.* and nothing else.';
COMMENT ON ROLE ticket_dba IS 'Operators: EXECUTE on admin.*; grant it to a DBA''s login role.';

CREATE EXTENSION IF NOT EXISTS pgcrypto;   -- gen_random_bytes, hmac, digest
CREATE EXTENSION IF NOT EXISTS btree_gist; -- seat_id = in the hold exclusion constraint
CREATE EXTENSION IF NOT EXISTS pg_cron;

CREATE SCHEMA IF NOT EXISTS ticket;
CREATE SCHEMA api;
CREATE SCHEMA admin;
COMMENT ON SCHEMA ticket IS 'Private tables; reachable only through api.* and admin.* functions.';
COMMENT ON SCHEMA api IS 'One function per HTTP operation; SECURITY DEFINER; callable by ticket_web.';
COMMENT ON SCHEMA admin IS 'Functions for DBAs and pg_cron: concerts, queue settings, books, tick.';

-- Nobody but the owner reaches the tables; ticket_web reaches only api, ticket_dba only admin.
REVOKE ALL ON SCHEMA ticket FROM PUBLIC;
REVOKE ALL ON SCHEMA api, admin FROM PUBLIC;
GRANT USAGE ON SCHEMA api TO ticket_web;
GRANT USAGE ON SCHEMA admin TO ticket_dba;
-- EXECUTE on functions is granted in plpgsql/99_grants.sql, re-applied with them.
-- PUBLIC may create objects in public schema on older setups; close it.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
-- No temporary objects either: with search_path pinned they are searched last, and
-- without them a caller has nothing to plant in a definer's way.
DO $$ BEGIN EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database()); END $$;
