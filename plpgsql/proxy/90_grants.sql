-- Who may call what on the proxy, re-applied with the functions. The partitions check
-- again: a routed call logs in there as its caller's role.
REVOKE ALL ON ALL ROUTINES IN SCHEMA api, admin, route FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO ticket_web;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA route TO ticket_web, ticket_dba;
REVOKE EXECUTE ON FUNCTION route.create_concert(int, text, text, timestamptz[], int, bigint[], int, int, int, int, int, timestamptz, int)
  FROM ticket_web;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA admin TO ticket_dba;
