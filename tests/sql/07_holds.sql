-- Holding, looking at and cancelling reservations (plpgsql/50_reservation.sql; docs/api.md "Queue-gated endpoints").
BEGIN;
SELECT plan(59);
\ir fixtures.psql

-- Seats of the concert's future performance, by the database clock.
CREATE FUNCTION pg_temp.seat_states(p_concert bigint, p_seats int[]) RETURNS TABLE (seat_no int, status text)
LANGUAGE sql AS $$
  SELECT s.seat_no, ticket.seat_status(s.sold, s.held_until)
  FROM ticket.seats s JOIN ticket.concert_dates d ON d.id = s.date_id
  WHERE d.concert_id = p_concert AND d.starts_at > now() AND s.seat_no = ANY (p_seats) ORDER BY s.seat_no
$$;

SELECT admin.create_concert('Holds test', 'Hall', ARRAY[now() + interval '7 days']) AS c \gset
SELECT on_date AS d FROM ticket.concert_dates WHERE concert_id = :c \gset
SELECT admin.add_date(:c, now() - interval '2 days') AS past_id \gset
SELECT on_date AS dpast FROM ticket.concert_dates WHERE id = :past_id \gset
SELECT pg_temp.new_user('hold-a') AS ka, pg_temp.new_user('hold-b') AS kb, pg_temp.new_user('hold-c') AS kc,
       pg_temp.new_user('hold-d') AS kd \gset
SELECT pg_temp.join_queue(:'ka', :c) AS ta \gset
SELECT pg_temp.join_queue(:'kb', :c) AS tb \gset
SELECT pg_temp.join_queue(:'kc', :c) AS tc \gset
SELECT pg_temp.join_queue(:'kd', :c) AS td \gset

-- A hold
SELECT status AS s, body AS h FROM api.hold_seat(:'ka', :'ta', :c, :'d', '{7}') \gset
SELECT :'h'::json->>'reservation_id' AS ra1 \gset
SELECT is(:s, 201, 'hold_seat: 201 Created');
SELECT is((SELECT array_agg(k ORDER BY k) FROM json_object_keys(:'h'::json) k),
  ARRAY['amount', 'concert_id', 'date', 'expires_at', 'reservation_id', 'seat_nos', 'status'],
  'hold_seat: body has reservation_id, concert_id, date, seat_nos, amount, status, expires_at');
SELECT is(:'h'::jsonb - 'reservation_id' - 'expires_at',
  jsonb_build_object('concert_id', :c, 'date', :'d', 'seat_nos', jsonb_build_array(7), 'amount', 150000, 'status', 'HELD'),
  'hold_seat: seat 7 of the front tier is HELD for 150,000 won');
SELECT is((:'h'::json->>'expires_at')::timestamptz, now() + interval '5 minutes',
  'hold_seat: expires_at = now() + hold_minutes (5)');
SELECT results_eq(format($$SELECT s.reservation_id, s.held_until, upper(rs.claim), lower(rs.claim) BETWEEN now() AND clock_timestamp()
                           FROM ticket.seats s JOIN ticket.reservation_seats rs ON rs.seat_id = s.id WHERE rs.reservation_id = %s$$, :ra1),
  format($$VALUES (%s::bigint, now() + interval '5 minutes', now() + interval '5 minutes', true)$$, :ra1),
  'hold_seat: the seat names the reservation and holds until its expiry; the claim runs from the moment of holding to the expiry');

-- Hold limit (max_seats_per_user 1 by default)
SELECT throws_ok(format('SELECT api.hold_seat(%L, %L, %s, %L, ''{8}'')', :'ka', :'ta', :c, :'d'), 'T409B', NULL,
  'hold_seat: a second seat with max_seats_per_user 1 is HOLD_LIMIT_REACHED');
