-- Users and wallets (docs/api.md wallet endpoints, Idempotency-Key in "Credentials"; plpgsql/30_wallet.sql).
BEGIN;
SELECT plan(57);
\ir fixtures.psql


-- create_user
SELECT status AS s, body AS u FROM api.create_user('alice') \gset
SELECT :'u'::json->>'api_key' AS a \gset
SELECT is(:s, 201, 'create_user: 201 Created');
SELECT is((SELECT array_agg(k ORDER BY k) FROM json_object_keys(:'u'::json) k), ARRAY['api_key', 'name', 'user_id'],
  'create_user: the body has user_id, name and api_key');
SELECT is(:'u'::json->>'name', 'alice', 'create_user: the body echoes the name');
SELECT is((:'u'::json->>'user_id')::bigint, pg_temp.user_id(:'a'), 'create_user: user_id is the user the key belongs to');
SELECT is((SELECT balance FROM ticket.wallets WHERE user_id = pg_temp.user_id(:'a')), 0::bigint,
  'create_user: the user gets a wallet with balance 0');
SELECT throws_ok($$SELECT api.create_user('')$$, 'T400A', NULL, 'create_user: an empty name is INVALID_ARGUMENT');
SELECT throws_ok(format('SELECT api.create_user(%L)', repeat('n', 65)), 'T400A', NULL,
  'create_user: a name of 65 characters is INVALID_ARGUMENT');
SELECT throws_ok($$SELECT api.create_user(NULL)$$, 'T400A', NULL, 'create_user: a NULL name is INVALID_ARGUMENT');
SELECT is((api.create_user(repeat('n', 64))).status, 201, 'create_user: a name of 64 characters is accepted');
SELECT is((api.create_user('x')).status, 201, 'create_user: a name of 1 character is accepted');
SELECT is((api.create_user(repeat('가', 64))).body->>'name', repeat('가', 64),
  'create_user: the limit counts characters, not bytes (64 Hangul syllables)');

-- get_wallet
SELECT is((api.get_wallet(:'a')).status, 200, 'get_wallet: 200');
SELECT is((api.get_wallet(:'a')).body::jsonb, '{"balance": 0}'::jsonb, 'get_wallet: {"balance": 0} for a new user');
SELECT throws_ok($$SELECT api.get_wallet('tk_not-a-key')$$, 'T401A', NULL, 'get_wallet: an unknown key is UNAUTHENTICATED');
SELECT throws_ok($$SELECT api.get_wallet(NULL)$$, 'T401A', NULL, 'get_wallet: a missing key is UNAUTHENTICATED');
SELECT throws_ok($$SELECT api.get_wallet('')$$, 'T401A', NULL, 'get_wallet: an empty key is UNAUTHENTICATED');

-- charge_wallet: range 1 .. 10,000,000
SELECT status AS s, body AS ch FROM api.charge_wallet(:'a', 1, NULL) \gset
SELECT is(:s, 200, 'charge_wallet: 200');
SELECT is((:'ch'::json->>'balance')::bigint, 1::bigint, 'charge_wallet: 1 won is the smallest charge; body has the new balance');
SELECT is((:'ch'::json->>'transaction_id')::bigint,
  (SELECT max(id) FROM ticket.ledger WHERE user_id = pg_temp.user_id(:'a')),
  'charge_wallet: transaction_id is the ledger row of the charge');
SELECT is((api.charge_wallet(:'a', 10000000, NULL)).body->>'balance', '10000001',
  'charge_wallet: 10,000,000 won is the largest charge');
SELECT throws_ok(format('SELECT api.charge_wallet(%L, 0, NULL)', :'a'), 'T400B', NULL, 'charge_wallet: 0 is INVALID_AMOUNT');
SELECT throws_ok(format('SELECT api.charge_wallet(%L, -1, NULL)', :'a'), 'T400B', NULL, 'charge_wallet: -1 is INVALID_AMOUNT');
SELECT throws_ok(format('SELECT api.charge_wallet(%L, 10000001, NULL)', :'a'), 'T400B', NULL,
  'charge_wallet: 10,000,001 is INVALID_AMOUNT');
