-- The queue gate (docs/api.md "Credentials"): every queue-gated function needs the user key
-- and an ACTIVE queue token of the same user and the same concert.
BEGIN;
SELECT plan(76);
\ir fixtures.psql


-- Concert c (5 turns at once), concert c2, and concert c3 whose only turn is taken.
SELECT admin.create_concert('Gate test', 'Hall', ARRAY[now() + interval '7 days'], p_seats => 10, p_max_active => 5,
                            p_max_seats_per_user => 2) AS c \gset
SELECT admin.create_concert('Gate other', 'Hall', ARRAY[now() + interval '9 days'], p_seats => 10) AS c2 \gset
SELECT admin.create_concert('Gate full', 'Hall', ARRAY[now() + interval '10 days'], p_seats => 10, p_max_active => 1) AS c3 \gset
SELECT on_date AS d FROM ticket.concert_dates WHERE concert_id = :c \gset
SELECT on_date AS d3 FROM ticket.concert_dates WHERE concert_id = :c3 \gset
SELECT pg_temp.new_user('gate-a') AS ka, pg_temp.new_user('gate-b') AS kb, pg_temp.new_user('gate-e') AS ke,
       pg_temp.new_user('gate-l') AS kl, pg_temp.new_user('gate-d') AS kd, pg_temp.new_user('gate-w') AS kw,
       pg_temp.new_user('gate-x') AS kx \gset
SELECT pg_temp.join_queue(:'ka', :c) AS ta \gset
SELECT pg_temp.join_queue(:'kb', :c) AS tb \gset
SELECT pg_temp.join_queue(:'ke', :c) AS te \gset
SELECT pg_temp.join_queue(:'kl', :c) AS tl \gset
SELECT pg_temp.join_queue(:'kd', :c) AS td \gset
SELECT pg_temp.join_queue(:'ka', :c2) AS ta2 \gset
-- e holds seat 2 and its turn runs out; l holds seat 3 and leaves; d pays seat 4 (DONE); b holds seat 6.
SELECT (api.hold_seat(:'ke', :'te', :c, :'d', '{2}')).body->>'reservation_id' AS re \gset
SELECT (api.hold_seat(:'kl', :'tl', :c, :'d', '{3}')).body->>'reservation_id' AS rl \gset
SELECT (api.hold_seat(:'kd', :'td', :c, :'d', '{4}')).body->>'reservation_id' AS rd \gset
SELECT (api.hold_seat(:'kb', :'tb', :c, :'d', '{6}')).body->>'reservation_id' AS rb \gset
SELECT (api.charge_wallet(:'kd', 1000000, NULL)).status AS ok \gset
SELECT (api.pay_reservation(:'kd', :'td', :rd, NULL)).status AS ok \gset
SELECT pg_temp.turn_runs_out(:'te');
SELECT (api.leave_queue(:'tl')).status AS ok \gset
-- w is admitted to c3 and holds seat 1; its turn runs out and x takes the slot; w joins again and WAITS.
SELECT pg_temp.join_queue(:'kw', :c3) AS tw_first \gset
SELECT (api.hold_seat(:'kw', :'tw_first', :c3, :'d3', '{1}')).body->>'reservation_id' AS rw \gset
SELECT pg_temp.turn_runs_out(:'tw_first');
SELECT pg_temp.join_queue(:'kx', :c3) AS tx \gset
SELECT pg_temp.join_queue(:'kw', :c3) AS tw \gset
SELECT is((SELECT status FROM ticket.queue_tokens WHERE token_hash = sha256(convert_to(:'tw', 'UTF8'))), 'WAITING',
  'fixture: w waits in c3 while x has the only turn');

-- The gated catalogue and hold calls, each refused the same way.
CREATE TEMP TABLE calls (fn text, tmpl text);
INSERT INTO calls VALUES
  ('available_dates', 'SELECT api.available_dates(%1$L, %2$L, %3$s)'),
  ('seat_map',        'SELECT api.seat_map(%1$L, %2$L, %3$s, %4$L)'),
  ('hold_seat',       'SELECT api.hold_seat(%1$L, %2$L, %3$s, %4$L, ''{5}'')');
