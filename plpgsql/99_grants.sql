-- Who may call what, re-applied with the functions. Nobody gets tables.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA api, admin, ticket FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO ticket_web;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA admin TO ticket_dba;
GRANT USAGE ON TYPE api.reply TO ticket_web;
