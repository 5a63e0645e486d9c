-- Who may call what, re-applied with the functions. Nobody gets tables.
REVOKE ALL ON ALL ROUTINES IN SCHEMA api, admin, ticket, peer FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO ticket_web, ticket_proxy;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA peer TO ticket_proxy;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA admin TO ticket_dba;
GRANT USAGE ON TYPE api.reply TO ticket_web, ticket_proxy;
-- Every function belongs to ticket_app (no login, no superuser), so a SECURITY
-- DEFINER function runs with table rights only.
DO $$
DECLARE
  v_f regprocedure;
BEGIN
  FOR v_f IN SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname IN ('api', 'admin', 'ticket', 'peer') LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO ticket_app', v_f);
  END LOOP;
END
$$;
