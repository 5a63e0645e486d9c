-- Paying a held reservation (plpgsql/60_payment.sql; docs/api.md payment, Idempotency-Key in "Credentials").
BEGIN;
SELECT plan(57);
\ir fixtures.psql

CREATE FUNCTION pg_temp.balance(p_key text) RETURNS bigint LANGUAGE sql AS
  $$ SELECT ((api.get_wallet(p_key)).body->>'balance')::bigint $$;
-- What a user's payment could have touched: balance, ledger rows, payments.
CREATE FUNCTION pg_temp.money(p_key text) RETURNS text LANGUAGE sql AS $$
  SELECT format('balance %s, ledger %s, payments %s', pg_temp.balance(p_key),
    (SELECT count(*) FROM ticket.ledger WHERE user_id = pg_temp.user_id(p_key)),
    (SELECT count(*) FROM ticket.payments WHERE user_id = pg_temp.user_id(p_key)))
$$;
CREATE FUNCTION pg_temp.seat(p_reservation bigint) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(ticket.seat_status(s.sold, s.held_until), ',' ORDER BY s.seat_no)
  FROM ticket.reservation_seats rs JOIN ticket.seats s ON s.id = rs.seat_id WHERE rs.reservation_id = p_reservation
$$;

SELECT admin.create_concert('Payment test', 'Hall', ARRAY[now() + interval '7 days'], p_max_active => 2,
                            p_max_seats_per_user => 2) AS c \gset
SELECT on_date AS d FROM ticket.concert_dates WHERE concert_id = :c \gset
SELECT pg_temp.new_user('pay-a') AS ka, pg_temp.new_user('pay-b') AS kb, pg_temp.new_user('pay-n') AS kn,
       pg_temp.new_user('pay-d') AS kd, pg_temp.new_user('pay-e') AS ke, pg_temp.new_user('pay-f') AS kf \gset
SELECT pg_temp.join_queue(:'ka', :c) AS ta \gset
SELECT pg_temp.join_queue(:'kb', :c) AS tb \gset
SELECT pg_temp.join_queue(:'kn', :c) AS tn \gset
SELECT (api.charge_wallet(:'ka', 200000, NULL)).status AS ok \gset
SELECT (api.hold_seat(:'ka', :'ta', :c, :'d', '{7}')).body->>'reservation_id' AS ra \gset
SELECT is(pg_temp.row_status(:'tn'), 'WAITING', 'fixture: n waits behind a and b (max_active 2)');

-- A payment
SELECT status AS s, body AS p FROM api.pay_reservation(:'ka', :'ta', :ra, NULL) \gset
SELECT is(:s, 201, 'pay_reservation: 201 Created');
SELECT is(:'p'::jsonb - 'payment_id', jsonb_build_object('reservation_id', :ra, 'amount', 150000, 'balance', 50000, 'status', 'CONFIRMED'),
  'pay_reservation: body has reservation_id, amount, the balance after and status CONFIRMED');
SELECT is((:'p'::json->>'payment_id')::bigint, (SELECT id FROM ticket.payments WHERE reservation_id = :ra),
  'pay_reservation: payment_id is the payments row');
SELECT is(pg_temp.balance(:'ka'), 50000::bigint, 'pay_reservation: the wallet is debited by the amount');
SELECT results_eq(format('SELECT type, amount, balance_after, reservation_id FROM ticket.ledger WHERE user_id = %s ORDER BY id',
                         pg_temp.user_id(:'ka')),
  format($$VALUES ('CHARGE', 200000::bigint, 200000::bigint, NULL::bigint), ('PAYMENT', 150000, 50000, %s)$$, :ra),
  'pay_reservation: a PAYMENT ledger row with the reservation and the balance after it');
SELECT results_eq(format($$SELECT p.user_id, p.amount, l.type FROM ticket.payments p JOIN ticket.ledger l ON l.id = p.ledger_id
                           WHERE p.reservation_id = %s$$, :ra),
  format($$VALUES (%s::bigint, 150000::bigint, 'PAYMENT')$$, pg_temp.user_id(:'ka')),
  'pay_reservation: one payments row of the amount, tied to the PAYMENT ledger row');