SELECT throws_ok(format('SELECT api.hold_seat(%L, %L, %s, %L, ''{7}'')', :'kb', :'tb', :c, :'d'), 'T409A', NULL,
  'hold_seat: a seat held by another user is SEAT_UNAVAILABLE');
SELECT throws_ok(format('SELECT api.hold_seat(%L, %L, %s, %L, ''{8,9}'')', :'kb', :'tb', :c, :'d'), 'T409B', NULL,
  'hold_seat: two seats at once with max_seats_per_user 1 is HOLD_LIMIT_REACHED');

-- An expired hold frees the seat and the limit at once, with no cleanup
SELECT pg_temp.hold_runs_out(:ra1);
SELECT status AS s, body->>'reservation_id' AS rb1 FROM api.hold_seat(:'kb', :'tb', :c, :'d', '{7}') \gset
SELECT is(:s, 201, 'hold_seat: the seat of an expired hold can be held again at once, without any cleanup');
SELECT status AS s, body->>'reservation_id' AS ra2 FROM api.hold_seat(:'ka', :'ta', :c, :'d', '{8}') \gset
SELECT is(:s, 201, 'hold_seat: an expired hold no longer counts toward the hold limit');
SELECT is((SELECT count(*) FROM admin.check_invariants() WHERE invariant IN ('seat has one live claim', 'held seat belongs to a live hold')),
  0::bigint, 'check_invariants: the re-held seat has one live claim and one live hold');

-- Several seats: all or nothing
SELECT lives_ok(format('SELECT admin.set_holds(%s, p_max_seats_per_user => 2)', :c), 'set_holds: max_seats_per_user 2');
SELECT throws_ok(format('SELECT api.hold_seat(%L, %L, %s, %L, ''{10,9}'')', :'kb', :'tb', :c, :'d'), 'T409B', NULL,
  'hold_seat: every seat of a hold counts toward the limit (1 held + 2 asked > 2)');
SELECT status AS s, body AS h FROM api.hold_seat(:'kc', :'tc', :c, :'d', '{18,17}') \gset
SELECT :'h'::json->>'reservation_id' AS rc1 \gset
SELECT is(:s, 201, 'hold_seat: with max_seats_per_user 2 two seats are held together');
SELECT is((:'h'::json->'seat_nos')::jsonb, '[17, 18]'::jsonb, 'hold_seat: seat_nos ascending');
SELECT is((:'h'::json->>'amount')::bigint, 260000::bigint, 'hold_seat: amount is the sum of the seats'' tier prices (150,000 + 110,000)');
SELECT throws_ok(format('SELECT api.hold_seat(%L, %L, %s, %L, ''{11}'')', :'kc', :'tc', :c, :'d'), 'T409B', NULL,
  'hold_seat: a third seat with max_seats_per_user 2 is HOLD_LIMIT_REACHED');
SELECT throws_ok(format('SELECT api.hold_seat(%L, %L, %s, %L, ''{11,7}'')', :'kd', :'td', :c, :'d'), 'T409A', NULL,
  'hold_seat: two seats, one held by another: SEAT_UNAVAILABLE ...');
SELECT results_eq(format('SELECT * FROM pg_temp.seat_states(%s, ''{11}'')', :c), $$VALUES (11, 'AVAILABLE')$$,
  'hold_seat: ... and the free seat was not held either (all or nothing)');
SELECT is((SELECT count(*) FROM ticket.reservations r JOIN ticket.users u ON u.id = r.user_id WHERE u.name = 'hold-d'),
  0::bigint, 'hold_seat: ... and no reservation was written');
SELECT throws_ok(format('SELECT api.hold_seat(%L, %L, %s, %L, ''{11,51}'')', :'kd', :'td', :c, :'d'), 'T404A', NULL,
  'hold_seat: two seats, one that does not exist: NOT_FOUND, nothing held');
SELECT results_eq(format('SELECT * FROM pg_temp.seat_states(%s, ''{11}'')', :c), $$VALUES (11, 'AVAILABLE')$$,
  'hold_seat: ... seat 11 still AVAILABLE');

