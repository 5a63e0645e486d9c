-- Security model (README "Database for DBAs", migrations/0001_roles_and_schemas.sql): ticket_web reaches only api.*, ticket_dba only admin.*,
-- nobody reaches the tables; api.* and admin.* are SECURITY DEFINER with a pinned
-- search_path; keys and tokens are stored only as hashes.
BEGIN;
SELECT plan(141);

-- Every place a secret could leak to: any text/json/bytea column of any ticket table
-- holding the secret's text, or (bytea) its text or its decoded random bytes (the
-- secret's last 43 characters: what follows the tk_/qt_ prefix and any routing ids).
CREATE FUNCTION pg_temp.columns_holding(p_secret text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
  v_raw  bytea := decode(translate(right(p_secret, 43), '-_', '+/')
                         || repeat('=', (4 - length(right(p_secret, 43)) % 4) % 4), 'base64');
  v_col  record;
  v_hit  boolean;
  v_hits text[] := '{}';
BEGIN
  FOR v_col IN
    SELECT table_name, column_name, data_type FROM information_schema.columns
    WHERE table_schema = 'ticket' AND data_type IN ('text', 'json', 'jsonb', 'bytea', 'character varying')
  LOOP
    IF v_col.data_type = 'bytea' THEN
      EXECUTE format('SELECT EXISTS (SELECT 1 FROM ticket.%I WHERE position($1 IN %I) > 0 OR position($2 IN %I) > 0)',
                     v_col.table_name, v_col.column_name, v_col.column_name)
        INTO v_hit USING convert_to(p_secret, 'UTF8'), v_raw;
    ELSE
      EXECUTE format('SELECT EXISTS (SELECT 1 FROM ticket.%I WHERE strpos(%I::text, $1) > 0 OR strpos(%I::text, $2) > 0)',
                     v_col.table_name, v_col.column_name, v_col.column_name)
        INTO v_hit USING p_secret, right(p_secret, 43);
    END IF;
    IF v_hit THEN
      v_hits := v_hits || (v_col.table_name || '.' || v_col.column_name);
    END IF;
  END LOOP;
  RETURN v_hits;
END
$$;

-- Schemas
SELECT schema_privs_are('ticket', 'ticket_web', ARRAY[]::text[], 'ticket_web has no privilege on schema ticket');
SELECT schema_privs_are('api', 'ticket_web', ARRAY['USAGE'], 'ticket_web may use schema api (and not create in it)');
SELECT schema_privs_are('admin', 'ticket_web', ARRAY[]::text[], 'ticket_web has no privilege on schema admin');
SELECT schema_privs_are('public', 'ticket_web', ARRAY['USAGE'],
  'ticket_web cannot create in schema public, which the definers'' search_path names');
SELECT schema_privs_are('admin', 'ticket_dba', ARRAY['USAGE'], 'ticket_dba may use schema admin');
SELECT schema_privs_are('ticket', 'ticket_dba', ARRAY[]::text[], 'ticket_dba has no privilege on schema ticket');
SELECT schema_privs_are('api', 'ticket_dba', ARRAY[]::text[], 'ticket_dba has no privilege on schema api');

-- Tables
SELECT table_privs_are('ticket', t, 'ticket_web', ARRAY[]::text[], format('ticket_web has no privilege on ticket.%s', t))
FROM unnest(ARRAY['users', 'wallets', 'ledger', 'queue_tokens', 'reservations', 'seats', 'payments', 'debits', 'idempotency_keys']) t;
SELECT is(
  (SELECT array_agg(c.relname::text ORDER BY 1) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'ticket' AND c.relkind IN ('r', 'p', 'v', 'm')
     AND CASE WHEN c.relkind IN ('r', 'p', 'v', 'm') THEN (has_table_privilege('ticket_web', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
          OR has_any_column_privilege('ticket_web', c.oid, 'SELECT, INSERT, UPDATE, REFERENCES')) END),
  NULL, 'ticket_web has no privilege on any table of schema ticket (lists those with one)');
SELECT is(
  (SELECT array_agg(c.relname::text ORDER BY 1) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'ticket'
     AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege('ticket_web', c.oid, 'USAGE, SELECT, UPDATE') END),
  NULL, 'ticket_web has no privilege on any sequence of schema ticket');
SELECT is(
  (SELECT array_agg(c.relname::text ORDER BY 1) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'ticket' AND c.relkind IN ('r', 'p', 'v', 'm')
     AND has_table_privilege('ticket_dba', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')),
  NULL, 'ticket_dba has no privilege on any table of schema ticket (admin.* functions are its way in)');

-- Functions: the exact sets, who may execute them, definer rights, pinned search_path
SELECT functions_are('api', ARRAY['create_user', 'get_wallet', 'charge_wallet', 'list_transactions', 'list_concerts',
                                  'issue_token', 'queue_status', 'leave_queue', 'available_dates', 'seat_map',
                                  'hold_seat', 'get_reservation', 'cancel_reservation', 'pay_reservation',
                                  'refund_reservation', 'get_concert', 'shuffle_proof', 'shuffle_entries',
                                  'health', 'metrics', 'note_error'],
  'schema api has exactly one function per HTTP operation (docs/sql-api.md)');
SELECT functions_are('admin', ARRAY['add_date', 'create_concert', 'set_queue', 'set_holds', 'tick', 'tick_concert',
                                    'housekeeping', 'concert_ids', 'concerts_to_tick', 'check_invariants', 'refund', 'set_refunds',
                                    'record_invariants', 'violations', 'sales_report', 'queue_report', 'books',
                                    'seed_demo', 'schedule_sale', 'open_sale', 'recover_payments',
                                    'recover_refunds'],
  'schema admin has exactly the DBA functions');
SELECT function_privs_are('api', p.proname, string_to_array(oidvectortypes(p.proargtypes), ', ')::name[],
                          'ticket_web', ARRAY['EXECUTE'], format('ticket_web can execute %s', p.oid::regprocedure))
FROM pg_proc p WHERE p.pronamespace = 'api'::regnamespace ORDER BY p.proname;
SELECT function_privs_are('admin', p.proname, string_to_array(oidvectortypes(p.proargtypes), ', ')::name[],
                          'ticket_dba', ARRAY['EXECUTE'], format('ticket_dba can execute %s', p.oid::regprocedure))
FROM pg_proc p WHERE p.pronamespace = 'admin'::regnamespace ORDER BY p.proname;
SELECT is(
  (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
   WHERE p.pronamespace IN ('admin'::regnamespace, 'ticket'::regnamespace)
     AND has_function_privilege('ticket_web', p.oid, 'EXECUTE')),
  NULL, 'ticket_web cannot execute any admin.* or ticket.* function (lists those it can)');
SELECT is(
  (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
   WHERE p.pronamespace IN ('api'::regnamespace, 'ticket'::regnamespace)
     AND has_function_privilege('ticket_dba', p.oid, 'EXECUTE')),
  NULL, 'ticket_dba cannot execute api.* or ticket.* functions');
SELECT is(
  (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p, aclexplode(p.proacl) a
   WHERE p.pronamespace IN ('api'::regnamespace, 'admin'::regnamespace, 'ticket'::regnamespace)
     AND a.grantee = 0),
  NULL, 'PUBLIC has EXECUTE on no function of api, admin or ticket');
SELECT is(
  (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
   WHERE p.pronamespace IN ('api'::regnamespace, 'admin'::regnamespace, 'ticket'::regnamespace) AND p.proacl IS NULL),
  NULL, 'no function of api, admin or ticket has the default ACL (which lets PUBLIC execute it)');
SELECT is_definer('api', p.proname, string_to_array(oidvectortypes(p.proargtypes), ', ')::name[],
                  format('%s is SECURITY DEFINER', p.oid::regprocedure))
FROM pg_proc p WHERE p.pronamespace = 'api'::regnamespace ORDER BY p.proname;
SELECT is_definer('admin', p.proname, string_to_array(oidvectortypes(p.proargtypes), ', ')::name[],
                  format('%s is SECURITY DEFINER', p.oid::regprocedure))
FROM pg_proc p WHERE p.pronamespace = 'admin'::regnamespace AND p.prokind = 'f' ORDER BY p.proname;
-- A procedure that commits may be neither SECURITY DEFINER nor SET anything: admin.tick
-- runs with its caller's rights and reaches the tables only through definer functions.
SELECT results_eq(
  $$SELECT p.oid::regprocedure::text, p.prosecdef, p.proconfig IS NULL FROM pg_proc p
    WHERE p.pronamespace IN ('api'::regnamespace, 'admin'::regnamespace, 'ticket'::regnamespace) AND p.prokind = 'p'$$,
  $$VALUES ('admin.tick()', false, true)$$,
  'the one procedure is admin.tick(), with its caller''s rights and no SET');
SELECT is(
  (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
   WHERE p.pronamespace IN ('api'::regnamespace, 'admin'::regnamespace) AND p.prokind = 'f'
     AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) s WHERE s = 'search_path=pg_catalog, public, pg_temp')),
  NULL, 'every api.* and admin.* function pins search_path = pg_catalog, public, pg_temp (lists those that do not)');
SELECT is(
  (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
   WHERE p.pronamespace = 'ticket'::regnamespace AND p.prosecdef),
  NULL, 'no ticket.* helper is SECURITY DEFINER (they run only inside api.* and admin.*)');
SELECT is(
  (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
   WHERE p.pronamespace IN ('api'::regnamespace, 'admin'::regnamespace, 'ticket'::regnamespace)
     AND p.proowner <> 'ticket_app'::regrole),
  NULL, 'every function is owned by ticket_app (lists those that are not)');
SELECT results_eq($$SELECT rolsuper, rolcanlogin, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'ticket_app'$$,
  $$VALUES (false, false, false, false)$$,
  'ticket_app, the definers'' owner, is no superuser and cannot log in, create roles or databases');
SELECT is(
  (SELECT array_agg(c.relname::text ORDER BY 1) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'ticket' AND c.relkind = 'r'
     AND NOT has_table_privilege('ticket_app', c.oid, 'SELECT, INSERT, UPDATE, DELETE')),
  NULL, 'ticket_app may read and write every table of schema ticket (lists those it may not)');
SELECT ok(NOT has_table_privilege('ticket_app', 'ticket.ledger', 'TRUNCATE'),
  'ticket_app cannot TRUNCATE or change a table''s structure');

-- Acting as ticket_web
SELECT (api.create_user('sec-owner')).body->>'api_key' AS key0 \gset
SET ROLE ticket_web;
SELECT throws_ok('SELECT * FROM ticket.users', '42501', NULL, 'ticket_web: SELECT on ticket.users is denied');
SELECT throws_ok('SELECT balance FROM ticket.wallets', '42501', NULL, 'ticket_web: SELECT on ticket.wallets is denied');
SELECT throws_ok('UPDATE ticket.wallets SET balance = 1000000', '42501', NULL, 'ticket_web: UPDATE of ticket.wallets is denied');
SELECT throws_ok('DELETE FROM ticket.ledger', '42501', NULL, 'ticket_web: DELETE from ticket.ledger is denied');
SELECT throws_ok($$SELECT ticket.post_ledger(1, 'CHARGE', 1000)$$, '42501', NULL,
  'ticket_web: calling the ticket.post_ledger helper directly is denied');
SELECT throws_ok('CALL admin.tick()', '42501', NULL, 'ticket_web: calling admin.tick() is denied');
SELECT throws_ok($$SELECT admin.create_concert('x', 'y', ARRAY[now()])$$, '42501', NULL,
  'ticket_web: calling admin.create_concert() is denied');
SELECT throws_ok('CREATE TABLE public.evil (x int)', '42501', NULL, 'ticket_web: cannot create objects in schema public');
SELECT throws_ok('CREATE FUNCTION public.sha256(bytea) RETURNS bytea LANGUAGE sql AS $f$ SELECT $1 $f$', '42501', NULL,
  'ticket_web: cannot plant a function in schema public to shadow one the definers call');
SELECT is((api.create_user('web-user')).status, 201, 'ticket_web: api.create_user works through definer rights');
SELECT is((api.get_wallet(:'key0')).body->>'balance', '0', 'ticket_web: api.get_wallet reads the wallet through definer rights');
SELECT is((api.health()).status, 200, 'ticket_web: api.health works');
RESET ROLE;
SET ROLE ticket_dba;
SELECT lives_ok('SELECT * FROM admin.books()', 'ticket_dba: admin.books() runs');
SELECT throws_ok('SELECT * FROM ticket.wallets', '42501', NULL, 'ticket_dba: SELECT on ticket.wallets is denied');
SELECT throws_ok($$SELECT api.create_user('dba')$$, '42501', NULL, 'ticket_dba: api.* is not for operators');
RESET ROLE;

-- Keys and tokens are stored only as hashes
SELECT admin.create_concert('Security test', 'Hall', ARRAY[now() + interval '7 days'], p_seats => 2) AS c \gset
SELECT body AS u FROM api.create_user('sec-user') \gset
SELECT :'u'::json->>'api_key' AS key, (:'u'::json->>'user_id')::bigint AS uid \gset
SELECT (api.charge_wallet(:'key', 1000, 'k-1')).status AS charged \gset
SELECT (api.issue_token(:'key', :c)).body->>'token' AS tok \gset
SELECT matches(:'key'::text, format('^tk_%s\.[A-Za-z0-9_-]{43}$', :uid),
  'the API key is tk_<user id>. and 256 random bits in base64url');
SELECT matches(:'tok'::text, format('^qt_%s\.[0-9]+\.[A-Za-z0-9_-]{43}$', :c),
  'the queue token is qt_, its concert, its row and 256 bits in base64url');
SELECT is((SELECT api_key_hash FROM ticket.users WHERE id = :uid), sha256(convert_to(:'key', 'UTF8')),
  'users.api_key_hash is sha256 of the API key');
SELECT is(pg_temp.columns_holding(:'key'), ARRAY[]::text[], 'the raw API key is in no column of any ticket table');
SELECT is((SELECT count(*) FROM ticket.queue_tokens WHERE user_id = :uid AND token_hash = sha256(convert_to(:'tok', 'UTF8'))),
  1::bigint, 'queue_tokens.token_hash is sha256 of the token');
SELECT is(pg_temp.columns_holding(:'tok'), ARRAY[]::text[], 'the raw queue token is in no column of any ticket table');
SELECT isnt((SELECT (api.create_user('sec-user')).body->>'api_key'), :'key'::text, 'two users get different keys (random, even with the same name)');

SELECT * FROM finish();
ROLLBACK;