SELECT is((api.list_transactions(:'ka', 1, NULL)).body->'transactions'->0->>'type', 'PAYMENT',
  'list_transactions: the payment is the newest transaction, of type PAYMENT');
SELECT is((api.list_transactions(:'ka', 1, NULL)).body->'transactions'->0->>'reservation_id', :'ra'::text,
  'list_transactions: ... naming the reservation');
SELECT is(pg_temp.seat(:ra), 'SOLD', 'pay_reservation: the seat is SOLD');
SELECT is((SELECT count(*) FROM ticket.reservation_seats WHERE reservation_id = :ra AND upper_inf(claim)), 1::bigint,
  'pay_reservation: the claim is open-ended (a sale)');
SELECT results_eq(format('SELECT status, ended_at FROM ticket.reservations WHERE id = %s', :ra),
  $$VALUES ('CONFIRMED', now())$$, 'pay_reservation: the reservation is CONFIRMED');
SELECT is(pg_temp.row_status(:'ta'), 'DONE', 'pay_reservation: the payer''s queue token is DONE');
SELECT is(pg_temp.row_status(:'tn'), 'ACTIVE', 'pay_reservation: the next in line is admitted');
SELECT is((SELECT difference FROM admin.books()), 0::bigint, 'admin.books: no won lost or created by the payment');

-- Insufficient balance: nothing changes
SELECT (api.charge_wallet(:'kb', 100000, NULL)).status AS ok \gset
SELECT (api.hold_seat(:'kb', :'tb', :c, :'d', '{8}')).body->>'reservation_id' AS rb \gset
SELECT pg_temp.money(:'kb') AS before \gset
SELECT throws_ok(format('SELECT api.pay_reservation(%L, %L, %s, NULL)', :'kb', :'tb', :rb), 'T402A', NULL,
  'pay_reservation: a balance below the amount is INSUFFICIENT_BALANCE');
SELECT is(pg_temp.money(:'kb'), :'before'::text, 'insufficient balance: no money moved, no ledger or payment row');
SELECT is(pg_temp.seat(:rb), 'HELD', 'insufficient balance: the seat stays HELD (not SOLD)');
SELECT is((SELECT status FROM ticket.reservations WHERE id = :rb), 'HELD', 'insufficient balance: the reservation stays HELD');
SELECT is(pg_temp.row_status(:'tb'), 'ACTIVE', 'insufficient balance: the queue token stays ACTIVE');
SELECT is((SELECT count(*) FROM ticket.reservation_seats WHERE reservation_id = :rb AND upper_inf(claim)), 0::bigint,
  'insufficient balance: the claim still ends with the hold');
SELECT (api.charge_wallet(:'kb', 50000, NULL)).status AS ok \gset
SELECT is((api.pay_reservation(:'kb', :'tb', :rb, NULL)).body->>'balance', '0',
  'pay_reservation: a balance equal to the amount pays, leaving 0');

-- Paying after the hold ran out: 410, no money moves
SELECT lives_ok(format('SELECT admin.set_queue(%s, p_max_active => 10)', :c), 'set_queue: room for everyone from here on');
SELECT (api.charge_wallet(:'kn', 500000, NULL)).status AS ok \gset
SELECT (api.hold_seat(:'kn', :'tn', :c, :'d', '{9}')).body->>'reservation_id' AS rn \gset
SELECT pg_temp.hold_runs_out(:rn);
SELECT pg_temp.money(:'kn') AS before \gset
SELECT throws_ok(format('SELECT api.pay_reservation(%L, %L, %s, NULL)', :'kn', :'tn', :rn), 'T410A', NULL,
  'pay_reservation: paying after the hold ran out is HOLD_EXPIRED');
SELECT is(pg_temp.money(:'kn'), :'before'::text, 'hold expired: no money moved');
SELECT is(pg_temp.seat(:rn), 'AVAILABLE', 'hold expired: the seat is AVAILABLE');
SELECT is((api.get_reservation(:'kn', :'tn', :rn)).body->>'status', 'EXPIRED', 'hold expired: the reservation reads EXPIRED');
SELECT is(pg_temp.row_status(:'tn'), 'ACTIVE', 'hold expired: the queue turn goes on (not DONE)');
SELECT is((SELECT holds_expired > 0 FROM pg_temp.tick()), true, 'admin.tick: the clock job ends the expired hold ...');
SELECT throws_ok(format('SELECT api.pay_reservation(%L, %L, %s, NULL)', :'kn', :'tn', :rn), 'T410A', NULL,
  'pay_reservation: ... and paying it after the tick is still HOLD_EXPIRED (410), as before the tick');
