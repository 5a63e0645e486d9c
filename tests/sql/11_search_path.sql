-- Security model: SECURITY DEFINER functions must not run code of their caller with the
-- owner's rights. A search_path that does not name pg_temp searches the caller's temporary
-- schema FIRST for types (PostgreSQL docs, "Writing SECURITY DEFINER Functions Safely"),
-- so a caller who may create temporary objects could shadow a type such as text with a
-- domain whose CHECK calls the caller's own function. Both doors are closed: definers
-- pin pg_temp last, and the web role may not create temporary objects at all.
BEGIN;
SELECT plan(3);

SELECT is(
  (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
   WHERE p.pronamespace IN ('api'::regnamespace, 'admin'::regnamespace) AND p.prosecdef
     AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) s WHERE s ~ '^search_path=.*pg_temp$')),
  NULL, 'every api.* and admin.* definer searches pg_temp last (lists those that do not)');
SELECT ok(NOT has_database_privilege('ticket_web', current_database(), 'TEMPORARY'),
  'ticket_web has no TEMPORARY privilege on the database');

-- The attempt, as the web role: the first step, a temporary domain shadowing text, fails.
SET ROLE ticket_web;
SELECT throws_ok($$CREATE DOMAIN pg_temp.text AS pg_catalog.text CHECK (VALUE IS NOT NULL)$$,
  '42501', NULL, 'ticket_web cannot create a temporary type to plant in a definer''s way');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
