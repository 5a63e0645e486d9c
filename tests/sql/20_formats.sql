-- The shapes of API keys, queue tokens, entry ids, idempotency keys and references
-- (ticket.key_user_id, ticket.token_ids, the format CHECKs of migration 0014). They are
-- tested without counted repetitions, which cost PostgreSQL's regex engine tens of µs a
-- call; each must accept exactly the strings of the counted pattern it replaced,
-- checked here on strings at and around every boundary.
BEGIN;
SELECT plan(11);
\ir fixtures.psql

-- Strings around the boundaries: lengths either side of each limit, leading zeros,
-- a character outside the set, a missing or extra part, multibyte text.
CREATE TEMP TABLE probe (s text);
INSERT INTO probe
SELECT p || id || '.' || secret
FROM unnest(ARRAY['tk_', 'qt_', 'qt_12.', 'qt_007.', 'TK_', 'tk', 'qt_1', '']) p,
     unnest(ARRAY['1', '0', '01', '9', repeat('9', 17), '1' || repeat('0', 17), repeat('9', 18), '1' || repeat('0', 18),
                  '', 'x1', '1x', '12.3']) id,
     unnest(ARRAY[repeat('a', 43), repeat('a', 42), repeat('a', 44), repeat('Z', 42) || '-', '_' || repeat('9', 42),
                  repeat('a', 42) || '.', repeat('a', 42) || '+', repeat('a', 42) || 'é', repeat('a', 42) || ' ', '']) secret;
INSERT INTO probe VALUES (NULL), (''), ('tk_1.' || repeat('a', 43) || E'\n'), ('qt_1.2.' || repeat('a', 43) || E'\n');

SELECT is((SELECT count(*) FROM probe WHERE ticket.key_user_id(s) IS NOT NULL), 15::bigint,
  'key_user_id: the probes include keys of every good shape');
SELECT is((SELECT count(*) FROM probe
           WHERE ticket.key_user_id(s) IS DISTINCT FROM (substring(s FROM '^tk_([1-9][0-9]{0,17})\.[A-Za-z0-9_-]{43}$'))::bigint), 0::bigint,
  'key_user_id: the same user id as ^tk_([1-9][0-9]{0,17})\.[A-Za-z0-9_-]{43}$ for every probe, NULL where it does not match');
SELECT is((SELECT count(*) FROM probe WHERE ticket.token_ids(s) IS NOT NULL), 48::bigint,
  'token_ids: the probes include tokens of every good shape');
SELECT is((SELECT count(*) FROM probe, regexp_match(s, '^qt_([0-9]{1,18})\.([0-9]{1,18})\.[A-Za-z0-9_-]{43}$') m
           WHERE ticket.token_ids(s) IS DISTINCT FROM m::bigint[]), 0::bigint,
  'token_ids: the same concert and token ids as ^qt_([0-9]{1,18})\.([0-9]{1,18})\.[A-Za-z0-9_-]{43}$ for every probe');

-- A CHECK's expression evaluated on a value, read from the catalogue.
CREATE FUNCTION pg_temp.check_passes(p_constraint text, p_column text, p_value text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_ok boolean;
BEGIN
  EXECUTE format('SELECT %s FROM (SELECT $1 AS %I) x',
                 (SELECT substring(pg_get_constraintdef(oid) FROM '^CHECK (.*)$') FROM pg_constraint WHERE conname = p_constraint),
                 p_column)
  INTO v_ok USING p_value;
  RETURN v_ok IS NOT FALSE;
END
$$;
-- queue_tokens' rules are one function (migration 0015): an entry id in a good row.
CREATE FUNCTION pg_temp.entry_id_passes(p_entry_id text) RETURNS boolean LANGUAGE sql AS $$
  SELECT ticket.queue_token_valid('WAITING', 1, NULL, NULL, NULL, p_entry_id, '\x00112233445566778899aabbccddeeff', sha256('a')) IS NOT FALSE
$$;
INSERT INTO probe
SELECT left(repeat(c, n), n) FROM unnest(ARRAY['a', 'A-z_09', ' ~!', 'é', E'\t', '.']) c, unnest(ARRAY[0, 1, 15, 16, 17, 99, 100, 101, 254, 255, 256]) n;

SELECT is((SELECT count(*) FROM probe
           WHERE pg_temp.check_passes('idempotency_keys_key_check', 'key', s) IS DISTINCT FROM coalesce(s ~ '^[ -~]{1,255}$', true)), 0::bigint,
  'idempotency_keys: a key passes exactly when it matches ^[ -~]{1,255}$');
-- ticket.idempotency_begin refuses a key the CHECK would, with a clear error first.
CREATE FUNCTION pg_temp.key_refused(p_user bigint, p_key text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ticket.idempotency_begin(p_user, p_key, 'probe');
  RETURN false;
EXCEPTION WHEN SQLSTATE 'T400A' THEN
  RETURN true;
END
$$;
SELECT pg_temp.user_id(pg_temp.new_user('formats')) AS u \gset
SELECT is((SELECT count(*) FROM (SELECT DISTINCT s FROM probe WHERE s IS NOT NULL) p
           WHERE pg_temp.key_refused(:u, s) IS DISTINCT FROM s !~ '^[ -~]{1,255}$'), 0::bigint,
  'idempotency_begin: a key is refused exactly when it does not match ^[ -~]{1,255}$');
SELECT is((SELECT count(*) FROM probe, unnest(ARRAY['debits_ref_check', 'credits_ref_check', 'refunds_ref_check']) c
           WHERE pg_temp.check_passes(c, 'ref', s) IS DISTINCT FROM coalesce(s ~ '^[ -~]{1,100}$', true)), 0::bigint,
  'debits, credits, refunds: a reference passes exactly when it matches ^[ -~]{1,100}$');
SELECT is((SELECT count(*) FROM probe
           WHERE pg_temp.entry_id_passes(s) IS DISTINCT FROM coalesce(s ~ '^[A-Za-z0-9_-]{16}$', true)), 0::bigint,
  'queue_tokens: an entry id passes exactly when it matches ^[A-Za-z0-9_-]{16}$');
SELECT ok((SELECT count(DISTINCT pg_temp.check_passes('idempotency_keys_key_check', 'key', s)) = 2
               AND count(DISTINCT pg_temp.check_passes('debits_ref_check', 'ref', s)) = 2
               AND count(DISTINCT pg_temp.entry_id_passes(s)) = 2 FROM probe),
  'the probes include values each check accepts and values it refuses');

-- No counted repetition left where it costs: in a CHECK, or in a function of the service.
SELECT is((SELECT array_agg(conname ORDER BY conname) FROM pg_constraint
           WHERE contype = 'c' AND pg_get_constraintdef(oid) ~ '~\*? ''[^'']*[{][0-9]'), NULL,
  'no CHECK matches a pattern with a counted repetition');
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname IN ('api', 'ticket', 'admin', 'peer') AND p.prosrc ~ '(~|regexp_[a-z]+\(|FROM) *''[^'']*[{][0-9]'), NULL,
  'no function of the service matches a pattern with a counted repetition');

SELECT * FROM finish();
ROLLBACK;