SELECT is(pg_temp.money(:'kn'), :'before'::text, 'hold expired: still no money moved');

-- A seat claimed again in the instant the hold ran out: the constraint refuses the sale
SELECT (api.hold_seat(:'kn', :'tn', :c, :'d', '{10}')).body->>'reservation_id' AS rn2 \gset
INSERT INTO ticket.reservations (user_id, concert_id, date_id, status, amount, expires_at)
SELECT pg_temp.user_id(:'kd'), :c, date_id, 'HELD', amount, expires_at + interval '5 minutes' FROM ticket.reservations WHERE id = :rn2
RETURNING id AS rx \gset
INSERT INTO ticket.reservation_seats (reservation_id, seat_id, claim)
SELECT :rx, seat_id, tstzrange(upper(claim), upper(claim) + interval '5 minutes') FROM ticket.reservation_seats WHERE reservation_id = :rn2;
SELECT throws_ok(format('SELECT api.pay_reservation(%L, %L, %s, NULL)', :'kn', :'tn', :rn2), 'T410A', NULL,
  'pay_reservation: when a later claim on the seat begins where the hold ends, the sale is refused as HOLD_EXPIRED');
SELECT is(pg_temp.money(:'kn'), :'before'::text, 'pay_reservation: ... and no money moved');
DELETE FROM ticket.reservation_seats WHERE reservation_id = :rx;
DELETE FROM ticket.reservations WHERE id = :rx;

-- Not HELD: paid already, cancelled; not yours; unknown
SELECT pg_temp.join_queue(:'ka', :c) AS ta2 \gset
SELECT throws_ok(format('SELECT api.pay_reservation(%L, %L, %s, NULL)', :'ka', :'ta2', :ra), 'T409C', NULL,
  'pay_reservation: paying a CONFIRMED reservation again (with a new turn) is RESERVATION_NOT_HELD');
SELECT throws_ok(format('SELECT api.pay_reservation(%L, %L, %s, NULL)', :'ka', :'ta', :ra), 'T409C', NULL,
  'pay_reservation: paying again with the DONE token is RESERVATION_NOT_HELD, never a 401 back to the queue');
SELECT is(pg_temp.balance(:'ka'), 50000::bigint, 'pay_reservation: paying twice took the money once');
SELECT pg_temp.join_queue(:'kd', :c) AS td \gset
SELECT (api.charge_wallet(:'kd', 500000, NULL)).status AS ok \gset
SELECT (api.hold_seat(:'kd', :'td', :c, :'d', '{11}')).body->>'reservation_id' AS rd \gset
SELECT (api.cancel_reservation(:'kd', :'td', :rd)).status AS ok \gset
SELECT throws_ok(format('SELECT api.pay_reservation(%L, %L, %s, NULL)', :'kd', :'td', :rd), 'T409C', NULL,
  'pay_reservation: paying a CANCELLED reservation is RESERVATION_NOT_HELD');
SELECT is(pg_temp.balance(:'kd'), 500000::bigint, 'pay_reservation: ... and takes no money');
SELECT throws_ok(format('SELECT api.pay_reservation(%L, %L, %s, NULL)', :'kd', :'td', :rb), 'T404A', NULL,
  'pay_reservation: another user''s reservation is NOT_FOUND');
SELECT throws_ok(format('SELECT api.pay_reservation(%L, %L, 0, NULL)', :'kd', :'td'), 'T404A', NULL,
  'pay_reservation: an unknown reservation is NOT_FOUND');
SELECT throws_ok(format('SELECT api.pay_reservation(%L, %L, %s, NULL)', 'tk_nobody', :'td', :rd), 'T401A', NULL,
  'pay_reservation: an unknown key is UNAUTHENTICATED');

