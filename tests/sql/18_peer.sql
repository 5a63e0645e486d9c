-- What a partition trusts from the proxy (plpgsql/90_peer.sql, docs/scale.md): a key is
-- taken as its user's without a lookup only on a concert partition, in a session logged
-- in as ticket_proxy, for the very user the proxy vouched for in the transaction; anyone
-- else, a vouch for another user, or a user partition looks the key up and refuses a
-- forged one. peer.* is ticket_proxy's alone.
BEGIN;
SELECT plan(23);
\ir fixtures.psql

SELECT admin.create_concert('Peer', 'Hall', ARRAY[now() + interval '7 days'], 4) AS cid \gset
SELECT pg_temp.new_user('alice') AS alice \gset
SELECT pg_temp.user_id(:'alice') AS alice_id \gset
-- A key of alice's shape whose secret is wrong: only a vouch could make it pass.
SELECT format('tk_%s.%s', :alice_id, repeat('A', 43)) AS forged \gset
SELECT pg_temp.new_user('bob') AS bob \gset
SELECT pg_temp.user_id(:'bob') AS bob_id \gset

SELECT functions_are('peer', ARRAY['authenticate', 'issue_token', 'available_dates', 'seat_map', 'hold_seat',
                                   'get_reservation', 'cancel_reservation', 'pay_begin', 'idempotency_reclaim', 'idempotency_end',
                                   'pay_reserve', 'debit', 'pay_confirm', 'pay_release', 'paying', 'abort_debit',
                                   'payments', 'debits', 'check_invariants', 'refund_begin', 'refund_of', 'refund_reserve',
                                   'credit', 'refund_confirm', 'refunds_pending', 'refunds', 'credits',
                                   'standby_seat_map', 'standby_queue_status', 'token_known'],
  'schema peer has exactly the partitions'' side of routed calls');
SELECT is(
  (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
   WHERE p.pronamespace = 'peer'::regnamespace
     AND (has_function_privilege('ticket_web', p.oid, 'EXECUTE') OR NOT has_function_privilege('ticket_proxy', p.oid, 'EXECUTE')
          OR NOT p.prosecdef OR p.proowner <> 'ticket_app'::regrole)),
  NULL, 'every peer.* is a definer of ticket_app that ticket_proxy may execute and ticket_web may not');
SELECT is(has_function_privilege('ticket_web', 'ticket.vouch(bigint)', 'EXECUTE'), false,
  'ticket_web cannot call ticket.vouch');

-- The programs' login: setting the variable by hand vouches for nobody.
SET SESSION AUTHORIZATION ticket_web;
SELECT set_config('ticket.vouched_user', :'alice_id', true);
SELECT throws_ok(format('SELECT api.get_wallet(%L)', :'forged'), 'T401A', 'missing or unknown API key',
  'ticket_web: a forged key stays unknown though ticket.vouched_user names its user');
SELECT throws_ok(format('SELECT peer.issue_token(%s, %L, %s)', :alice_id, :'forged', :cid), '42501', NULL,
  'ticket_web: peer.* is refused');
RESET SESSION AUTHORIZATION;

-- The proxy's login, on a concert partition (the node's side is rolled back at the end).
UPDATE ticket.node SET side = 'concerts';
SELECT set_config('ticket.vouched_user', '', true);
SET SESSION AUTHORIZATION ticket_proxy;
SELECT throws_ok(format('SELECT api.issue_token(%L, %s)', :'forged', :cid), 'T401A', 'missing or unknown API key',
  'ticket_proxy: without a vouch, a forged key is unknown');
SELECT throws_ok(format('SELECT peer.issue_token(%s, %L, %s)', :bob_id, :'forged', :cid), 'T401A', 'missing or unknown API key',
  'ticket_proxy: a vouch for bob does not authenticate a key of alice''s');
SELECT is((peer.issue_token(:alice_id, :'forged', :cid)).status, 201,
  'ticket_proxy: vouched for alice, her key is hers without a lookup (the proxy checked it on her partition)');
SELECT is((peer.issue_token(:alice_id, :'forged', :cid)).status, 200,
  '... and joining again answers her live token');