-- Invalid seat lists, missing seats and dates
SELECT throws_ok(format('SELECT api.hold_seat(%L, %L, %s, %L, %L)', :'kd', :'td', :c, :'d', a), 'T400A', NULL,
  format('hold_seat: seat_nos %s is INVALID_ARGUMENT (%s)', coalesce(a, 'NULL'), why))
FROM (VALUES ('{11,11}', 'duplicate seat numbers'), ('{}', 'empty list'), ('{0}', 'seat 0'), ('{-3}', 'negative seat'),
             (NULL, 'no list'), ('{11,NULL}', 'a NULL seat')) v(a, why);
SELECT throws_ok(format('SELECT api.hold_seat(%L, %L, %s, %L, ''{51}'')', :'kd', :'td', :c, :'d'), 'T404A', NULL,
  'hold_seat: seat 51 of a 50-seat date is NOT_FOUND');
SELECT throws_ok(format('SELECT api.hold_seat(%L, %L, %s, %L, ''{11}'')', :'kd', :'td', :c, (:'d'::date + 1)::text), 'T404A', NULL,
  'hold_seat: a date without a performance is NOT_FOUND');
SELECT throws_ok(format('SELECT api.hold_seat(%L, %L, %s, NULL, ''{11}'')', :'kd', :'td', :c), 'T404A', NULL,
  'hold_seat: a missing date is NOT_FOUND');
SELECT throws_ok(format('SELECT api.hold_seat(%L, %L, %s, %L, ''{11}'')', :'kd', :'td', :c, :'dpast'), 'T404A', NULL,
  'hold_seat: a performance that has already started is NOT_FOUND');

-- A sold seat
SELECT (api.hold_seat(:'kd', :'td', :c, :'d', '{20}')).body->>'reservation_id' AS rd1 \gset
SELECT (api.charge_wallet(:'kd', 1000000, NULL)).status AS ok \gset
SELECT (api.pay_reservation(:'kd', :'td', :rd1, NULL)).status AS ok \gset
SELECT throws_ok(format('SELECT api.hold_seat(%L, %L, %s, %L, ''{20}'')', :'ka', :'ta', :c, :'d'), 'T409A', NULL,
  'hold_seat: a SOLD seat is SEAT_UNAVAILABLE');

-- hold_minutes comes from the concert
SELECT lives_ok(format('SELECT admin.set_holds(%s, p_hold_minutes => 2)', :c), 'set_holds: hold_minutes 2');
SELECT is(((api.hold_seat(:'ka', :'ta', :c, :'d', '{21}')).body->>'expires_at')::timestamptz,
  now() + interval '2 minutes', 'hold_seat: a new hold lasts the concert''s new hold_minutes');
SELECT is((SELECT expires_at FROM ticket.reservations WHERE id = :ra2), now() + interval '5 minutes',
  'set_holds: existing holds keep their expiry');
SELECT throws_ok(format('SELECT admin.set_holds(%s, p_max_seats_per_user => 5)', :c), '23514', NULL,
  'set_holds: more than 4 seats per person is refused');
SELECT throws_ok('SELECT admin.set_holds(0, p_hold_minutes => 3)', 'T404A', NULL, 'set_holds: an unknown concert is NOT_FOUND');

-- get_reservation
SELECT status AS s, body AS g FROM api.get_reservation(:'kc', :'tc', :rc1) \gset
SELECT is(:s, 200, 'get_reservation: 200');
SELECT is(:'g'::jsonb, :'h'::jsonb, 'get_reservation: the same body as the hold');
SELECT throws_ok(format('SELECT api.get_reservation(%L, %L, %s)', :'kb', :'tb', :rc1), 'T404A', NULL,
  'get_reservation: another user''s reservation is NOT_FOUND');
