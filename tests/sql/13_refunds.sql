-- Refunds (docs/api.md, the refund endpoint) and the waiting list (GET /api/queue, SOLD_OUT): money back
-- before the deadline minus the fee, seats back on sale to the first on the list.
BEGIN;
SELECT plan(38);
\ir fixtures.psql

CREATE FUNCTION pg_temp.seat_id(p_concert bigint, p_seat int) RETURNS bigint LANGUAGE sql AS $$
  SELECT s.id FROM ticket.seats s JOIN ticket.concert_dates d ON d.id = s.date_id
  WHERE d.concert_id = p_concert AND s.seat_no = p_seat
$$;
CREATE FUNCTION pg_temp.seat_status(p_concert bigint, p_seat int) RETURNS text LANGUAGE sql AS $$
  SELECT ticket.seat_status(sold, held_until) FROM ticket.seats WHERE id = pg_temp.seat_id(p_concert, p_seat)
$$;
CREATE FUNCTION pg_temp.balance(p_key text) RETURNS bigint LANGUAGE sql AS
  $$ SELECT ((api.get_wallet(p_key)).body->>'balance')::bigint $$;
-- A user who joins, holds the seats and pays; returns the reservation id.
CREATE FUNCTION pg_temp.buy(p_key text, p_concert bigint, p_seats int[]) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_token text := pg_temp.join_queue(p_key, p_concert);
  v_rid   bigint := pg_temp.hold(p_key, v_token, p_concert, p_seats);
BEGIN
  PERFORM api.pay_reservation(p_key, v_token, v_rid, NULL);
  RETURN v_rid;
END
$$;

-- A concert ten days away: refunds until 24 hours before, 10 % fee.
SELECT admin.create_concert('Refund test', 'Hall', ARRAY[now() + interval '10 days'], p_seats => 3,
                            p_max_active => 3, p_max_seats_per_user => 2) AS c \gset
SELECT pg_temp.new_user('ref-a') AS ka, pg_temp.new_user('ref-b') AS kb, pg_temp.new_user('ref-c') AS kc \gset
SELECT count(*) FROM (SELECT api.charge_wallet(k, 500000, NULL) FROM unnest(ARRAY[:'ka', :'kb', :'kc']) k) x;
SELECT pg_temp.buy(:'ka', :c, '{1}') AS ra \gset
SELECT is(pg_temp.balance(:'ka'), 350000::bigint, 'fixture: A paid 150,000 for seat 1');

-- What the reservation says before
SELECT is(((api.get_reservation(:'ka', NULL, :ra)).body->'refund')::jsonb - 'refundable_until',
  '{"refund": 135000, "fee": 15000}'::jsonb, 'get_reservation: a CONFIRMED one shows what a refund gives back and keeps');
SELECT is((((api.get_reservation(:'ka', NULL, :ra)).body->'refund'->>'refundable_until')::timestamptz),
  (SELECT starts_at - interval '24 hours' FROM ticket.concert_dates WHERE concert_id = :c),
  'get_reservation: ... and until when (24 hours before the performance)');

-- The refund
SELECT status AS s, body::jsonb AS b FROM api.refund_reservation(:'ka', :ra, 'ref-1') \gset
SELECT is(:s, 200, 'refund_reservation: 200');
SELECT is(:'b'::jsonb, jsonb_build_object('reservation_id', :ra, 'status', 'REFUNDED', 'refund', 135000, 'fee', 15000,
                                          'balance', 485000),
  'refund_reservation: REFUNDED, 135,000 back, 15,000 kept, the balance after');
SELECT is(pg_temp.balance(:'ka'), 485000::bigint, 'refund_reservation: the wallet is credited');
SELECT results_eq(format($$SELECT type, amount, balance_after FROM ticket.ledger
                          WHERE reservation_id = %s ORDER BY id$$, :ra),
  $$VALUES ('PAYMENT', 150000::bigint, 350000::bigint), ('REFUND', 135000::bigint, 485000::bigint)$$,
  'refund_reservation: a REFUND ledger row with the balance after it');
SELECT results_eq(format('SELECT amount, fee, refunded_by, reason FROM ticket.refunds WHERE reservation_id = %s', :ra),
  $$VALUES (135000::bigint, 15000::bigint, 'user', NULL::text)$$, 'refund_reservation: the refund is recorded against the payment');