-- Idempotency-Key on payment
SELECT pg_temp.join_queue(:'ke', :c) AS te \gset
SELECT (api.charge_wallet(:'ke', 300000, NULL)).status AS ok \gset
SELECT (api.hold_seat(:'ke', :'te', :c, :'d', '{12}')).body->>'reservation_id' AS re \gset
SELECT status AS s1, body::text AS first FROM api.pay_reservation(:'ke', :'te', :re, 'pay-1') \gset
SELECT is(pg_temp.row_status(:'te'), 'DONE', 'idempotent pay: after the first call the token is DONE');
SELECT status AS s2, body::text AS again FROM api.pay_reservation(:'ke', :'te', :re, 'pay-1') \gset
SELECT is(:s2, :s1, 'idempotent pay: a replay has the first status (201), even though the token is DONE');
SELECT is(:'again'::text, :'first'::text, 'idempotent pay: a replay has exactly the first body');
SELECT is(pg_temp.money(:'ke'), 'balance 150000, ledger 2, payments 1', 'idempotent pay: the money moved once');
SELECT pg_temp.join_queue(:'ke', :c) AS te2 \gset
SELECT (api.hold_seat(:'ke', :'te2', :c, :'d', '{13}')).body->>'reservation_id' AS re2 \gset
SELECT throws_ok(format('SELECT api.pay_reservation(%L, %L, %s, %L)', :'ke', :'te2', :re2, 'pay-1'), 'T422A', NULL,
  'idempotent pay: the same key for another reservation is IDEMPOTENCY_KEY_REUSED');
SELECT is(pg_temp.money(:'ke'), 'balance 150000, ledger 2, payments 1', 'idempotent pay: ... and moves no money');
SELECT is((SELECT status FROM ticket.reservations WHERE id = :re2), 'HELD', 'idempotent pay: ... and the reservation stays HELD');
SELECT throws_ok(format('SELECT api.pay_reservation(%L, %L, %s, %L)', :'ke', :'te2', :re2, E'bad\nkey'), 'T400A', NULL,
  'idempotent pay: a key with a control character is INVALID_ARGUMENT');
SELECT (api.charge_wallet(:'ke', 1000, 'shared-key')).status AS ok \gset
SELECT throws_ok(format('SELECT api.pay_reservation(%L, %L, %s, %L)', :'ke', :'te2', :re2, 'shared-key'), 'T422A', NULL,
  'idempotent pay: a key first used for a charge is IDEMPOTENCY_KEY_REUSED on a payment');
INSERT INTO ticket.idempotency_keys (user_id, key, request) VALUES (pg_temp.user_id(:'ke'), 'pay-busy', format('pay reservation %s', :re2));
SELECT throws_ok(format('SELECT api.pay_reservation(%L, %L, %s, %L)', :'ke', :'te2', :re2, 'pay-busy'), 'T409D', NULL,
  'idempotent pay: a key whose first request is still running is IDEMPOTENCY_IN_PROGRESS');
SELECT pg_temp.join_queue(:'kf', :c) AS tf \gset
SELECT (api.charge_wallet(:'kf', 1000, NULL)).status AS ok \gset
SELECT (api.hold_seat(:'kf', :'tf', :c, :'d', '{14}')).body->>'reservation_id' AS rf \gset
SELECT throws_ok(format('SELECT api.pay_reservation(%L, %L, %s, %L)', :'kf', :'tf', :rf, 'pay-f'), 'T402A', NULL,
  'idempotent pay: a refused payment with a key ...');
SELECT (api.charge_wallet(:'kf', 200000, NULL)).status AS ok \gset
SELECT is((api.pay_reservation(:'kf', :'tf', :rf, 'pay-f')).status, 201,
  'idempotent pay: ... does not burn the key: the retry after charging pays');
SELECT is((api.pay_reservation(:'kf', NULL, :rf, 'pay-f')).body->>'status', 'CONFIRMED',
  'idempotent pay: a replay needs no live token');
SELECT is((SELECT count(*) FROM ticket.payments WHERE reservation_id = :rf), 1::bigint, 'idempotent pay: one payment for all of it');
SELECT is((SELECT difference FROM admin.books()), 0::bigint, 'admin.books: charged - paid = balances after all of it');
SELECT is((SELECT count(*) FROM admin.check_invariants()), 0::bigint, 'check_invariants: nothing broken after all of it');

SELECT * FROM finish();
ROLLBACK;
