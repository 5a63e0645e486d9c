-- The payment's steps one at a time, as they run when seats and wallets are on
-- different servers (plpgsql/60_payment.sql; docs/scale.md): reserve, debit, confirm
-- or release, each idempotent by the reference, and recovery of a payment left
-- between them. A crash is a step that never ran; time moves by moving paying_since.
BEGIN;
SELECT plan(30);
\ir fixtures.psql

CREATE FUNCTION pg_temp.balance(p_key text) RETURNS bigint LANGUAGE sql AS
  $$ SELECT ((api.get_wallet(p_key)).body->>'balance')::bigint $$;
CREATE FUNCTION pg_temp.r(p_id bigint) RETURNS ticket.reservations LANGUAGE sql AS
  $$ SELECT * FROM ticket.reservations WHERE id = p_id $$;
CREATE FUNCTION pg_temp.seats(p_id bigint) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(ticket.seat_status(s.sold, s.held_until), ',' ORDER BY s.seat_no)
  FROM ticket.reservation_seats rs JOIN ticket.seats s ON s.id = rs.seat_id WHERE rs.reservation_id = p_id
$$;
-- As if the payment had been reserved two minutes ago.
CREATE FUNCTION pg_temp.stuck(p_id bigint) RETURNS void LANGUAGE sql AS
  $$ UPDATE ticket.reservations SET paying_since = now() - interval '2 minutes' WHERE id = p_id $$;

SELECT admin.create_concert('Saga test', 'Hall', ARRAY[now() + interval '7 days'], p_max_active => 5) AS c \gset
SELECT pg_temp.new_user('saga-a') AS ka, pg_temp.new_user('saga-b') AS kb, pg_temp.new_user('saga-c') AS kc,
       pg_temp.new_user('saga-d') AS kd \gset
SELECT pg_temp.join_queue(:'ka', :c) AS ta, pg_temp.join_queue(:'kb', :c) AS tb,
       pg_temp.join_queue(:'kc', :c) AS tc, pg_temp.join_queue(:'kd', :c) AS td \gset
SELECT count(api.charge_wallet(k, 200000, NULL)) AS charged FROM unnest(ARRAY[:'ka', :'kc', :'kd']::text[]) k \gset
SELECT pg_temp.hold(:'ka', :'ta', :c, '{1}') AS ra, pg_temp.hold(:'kb', :'tb', :c, '{2}') AS rb,
       pg_temp.hold(:'kc', :'tc', :c, '{3}') AS rc, pg_temp.hold(:'kd', :'td', :c, '{4}') AS rd \gset

-- Every step once, and again
SELECT status AS st, payment_ref AS ref FROM ticket.pay_reserve(pg_temp.user_id(:'ka'), :'ka', :'ta', :ra, 'ref-a') \gset
SELECT is(:'st'::text, 'PAYING', 'pay_reserve: the reservation is PAYING under the reference');
SELECT is(pg_temp.seats(:ra), 'HELD', 'pay_reserve: its seat shows HELD');
SELECT is((api.get_reservation(:'ka', :'ta', :ra)).body->>'status', 'HELD', 'get_reservation: a PAYING reservation is HELD to the user');
SELECT pg_temp.hold_runs_out(:ra);
SELECT is((SELECT holds_expired FROM admin.tick_concert(:c)), 0, 'a PAYING reservation past its hold''s end is not expired by the tick');
SELECT is((pg_temp.r(:ra)).status, 'PAYING', '... and stays PAYING');
SELECT is((ticket.pay_reserve(pg_temp.user_id(:'ka'), :'ka', :'ta', :ra, 'ref-a')).status, 'PAYING', 'pay_reserve again: the same');
SELECT throws_ok(format('SELECT ticket.pay_reserve(%s, %L, %L, %s, %L)', pg_temp.user_id(:'ka'), :'ka', :'ta', :ra, 'ref-other'),
  'T409C', NULL, 'pay_reserve under another reference: RESERVATION_NOT_HELD');
SELECT throws_ok(format('SELECT api.hold_seat(%L, %L, %s, %L, ARRAY[5])', :'ka', :'ta', :c,
                        (SELECT on_date FROM ticket.concert_dates WHERE concert_id = :c)),
  'T409B', NULL, 'a seat being paid counts against the limit (1 a person): a second hold meanwhile is HOLD_LIMIT_REACHED');
SELECT results_eq(format('SELECT outcome, balance FROM ticket.debit(%s, %L, %s, 150000)', pg_temp.user_id(:'ka'), 'ref-a', :ra),
  $$VALUES ('DEBITED', 50000::bigint)$$, 'debit: DEBITED, 150,000 won taken');