SELECT is((api.get_reservation(:'ka', NULL, :ra)).body->>'status', 'REFUNDED', 'get_reservation: the reservation is REFUNDED');
SELECT is(pg_temp.seat_status(:c, 1), 'AVAILABLE', 'refund_reservation: the seat is for sale again');
SELECT is((SELECT upper_inf(claim) FROM ticket.reservation_seats WHERE reservation_id = :ra), false,
  'refund_reservation: the sale''s claim on the seat has ended');

-- Replays and refusals
SELECT is((SELECT body::jsonb FROM api.refund_reservation(:'ka', :ra, 'ref-1')), :'b'::jsonb,
  'refund_reservation: a retry with the same key replays the answer');
SELECT is(pg_temp.balance(:'ka'), 485000::bigint, 'refund_reservation: ... and moves no money');
SELECT throws_ok(format('SELECT api.refund_reservation(%L, %s, NULL)', :'ka', :ra), 'T409E', NULL,
  'refund_reservation: refunding again is REFUND_NOT_ALLOWED');
SELECT throws_ok(format('SELECT api.refund_reservation(%L, %s, %L)', :'ka', :ra, 'ref-2'), 'T409E', NULL,
  'refund_reservation: ... with another key too');
SELECT throws_ok(format('SELECT api.refund_reservation(%L, %s, NULL)', :'kb', :ra), 'T404A', NULL,
  'refund_reservation: another user''s reservation is NOT_FOUND');
SELECT throws_ok(format('SELECT api.refund_reservation(%L, %s, NULL)', 'tk_nobody', :ra), 'T401A', NULL,
  'refund_reservation: an unknown key is UNAUTHENTICATED');
SELECT pg_temp.join_queue(:'kb', :c) AS tb \gset
SELECT pg_temp.hold(:'kb', :'tb', :c, '{2}') AS rb \gset
SELECT throws_ok(format('SELECT api.refund_reservation(%L, %s, NULL)', :'kb', :rb), 'T409E', NULL,
  'refund_reservation: a HELD reservation is REFUND_NOT_ALLOWED (cancel it instead)');
SELECT (api.pay_reservation(:'kb', :'tb', :rb, NULL)).status AS ok \gset

-- The deadline, by moving the performance closer
UPDATE ticket.concert_dates SET starts_at = now() + interval '23 hours' WHERE concert_id = :c;
SELECT throws_ok(format('SELECT api.refund_reservation(%L, %s, NULL)', :'kb', :rb), 'T409E', NULL,
  'refund_reservation: 23 hours before the performance is past the deadline: REFUND_NOT_ALLOWED');
SELECT is((e.detail::json->>'refundable_until')::timestamptz, now() - interval '1 hour',
  'refund_reservation: ... with details.refundable_until')
FROM (SELECT 1) x, LATERAL (SELECT * FROM pg_temp.error_of(format('SELECT api.refund_reservation(%L, %s, NULL)', :'kb', :rb))) e;
SELECT is(pg_temp.balance(:'kb'), 390000::bigint, 'refund_reservation: a refused refund moves no money');
SELECT lives_ok(format('SELECT admin.set_refunds(%s, p_hours_before => 12, p_fee_percent => 33)', :c),
  'admin.set_refunds: the deadline becomes 12 hours before, the fee 33 %');
SELECT results_eq(format('SELECT status, (body->>''refund'')::bigint, (body->>''fee'')::bigint FROM api.refund_reservation(%L, %s, NULL)', :'kb', :rb),
  $$VALUES (200, 73700::bigint, 36300::bigint)$$, 'refund_reservation: then 110,000 won less 33 % (rounded down) comes back');
SELECT throws_ok(format('SELECT admin.set_refunds(%s, p_fee_percent => 101)', :c), '23514', NULL,
  'admin.set_refunds: a fee over 100 % is refused');