SELECT throws_ok(format('SELECT api.charge_wallet(%L, NULL, NULL)', :'a'), 'T400B', NULL,
  'charge_wallet: a missing amount is INVALID_AMOUNT');
SELECT throws_ok($$SELECT api.charge_wallet('tk_nobody', 100, NULL)$$, 'T401A', NULL,
  'charge_wallet: an unknown key is UNAUTHENTICATED');
SELECT throws_ok($$SELECT api.charge_wallet(NULL, 100, NULL)$$, 'T401A', NULL,
  'charge_wallet: a missing key is UNAUTHENTICATED');
SELECT is((api.get_wallet(:'a')).body->>'balance', '10000001', 'charge_wallet: refused charges moved no money');
SELECT results_eq(
  format('SELECT type, amount, balance_after, reservation_id FROM ticket.ledger WHERE user_id = %s ORDER BY id',
         pg_temp.user_id(:'a')),
  $$VALUES ('CHARGE', 1::bigint, 1::bigint, NULL::bigint), ('CHARGE', 10000000, 10000001, NULL)$$,
  'ledger: one CHARGE row per charge with the balance after it');

-- Idempotency-Key on charge
SELECT (api.create_user('bob')).body->>'api_key' AS b \gset
SELECT status AS s1, body::text AS first FROM api.charge_wallet(:'b', 5000, 'charge-1') \gset
SELECT status AS s2, body::text AS again FROM api.charge_wallet(:'b', 5000, 'charge-1') \gset
SELECT is(:s2, :s1, 'idempotent charge: a replay has the first status');
SELECT is(:'again'::text, :'first'::text, 'idempotent charge: a replay has exactly the first body');
SELECT is((api.get_wallet(:'b')).body->>'balance', '5000', 'idempotent charge: the money moved once');
SELECT is((SELECT count(*) FROM ticket.ledger WHERE user_id = pg_temp.user_id(:'b')), 1::bigint,
  'idempotent charge: one ledger row for the two calls');
SELECT throws_ok(format('SELECT api.charge_wallet(%L, 6000, %L)', :'b', 'charge-1'), 'T422A', NULL,
  'idempotent charge: the same key with another amount is IDEMPOTENCY_KEY_REUSED');
SELECT is((api.charge_wallet(:'b', 5000, 'charge-2')).body->>'balance', '10000',
  'idempotent charge: another key is another charge');
SELECT throws_ok(format('SELECT api.charge_wallet(%L, 100, %L)', :'b', E'tab\there'), 'T400A', NULL,
  'idempotent charge: a key with a control character is INVALID_ARGUMENT');
SELECT throws_ok(format('SELECT api.charge_wallet(%L, 100, %L)', :'b', 'clé'), 'T400A', NULL,
  'idempotent charge: a key with a non-ASCII character is INVALID_ARGUMENT');
SELECT throws_ok(format('SELECT api.charge_wallet(%L, 100, %L)', :'b', ''), 'T400A', NULL,
  'idempotent charge: an empty key is INVALID_ARGUMENT');
SELECT throws_ok(format('SELECT api.charge_wallet(%L, 100, %L)', :'b', repeat('k', 256)), 'T400A', NULL,
  'idempotent charge: a key of 256 characters is INVALID_ARGUMENT');
SELECT is((api.charge_wallet(:'b', 100, repeat('k', 255))).status, 200,
  'idempotent charge: a key of 255 printable characters is accepted');
SELECT throws_ok(format('SELECT api.charge_wallet(%L, 0, %L)', :'b', 'charge-3'), 'T400B', NULL,
  'idempotent charge: a refused amount with a key ...');
SELECT is((api.charge_wallet(:'b', 700, 'charge-3')).body->>'balance', '10800',
  'idempotent charge: ... does not burn the key: it can be used for a valid charge afterwards');
SELECT (api.create_user('carol')).body->>'api_key' AS c \gset
SELECT is((api.charge_wallet(:'c', 9000, 'charge-1')).body->>'balance', '9000',
  'idempotent charge: keys are per user: the same key string for another user is a new charge');