CREATE TEMP TABLE cases (n int, key text, token text, concert text, on_date date, state text, rule text);
INSERT INTO cases VALUES
  (1,  NULL,        :'ta',          :'c',   :'d',  'T401A', 'a missing API key is UNAUTHENTICATED'),
  (2,  'tk_nobody', :'ta',          :'c',   :'d',  'T401A', 'an unknown API key is UNAUTHENTICATED'),
  (3,  :'ka',       NULL,           :'c',   :'d',  'T401B', 'a missing queue token is QUEUE_TOKEN_INVALID'),
  (4,  :'ka',       'qt_forged',    :'c',   :'d',  'T401B', 'an unknown queue token is QUEUE_TOKEN_INVALID'),
  (5,  :'ka',       :'tb',          :'c',   :'d',  'T403A', 'another user''s token is QUEUE_TOKEN_MISMATCH'),
  (6,  :'ka',       :'ta2',         :'c',   :'d',  'T403A', 'the user''s token for another concert is QUEUE_TOKEN_MISMATCH'),
  (7,  :'kw',       :'tw',          :'c3',  :'d3', 'T429A', 'a WAITING token is QUEUE_NOT_ADMITTED'),
  (8,  :'ke',       :'te',          :'c',   :'d',  'T401C', 'a token whose turn ran out is QUEUE_TOKEN_EXPIRED'),
  (9,  :'kl',       :'tl',          :'c',   :'d',  'T401C', 'a LEFT token is QUEUE_TOKEN_EXPIRED'),
  (10, :'kd',       :'td',          :'c',   :'d',  'T401C', 'a DONE token is QUEUE_TOKEN_EXPIRED'),
  (11, :'kw',       :'tw_first',    :'c3',  :'d3', 'T401C', 'a turn ended by the admitter (EXPIRED) is QUEUE_TOKEN_EXPIRED'),
  (12, :'ka',       :'ta',          '0',    :'d',  'T404A', 'an unknown concert is NOT_FOUND'),
  (13, :'ka',       :'ta',          'NULL', :'d',  'T404A', 'a missing concert is NOT_FOUND');
SELECT throws_ok(format(k.tmpl, c.key, c.token, c.concert, c.on_date), c.state, NULL, format('%s: %s', k.fn, c.rule))
FROM calls k CROSS JOIN cases c ORDER BY k.fn, c.n;

-- The 429's DETAIL carries retry_after for the Retry-After header
SELECT ok((e.detail::json->>'retry_after')::int BETWEEN 1 AND 30 AND (e.detail::json->>'position')::int = 1,
          format('%s: the QUEUE_NOT_ADMITTED DETAIL is JSON with retry_after (1..30 s) and the position', k.fn))
FROM calls k, pg_temp.error_of(format(k.tmpl, :'kw', :'tw', :c3, :'d3')) e ORDER BY k.fn;

-- pay_reservation: the gate is that of the reservation's concert
CREATE TEMP TABLE pay_cases (n int, key text, token text, reservation text, state text, rule text);
INSERT INTO pay_cases VALUES
  (1,  NULL,        :'tb',       :'rb', 'T401A', 'a missing API key is UNAUTHENTICATED'),
  (2,  'tk_nobody', :'tb',       :'rb', 'T401A', 'an unknown API key is UNAUTHENTICATED'),
  (3,  :'kb',       NULL,        :'rb', 'T401B', 'a missing queue token is QUEUE_TOKEN_INVALID'),
  (4,  :'kb',       'qt_forged', :'rb', 'T401B', 'an unknown queue token is QUEUE_TOKEN_INVALID'),
  (5,  :'kb',       :'ta',       :'rb', 'T403A', 'another user''s token is QUEUE_TOKEN_MISMATCH'),
  (6,  :'kw',       :'tx',       :'rw', 'T403A', 'another user''s token of the same concert is QUEUE_TOKEN_MISMATCH'),
  (7,  :'kw',       :'tw',       :'rw', 'T429A', 'paying with a WAITING token is QUEUE_NOT_ADMITTED'),
  (8,  :'ke',       :'te',       :'re', 'T401C', 'paying after the turn ran out is QUEUE_TOKEN_EXPIRED'),
  (9,  :'kl',       :'tl',       :'rl', 'T409C', 'paying after leaving the queue is RESERVATION_NOT_HELD (leaving released the hold)'),
  (10, :'kd',       :'td',       :'rd', 'T409C', 'paying again for a paid reservation is RESERVATION_NOT_HELD, never back to the queue'),
  (11, :'kb',       :'tb',       '0',   'T404A', 'an unknown reservation is NOT_FOUND'),
  (12, :'ka',       :'ta',       :'rb', 'T404A', 'another user''s reservation is NOT_FOUND');
SELECT count(*) AS ok FROM (SELECT api.charge_wallet(k, 1000000, NULL) FROM unnest(ARRAY[:'ka', :'kb', :'ke', :'kl', :'kw']) k) x \gset
SELECT throws_ok(format('SELECT api.pay_reservation(%L, %L, %s, NULL)', key, token, reservation), state, NULL,
                 format('pay_reservation: %s', rule))