SELECT results_eq(format('SELECT outcome, balance FROM ticket.debit(%s, %L, %s, 150000)', pg_temp.user_id(:'ka'), 'ref-a', :ra),
  $$VALUES ('DEBITED', 50000::bigint)$$, 'debit again: the same answer');
SELECT is(pg_temp.balance(:'ka'), 50000::bigint, '... and no second debit');
SELECT ticket.pay_confirm('ref-a', (SELECT ledger_id FROM ticket.debits WHERE ref = 'ref-a')) AS pay_a \gset
SELECT is((pg_temp.r(:ra)).status, 'CONFIRMED', 'pay_confirm: CONFIRMED');
SELECT is(pg_temp.seats(:ra), 'SOLD', 'pay_confirm: its seat SOLD');
SELECT is(pg_temp.row_status(:'ta'), 'DONE', 'pay_confirm: the turn is DONE');
SELECT is(ticket.pay_confirm('ref-a', NULL), :pay_a::bigint, 'pay_confirm again: the same payment');

-- A refused debit: the reservation is HELD again, and the reference stays refused
SELECT ticket.pay_reserve(pg_temp.user_id(:'kb'), :'kb', :'tb', :rb, 'ref-b') IS NOT NULL AS ok \gset
SELECT is((SELECT outcome FROM ticket.debit(pg_temp.user_id(:'kb'), 'ref-b', :rb, 150000)), 'REFUSED',
  'debit without the money: REFUSED');
SELECT is((ticket.pay_release('ref-b')).status, 'HELD', 'pay_release: HELD again, its hold not yet run out');
SELECT is(pg_temp.seats(:rb), 'HELD', '... its seat HELD until the hold''s end');
SELECT (api.charge_wallet(:'kb', 200000, NULL)).status AS ok \gset
SELECT is((SELECT outcome FROM ticket.debit(pg_temp.user_id(:'kb'), 'ref-b', :rb, 150000)), 'REFUSED',
  'a refused reference stays refused, money or not');
SELECT is(pg_temp.balance(:'kb'), 200000::bigint, '... and takes nothing');

-- A crash before the debit: recovery aborts the reference and releases; a late debit
-- takes nothing
SELECT ticket.pay_reserve(pg_temp.user_id(:'kc'), :'kc', :'tc', :rc, 'ref-c') IS NOT NULL AS ok \gset
SELECT pg_temp.stuck(:rc);
SELECT results_eq('SELECT * FROM admin.recover_payments()', $$VALUES (0, 1)$$,
  'recover_payments: a payment stuck before its debit is released');
SELECT is((pg_temp.r(:rc)).status, 'HELD', '... its reservation HELD again');
SELECT is((SELECT outcome FROM ticket.debit(pg_temp.user_id(:'kc'), 'ref-c', :rc, 150000)), 'ABORTED',
  'a debit arriving after recovery is refused (ABORTED)');
SELECT is(pg_temp.balance(:'kc'), 200000::bigint, '... and takes nothing');

-- A crash after the debit: recovery confirms
SELECT ticket.pay_reserve(pg_temp.user_id(:'kd'), :'kd', :'td', :rd, 'ref-d') IS NOT NULL AS ok \gset
SELECT outcome AS od FROM ticket.debit(pg_temp.user_id(:'kd'), 'ref-d', :rd, 150000) \gset
SELECT throws_ok(format('SELECT api.cancel_reservation(%L, %L, %s)', :'kd', :'td', :rd), 'T409C',
  format('reservation %s is being paid', :rd),
  'a payment between its steps cannot be cancelled (RESERVATION_NOT_HELD), nor left half cancelled');
SELECT is((SELECT array_agg(invariant) FROM admin.check_invariants()), NULL::text[],
  'invariants hold with a payment between its debit and its confirmation');
SELECT pg_temp.stuck(:rd);
UPDATE ticket.reservations SET paying_since = paying_since - interval '5 minutes' WHERE id = :rd;
SELECT is((SELECT array_agg(invariant) FROM admin.check_invariants()), ARRAY['a payment finishes within minutes'],
  'a payment left PAYING past recovery''s minutes is reported (recovery not running, or failing)');
SELECT results_eq('SELECT * FROM admin.recover_payments()', $$VALUES (1, 0)$$,
  'recover_payments: a payment stuck after its debit is confirmed');
SELECT is((pg_temp.r(:rd)).status, 'CONFIRMED', '... CONFIRMED, with its payment');
SELECT is((SELECT array_agg(invariant) FROM admin.check_invariants()), NULL::text[], 'invariants hold after recovery');

SELECT * FROM finish();
ROLLBACK;