SELECT is((api.get_wallet(:'b')).body->>'balance', '10800', 'idempotent charge: ... and does not touch the first user');
INSERT INTO ticket.idempotency_keys (user_id, key, request) VALUES (pg_temp.user_id(:'c'), 'in-flight', 'charge 100');
SELECT throws_ok(format('SELECT api.charge_wallet(%L, 100, %L)', :'c', 'in-flight'), 'T409D', NULL,
  'idempotent charge: a key whose first request has no answer yet is IDEMPOTENCY_IN_PROGRESS');

-- list_transactions
SELECT (api.create_user('dave')).body->>'api_key' AS d \gset
SELECT is((api.list_transactions(:'d', NULL, NULL)).body::jsonb, '{"transactions": []}'::jsonb,
  'list_transactions: a new user has an empty list');
SELECT count(*) FROM (SELECT api.charge_wallet(:'d', n, NULL) FROM generate_series(1, 52) n) x \gset
SELECT status AS s, body AS l FROM api.list_transactions(:'d', NULL, NULL) \gset
SELECT is(:s, 200, 'list_transactions: 200');
SELECT is(json_array_length(:'l'::json->'transactions'), 50, 'list_transactions: the limit is 50 by default');
SELECT results_eq(
  format($$SELECT (t->>'amount')::bigint, (t->>'balance_after')::bigint, t->>'type', t->>'reservation_id'
           FROM json_array_elements(%L::json->'transactions') t$$, :'l'),
  $$SELECT n::bigint, (n * (n + 1) / 2)::bigint, 'CHARGE', NULL::text FROM generate_series(52, 3, -1) n$$,
  'list_transactions: newest first, with type CHARGE, amount, balance_after and a null reservation_id');
SELECT is((SELECT array_agg(k ORDER BY k) FROM json_object_keys(:'l'::json->'transactions'->0) k),
  ARRAY['amount', 'balance_after', 'created_at', 'id', 'reservation_id', 'type'],
  'list_transactions: each row has id, type, amount, balance_after, reservation_id, created_at');
SELECT results_eq(
  format($$SELECT (t->>'amount')::bigint FROM json_array_elements((api.list_transactions(%L, 50, %s)).body->'transactions') t$$,
         :'d', (:'l'::json->'transactions'->49->>'id')),
  $$VALUES (2::bigint), (1)$$,
  'list_transactions: before=<last id of a page> returns the older rows');
SELECT is(json_array_length((api.list_transactions(:'d', 1, NULL)).body->'transactions'), 1, 'list_transactions: limit 1');
SELECT is(json_array_length((api.list_transactions(:'d', 200, NULL)).body->'transactions'), 52,
  'list_transactions: limit 200 is allowed');
SELECT throws_ok(format('SELECT api.list_transactions(%L, 0, NULL)', :'d'), 'T400A', NULL,
  'list_transactions: limit 0 is INVALID_ARGUMENT');
SELECT throws_ok(format('SELECT api.list_transactions(%L, 201, NULL)', :'d'), 'T400A', NULL,
  'list_transactions: limit 201 is INVALID_ARGUMENT');
SELECT throws_ok($$SELECT api.list_transactions('tk_nobody', NULL, NULL)$$, 'T401A', NULL,
  'list_transactions: an unknown key is UNAUTHENTICATED');
SELECT is((SELECT count(*) FROM json_array_elements((api.list_transactions(:'a', 200, NULL)).body->'transactions')),
  2::bigint, 'list_transactions: a user sees only their own ledger');
SELECT is(
  (SELECT count(*) FROM ticket.wallets w
   WHERE w.user_id IN (pg_temp.user_id(:'a'), pg_temp.user_id(:'b'), pg_temp.user_id(:'c'), pg_temp.user_id(:'d'))
     AND w.balance = (SELECT sum(amount) FROM ticket.ledger l WHERE l.user_id = w.user_id)
     AND w.balance = (SELECT balance_after FROM ticket.ledger l WHERE l.user_id = w.user_id ORDER BY id DESC LIMIT 1)),
  4::bigint, 'ledger: every balance equals its ledger sum and the last balance_after');

SELECT * FROM finish();
ROLLBACK;