FROM pay_cases ORDER BY n;
SELECT ok((e.detail::json->>'retry_after')::int BETWEEN 1 AND 30,
  'pay_reservation: the QUEUE_NOT_ADMITTED DETAIL has retry_after')
FROM pg_temp.error_of(format('SELECT api.pay_reservation(%L, %L, %s, NULL)', :'kw', :'tw', :rw)) e;
SELECT is((SELECT sum(balance) FROM ticket.wallets w JOIN ticket.users u ON u.id = w.user_id WHERE u.name IN ('gate-a', 'gate-b', 'gate-e', 'gate-l', 'gate-w')),
  5000000::numeric, 'pay_reservation: no refused payment moved money');

-- get_reservation and cancel_reservation pass the gate while the reservation is HELD and
-- the user's turn is live; once the turn has ended the hold cannot be paid any more, and
-- the key alone opens and releases it, whatever token comes along.
SELECT throws_ok(format('SELECT api.get_reservation(%L, NULL, %s)', :'kb', :rb), 'T401B', NULL,
  'get_reservation: a HELD reservation needs the queue token');
SELECT throws_ok(format('SELECT api.get_reservation(%L, %L, %s)', :'ka', :'ta2', :rb), 'T404A', NULL,
  'get_reservation: another user''s reservation is NOT_FOUND, whatever the token');
SELECT throws_ok(format('SELECT api.get_reservation(%L, %L, %s)', :'kb', :'ta', :rb), 'T403A', NULL,
  'get_reservation: another user''s token is QUEUE_TOKEN_MISMATCH');
SELECT is((api.get_reservation(:'kw', :'tw', :rw)).body->>'status', 'HELD',
  'get_reservation: a hold whose turn ran out opens with the key, whatever token comes along (a WAITING one)');
SELECT is((api.get_reservation(:'kl', NULL, :rl)).body->>'status', 'CANCELLED',
  'get_reservation: leaving the queue released the hold, which the key alone opens');
SELECT throws_ok(format('SELECT api.get_reservation(%L, %L, %s)', NULL, :'tb', :rb), 'T401A', NULL,
  'get_reservation: a missing API key is UNAUTHENTICATED');
SELECT throws_ok(format('SELECT api.cancel_reservation(%L, NULL, %s)', :'kb', :rb), 'T401B', NULL,
  'cancel_reservation: a HELD reservation needs the queue token');
SELECT throws_ok(format('SELECT api.cancel_reservation(%L, %L, %s)', :'kb', 'qt_forged', :rb), 'T401B', NULL,
  'cancel_reservation: an unknown token is QUEUE_TOKEN_INVALID');
SELECT throws_ok(format('SELECT api.cancel_reservation(%L, %L, %s)', :'kb', :'ta', :rb), 'T403A', NULL,
  'cancel_reservation: another user''s token is QUEUE_TOKEN_MISMATCH');
SELECT is((api.cancel_reservation(:'kw', NULL, :rw)).status, 204,
  'cancel_reservation: a hold whose turn ran out is released with the key alone');
SELECT is((api.cancel_reservation(:'ke', :'te', :re)).status, 204,
  'cancel_reservation: ... whatever token comes along (its expired one)');
SELECT throws_ok(format('SELECT api.cancel_reservation(%L, %L, %s)', 'tk_nobody', :'tb', :rb), 'T401A', NULL,
  'cancel_reservation: an unknown API key is UNAUTHENTICATED');
SELECT throws_ok(format('SELECT api.cancel_reservation(%L, %L, %s)', :'ka', :'ta', 0), 'T404A', NULL,
  'cancel_reservation: an unknown reservation is NOT_FOUND');
SELECT is((api.get_reservation(:'kd', :'td', :rd)).status, 200,
  'get_reservation: a DONE token still opens the reservation it paid for');

-- With an ACTIVE token of the same user and concert, each call succeeds
SELECT is((api.available_dates(:'ka', :'ta', :c)).status, 200, 'available_dates: 200 with the user''s ACTIVE token');
SELECT is((api.seat_map(:'ka', :'ta', :c, :'d')).status, 200, 'seat_map: 200 with the user''s ACTIVE token');
SELECT is((api.hold_seat(:'ka', :'ta', :c, :'d', '{5}')).status, 201, 'hold_seat: 201 with the user''s ACTIVE token');
SELECT is((api.get_reservation(:'kb', :'tb', :rb)).status, 200, 'get_reservation: 200 with the user''s ACTIVE token');
SELECT is((api.pay_reservation(:'kb', :'tb', :rb, NULL)).status, 201, 'pay_reservation: 201 with the user''s ACTIVE token');

SELECT * FROM finish();
ROLLBACK;
