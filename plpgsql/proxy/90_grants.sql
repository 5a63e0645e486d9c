-- Who may call what on the proxy, re-applied with the functions. The programs' role
-- calls api.* only; api.* run as ticket_router, which alone calls route.* (some take a
-- user id on trust) and reaches the partitions, as ticket_proxy. Operators' admin.*
-- run as themselves and reach the partitions as the owner.
REVOKE ALL ON ALL ROUTINES IN SCHEMA api, admin, route FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO ticket_web;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA route TO ticket_router, ticket_dba;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA admin TO ticket_dba;
DO $$
DECLARE
  v_f regprocedure;
BEGIN
  FOR v_f IN SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'api' LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO ticket_router', v_f);
  END LOOP;
END
$$;