SELECT throws_ok(format('SELECT api.get_reservation(%L, NULL, %s)', :'kb', :rc1), 'T404A', NULL,
  'get_reservation: another user''s reservation is NOT_FOUND without a token too');
SELECT throws_ok(format('SELECT api.get_reservation(%L, %L, 0)', :'kc', :'tc'), 'T404A', NULL,
  'get_reservation: an unknown reservation is NOT_FOUND');
SELECT throws_ok(format('SELECT api.get_reservation(%L, %L, %s)', 'tk_nobody', :'tc', :rc1), 'T401A', NULL,
  'get_reservation: an unknown key is UNAUTHENTICATED');
SELECT is((api.get_reservation(:'ka', :'ta', :ra1)).body->>'status', 'EXPIRED',
  'get_reservation: a hold past its expiry is EXPIRED, before any cleanup');
SELECT is((api.get_reservation(:'ka', NULL, :ra1)).body->>'status', 'EXPIRED',
  'get_reservation: an EXPIRED reservation needs no queue token');
SELECT results_eq(format('SELECT status, body->>''status'', body->''seat_nos''->>0 FROM api.get_reservation(%L, NULL, %s)', :'kd', :rd1),
  $$VALUES (200, 'CONFIRMED', '20')$$,
  'get_reservation: a CONFIRMED reservation is visible with the key alone (NULL token)');

-- cancel_reservation
SELECT is(api.cancel_reservation(:'kc', :'tc', :rc1)::text, '(204,,)', 'cancel_reservation: 204 with no body');
SELECT results_eq(format('SELECT * FROM pg_temp.seat_states(%s, ''{17,18}'')', :c), $$VALUES (17, 'AVAILABLE'), (18, 'AVAILABLE')$$,
  'cancel_reservation: the seats are AVAILABLE at once');
SELECT is((SELECT count(*) FROM ticket.reservation_seats WHERE reservation_id = :rc1 AND claim && tstzrange(now(), NULL)),
  0::bigint, 'cancel_reservation: the claims end at the moment of cancelling');
SELECT is((api.get_reservation(:'kc', NULL, :rc1)).body->>'status', 'CANCELLED',
  'get_reservation: a cancelled reservation is CANCELLED and needs no token');
SELECT throws_ok(format('SELECT api.cancel_reservation(%L, %L, %s)', :'kc', :'tc', :rc1), 'T409C', NULL,
  'cancel_reservation: cancelling twice is RESERVATION_NOT_HELD');
SELECT throws_ok(format('SELECT api.cancel_reservation(%L, NULL, %s)', :'kc', :rc1), 'T409C', NULL,
  'cancel_reservation: cancelling twice without a token is RESERVATION_NOT_HELD too');
SELECT throws_ok(format('SELECT api.cancel_reservation(%L, %L, %s)', :'ka', :'ta', :ra1), 'T409C', NULL,
  'cancel_reservation: cancelling an expired hold is RESERVATION_NOT_HELD');
SELECT throws_ok(format('SELECT api.cancel_reservation(%L, NULL, %s)', :'kd', :rd1), 'T409C', NULL,
  'cancel_reservation: cancelling a CONFIRMED reservation is RESERVATION_NOT_HELD');
SELECT throws_ok(format('SELECT api.cancel_reservation(%L, %L, %s)', :'kb', :'tb', :ra2), 'T404A', NULL,
  'cancel_reservation: another user''s reservation is NOT_FOUND');
SELECT is((SELECT status FROM ticket.reservations WHERE id = :ra2), 'HELD', 'cancel_reservation: ... and it stays HELD');
SELECT is((api.hold_seat(:'kc', :'tc', :c, :'d', '{17,18}')).status, 201,
  'hold_seat: cancelled seats can be held again in the same instant (the cut claim is empty)');
SELECT is((SELECT count(*) FROM admin.check_invariants()), 0::bigint, 'check_invariants: nothing broken by all of the above');

SELECT * FROM finish();
ROLLBACK;