-- A DBA's refund: in full, past the deadline, recorded with who and why
SELECT pg_temp.buy(:'kc', :c, '{3}') AS rc \gset
UPDATE ticket.concert_dates SET starts_at = now() + interval '1 hour' WHERE concert_id = :c;
SELECT throws_ok(format('SELECT admin.refund(%s, %L)', :rc, ''), 'T400A', NULL, 'admin.refund: a reason is required');
SELECT is((admin.refund(:rc, 'the show is cancelled')::jsonb)->>'refund', '80000', 'admin.refund: the whole price comes back');
SELECT results_eq(format('SELECT fee, refunded_by = session_user, reason FROM ticket.refunds WHERE reservation_id = %s', :rc),
  $$VALUES (0::bigint, true, 'the show is cancelled')$$, 'admin.refund: no fee; who and why are recorded');
SELECT throws_ok(format('SELECT admin.refund(%s, %L)', :rc, 'again'), 'T409E', NULL, 'admin.refund: a refunded one is refused');

-- The books
SELECT results_eq('SELECT refunded, fees_kept, difference FROM admin.books()',
  $$VALUES ((SELECT sum(amount) FROM ticket.ledger WHERE type = 'REFUND')::bigint,
            (SELECT sum(fee) FROM ticket.refunds)::bigint, 0::bigint)$$,
  'admin.books: refunds and fees, and no won lost');
SELECT results_eq(format('SELECT sold, refunded, fees, revenue FROM admin.sales_report(%s)', :c),
  $$VALUES (0::bigint, 3::bigint, 51300::bigint, 51300::bigint)$$,
  'admin.sales_report: nothing sold any more, three refunds, the fees kept are the revenue');
SELECT is((SELECT array_agg(invariant) FROM admin.check_invariants()), NULL, 'check_invariants: nothing broken');

-- Broken on purpose, each is reported
UPDATE ticket.seats SET sold = true, reservation_id = :rc WHERE id = pg_temp.seat_id(:c, 3);
SELECT ok('no seat is both sold and refunded' IN (SELECT invariant FROM admin.check_invariants()),
  'check_invariants: a seat sold and refunded at once is reported');
UPDATE ticket.seats SET sold = false, reservation_id = NULL WHERE id = pg_temp.seat_id(:c, 3);
UPDATE ticket.refunds SET ledger_id = NULL, amount = 0, fee = 80000 WHERE reservation_id = :rc;
SELECT ok('a REFUND ledger row belongs to a refund' IN (SELECT invariant FROM admin.check_invariants()),
  'check_invariants: a REFUND ledger row without its refund is reported');

-- The waiting list: a sold-out concert's seat comes back to the first in line
SELECT admin.create_concert('Waiting list', 'Hall', ARRAY[now() + interval '10 days'], p_seats => 1,
                            p_max_active => 5) AS w \gset
SELECT pg_temp.new_user('wl-1') AS k1, pg_temp.new_user('wl-2') AS k2, pg_temp.new_user('wl-3') AS k3 \gset
SELECT count(*) FROM (SELECT api.charge_wallet(k, 500000, NULL) FROM unnest(ARRAY[:'k1', :'k2', :'k3']) k) x;
SELECT pg_temp.buy(:'k1', :w, '{1}') AS r1 \gset
SELECT pg_temp.join_queue(:'k2', :w) AS t2 \gset
SELECT pg_temp.join_queue(:'k3', :w) AS t3 \gset
SELECT results_eq(format($$SELECT pg_temp.poll(%L, 'status'), pg_temp.poll(%L, 'position'), pg_temp.poll(%L, 'position')$$,
                         :'t2', :'t2', :'t3'),
  $$VALUES ('SOLD_OUT', '1', '2')$$, 'waiting list: sold out, two in line, in order');
SELECT is((api.refund_reservation(:'k1', :r1, NULL)).status, 200, 'waiting list: the buyer refunds the only seat');
SELECT is(pg_temp.poll(:'t2', 'status'), 'ACTIVE', 'waiting list: the first on the list is admitted at once');
SELECT is(pg_temp.poll(:'t3', 'status'), 'WAITING', 'waiting list: the second waits: one seat, one turn');
SELECT is((api.hold_seat(:'k2', :'t2', :w, (SELECT on_date FROM ticket.concert_dates WHERE concert_id = :w), '{1}')).status,
  201, 'waiting list: the admitted one holds the seat that came back');

SELECT * FROM finish();
ROLLBACK;