RESET SESSION AUTHORIZATION;
-- The user's side is where keys are looked up: a vouch counts for nothing there.
UPDATE ticket.node SET side = 'users';
SET SESSION AUTHORIZATION ticket_proxy;
SELECT is(peer.authenticate(:'bob'), :bob_id::bigint, 'peer.authenticate on a user partition: the user of a real key');
SELECT throws_ok(format('SELECT peer.authenticate(%L)', :'forged'), 'T401A', 'missing or unknown API key',
  'peer.authenticate on a user partition: a forged key is refused though its user was vouched for');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT count(*) FROM ticket.queue_tokens WHERE concert_id = :cid AND user_id = :alice_id), 1::bigint,
  'one token for alice, made through the vouch');

-- A gated call with no vouch, on a concert partition: the token proves the key it was
-- issued under (here the forged one, which the proxy vouched for at the join).
UPDATE ticket.node SET side = 'concerts';
SET SESSION AUTHORIZATION ticket_proxy;
SELECT (peer.issue_token(:alice_id, :'forged', :cid)).body->>'token' AS atok \gset
SELECT set_config('ticket.vouched_user', '', true);
SELECT is((peer.available_dates(NULL, :'forged', :'atok', :cid)).status, 200,
  'no vouch: alice''s token proves the key it was issued under, and the gate lets her through');
SELECT throws_ok(format('SELECT peer.available_dates(NULL, %L, %L, %s)', :'alice', :'atok', :cid), 'TKP01', NULL,
  'no vouch: another key naming alice is not proven by her token: the proxy asks her partition');
SELECT throws_ok(format('SELECT peer.seat_map(NULL, %L, %L, %s, %L)', :'bob', :'atok', :cid, current_date), 'TKP01', NULL,
  'no vouch: bob''s key with alice''s token is not proven (the 403 is the user partition''s way)');
SELECT throws_ok(format('SELECT peer.hold_seat(NULL, %L, %L, %s, %L, ARRAY[1])', :'forged', regexp_replace(:'atok', '.$', '_'), :cid,
                        current_date), 'TKP01', NULL,
  'no vouch: an altered token proves nothing, and nothing is held');
SELECT throws_ok(format('SELECT peer.available_dates(NULL, %L, %L, %s)', 'tk_malformed', :'atok', :cid), 'TKP01', NULL,
  'no vouch: a key naming no user is not proven either (a NULL vouch, as in a new session, is no vouch)');
RESET SESSION AUTHORIZATION;

-- A claim its request left unanswered is given up to a retry only a minute on.
RESET SESSION AUTHORIZATION;
SELECT ticket.idempotency_begin(:alice_id, 'cut', 'pay reservation 1');
SELECT is(peer.idempotency_reclaim(:alice_id, 'cut'), false, 'idempotency_reclaim: a claim made just now may still be running');
UPDATE ticket.idempotency_keys SET created_at = now() - interval '61 seconds' WHERE user_id = :alice_id AND key = 'cut';
SELECT is(peer.idempotency_reclaim(:alice_id, 'cut'), true, '... a minute old, its request is over: the retry takes it over');
SELECT is(peer.idempotency_reclaim(:alice_id, 'cut'), false, '... then it is the retry''s, which may be running');
UPDATE ticket.idempotency_keys SET created_at = now() - interval '61 seconds', status = 200, body = '{}'
WHERE user_id = :alice_id AND key = 'cut';
SELECT is(peer.idempotency_reclaim(:alice_id, 'cut'), false, '... an answered key is never taken over: it replays');

-- A concert partition: a ledger row's id is its user partition's, unique only with its user.
UPDATE ticket.node SET side = 'all';
SELECT ticket.become_partition('concerts');
SELECT is((SELECT array_agg(conname::text ORDER BY conname) FROM pg_constraint
           WHERE conrelid IN ('ticket.payments'::regclass, 'ticket.refunds'::regclass)
             AND contype IN ('u', 'f') AND conname ~ 'ledger|user_id'),
          ARRAY['payments_user_ledger_key'],
  'become_partition(concerts): no key to the other side; a payment''s ledger row is unique with its user, a refund''s not at all');
SELECT is(ticket.node_side(), 'concerts', 'become_partition(concerts): the node says which side it serves');

SELECT * FROM finish();
ROLLBACK;
