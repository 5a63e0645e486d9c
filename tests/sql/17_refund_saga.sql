-- The refund's steps one at a time, as they run when seats and wallets are on
-- different servers (plpgsql/65_refund.sql; docs/scale.md): reserve, credit, confirm,
-- each idempotent by the reference, and recovery of a refund left between them. A crash
-- is a step that never ran; time moves by moving the refund's created_at.
BEGIN;
SELECT plan(49);
\ir fixtures.psql

CREATE FUNCTION pg_temp.balance(p_key text) RETURNS bigint LANGUAGE sql AS
  $$ SELECT ((api.get_wallet(p_key)).body->>'balance')::bigint $$;
CREATE FUNCTION pg_temp.rf(p_ref text) RETURNS ticket.refunds LANGUAGE sql AS
  $$ SELECT * FROM ticket.refunds WHERE ref = p_ref $$;
CREATE FUNCTION pg_temp.status(p_id bigint) RETURNS text LANGUAGE sql AS
  $$ SELECT status FROM ticket.reservations WHERE id = p_id $$;
CREATE FUNCTION pg_temp.refund_rows(p_id bigint) RETURNS bigint LANGUAGE sql AS
  $$ SELECT count(*) FROM ticket.ledger WHERE reservation_id = p_id AND type = 'REFUND' $$;
-- A user who joins, holds the seat and pays; returns the reservation id.
CREATE FUNCTION pg_temp.buy(p_key text, p_concert bigint, p_seat int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_token text := pg_temp.join_queue(p_key, p_concert);
  v_rid   bigint := pg_temp.hold(p_key, v_token, p_concert, ARRAY[p_seat]);
BEGIN
  PERFORM api.charge_wallet(p_key, 500000, NULL);
  PERFORM api.pay_reservation(p_key, v_token, v_rid, NULL);
  RETURN v_rid;
END
$$;
-- Step 1 as a user's refund.
CREATE FUNCTION pg_temp.reserve(p_key text, p_id bigint, p_ref text) RETURNS ticket.refunds LANGUAGE sql AS
  $$ SELECT * FROM ticket.refund_reserve(pg_temp.user_id(p_key), p_id, p_ref, 'user', NULL, false) $$;
-- As if step 1 had committed p_age ago.
CREATE FUNCTION pg_temp.stuck(p_ref text, p_age interval DEFAULT '2 minutes') RETURNS void LANGUAGE sql AS
  $$ UPDATE ticket.refunds SET created_at = now() - p_age WHERE ref = p_ref $$;
CREATE FUNCTION pg_temp.invariants() RETURNS text[] LANGUAGE sql AS
  $$ SELECT array_agg(invariant ORDER BY invariant) FROM admin.check_invariants() $$;

-- Seats 1 and 2 at 150,000 won, 3 and 4 at 110,000, 5 at 80,000; 10 % fee.
SELECT admin.create_concert('Refund saga test', 'Hall', ARRAY[now() + interval '7 days'], p_seats => 5,
                            p_max_active => 5) AS c \gset
SELECT pg_temp.new_user('rsaga-a') AS ka, pg_temp.new_user('rsaga-b') AS kb, pg_temp.new_user('rsaga-c') AS kc,
       pg_temp.new_user('rsaga-d') AS kd, pg_temp.new_user('rsaga-e') AS ke \gset
SELECT pg_temp.buy(:'ka', :c, 1) AS ra, pg_temp.buy(:'kb', :c, 2) AS rb, pg_temp.buy(:'kc', :c, 3) AS rc,
       pg_temp.buy(:'kd', :c, 4) AS rd, pg_temp.buy(:'ke', :c, 5) AS re \gset

-- Step 1, once and again
SELECT id AS rf_a FROM pg_temp.reserve(:'ka', :ra, 'rf-a') \gset
SELECT results_eq($$SELECT reservation_id, amount, fee, ledger_id, ref FROM pg_temp.rf('rf-a')$$,
  format('VALUES (%s::bigint, 135000::bigint, 15000::bigint, NULL::bigint, %L)', :ra, 'rf-a'),
  'refund_reserve: the refund is recorded under its reference, 10 % kept, its credit pending');
SELECT is(pg_temp.status(:ra), 'REFUNDED', 'refund_reserve: the reservation is REFUNDED');
SELECT is((SELECT ticket.seat_status(sold, held_until) FROM ticket.seats s JOIN ticket.concert_dates d ON d.id = s.date_id
           WHERE d.concert_id = :c AND s.seat_no = 1), 'AVAILABLE', 'refund_reserve: its seat is on sale again');
SELECT is(pg_temp.balance(:'ka'), 350000::bigint, 'refund_reserve: no money moves yet');
SELECT is((pg_temp.reserve(:'ka', :ra, 'rf-a')).id, :rf_a::bigint, 'refund_reserve again: the same refund');
SELECT is((SELECT count(*) FROM ticket.refunds WHERE reservation_id = :ra), 1::bigint, '... and no second one');
SELECT throws_ok(format('SELECT pg_temp.reserve(%L, %s, %L)', :'ka', :ra, 'rf-a2'), 'T409E', NULL,
  'refund_reserve under another reference: REFUND_NOT_ALLOWED');
SELECT throws_ok(format('SELECT pg_temp.reserve(%L, %s, %L)', :'kb', :ra, 'rf-a'), 'T404A', NULL,
  'refund_reserve of another user''s reservation: NOT_FOUND');
SELECT throws_ok(format('SELECT pg_temp.reserve(%L, %s, %L)', :'kb', :rb, 'rf-a'), 'T409C', NULL,
  'refund_reserve under a reference used for another reservation: refused');
SELECT is(pg_temp.status(:rb), 'CONFIRMED', '... and that reservation stays CONFIRMED');
SELECT is(pg_temp.invariants(), NULL, 'invariants hold with a refund''s credit just pending');

-- Step 2, once and again; a reference reused otherwise is refused
SELECT ledger_id AS la, balance AS ba FROM ticket.credit(pg_temp.user_id(:'ka'), 'rf-a', :ra, 135000) \gset
SELECT is(:ba::bigint, 485000::bigint, 'credit: 135,000 won back, the balance after it');
SELECT results_eq(format('SELECT * FROM ticket.credit(%s, %L, %s, 135000)', pg_temp.user_id(:'ka'), 'rf-a', :ra),
  format('VALUES (%s::bigint, 485000::bigint)', :la), 'credit again: the same ledger row and balance');
SELECT is(pg_temp.balance(:'ka'), 485000::bigint, '... and no second credit');
SELECT is(pg_temp.refund_rows(:ra), 1::bigint, '... one REFUND ledger row');
SELECT throws_ok(format('SELECT ticket.credit(%s, %L, %s, 135000)', pg_temp.user_id(:'ka'), 'rf-a', :rb), 'T409C', NULL,
  'credit under the reference for another reservation: refused');
SELECT throws_ok(format('SELECT ticket.credit(%s, %L, %s, 150000)', pg_temp.user_id(:'ka'), 'rf-a', :ra), 'T409C', NULL,
  'credit under the reference for another amount: refused');
SELECT throws_ok(format('SELECT ticket.credit(%s, %L, %s, 135000)', pg_temp.user_id(:'kb'), 'rf-a', :ra), 'T409C', NULL,
  'credit under the reference for another user: refused');
SELECT is(pg_temp.balance(:'kb'), 350000::bigint, '... and credits nothing');
SELECT is(pg_temp.invariants(), NULL, 'invariants hold between a refund''s credit and its confirmation');

-- Step 3, once and again
SELECT is((ticket.refund_confirm('rf-a', :la)).ledger_id, :la::bigint, 'refund_confirm: the refund has its ledger row');
SELECT is((ticket.refund_confirm('rf-a', :la)).ledger_id, :la::bigint, 'refund_confirm again: the same');
SELECT throws_ok(format('SELECT ticket.refund_confirm(%L, %s)', 'rf-a', :la::bigint + 1000), 'T409C', NULL,
  'refund_confirm with another ledger row: refused');
SELECT throws_ok($$SELECT ticket.refund_confirm('rf-none', 1)$$, 'T404A', NULL, 'refund_confirm of no refund: NOT_FOUND');
SELECT is(pg_temp.invariants(), NULL, 'invariants hold after the three steps');

-- A crash after step 1: recovery credits and confirms, once
SELECT (pg_temp.reserve(:'kb', :rb, 'rf-b')).amount AS amt_b \gset
SELECT is(admin.recover_refunds(), 0, 'recover_refunds: a refund pending for under a minute is left to its steps');
SELECT is(admin.recover_refunds(p_older_than => '0'), 1, 'recover_refunds: a refund stuck after step 1 is credited');
SELECT ok((pg_temp.rf('rf-b')).ledger_id = (SELECT ledger_id FROM ticket.credits WHERE ref = 'rf-b'),
  '... and confirmed with its credit''s ledger row');
SELECT is(pg_temp.balance(:'kb'), 485000::bigint, '... the money back');
SELECT is(admin.recover_refunds(p_older_than => '0'), 0, 'recover_refunds again: nothing left');
SELECT is(pg_temp.refund_rows(:rb), 1::bigint, '... the money came back once');
SELECT results_eq(format('SELECT * FROM ticket.credit(%s, %L, %s, %s)', pg_temp.user_id(:'kb'), 'rf-b', :rb, :amt_b),
  format('VALUES ((SELECT ledger_id FROM ticket.credits WHERE ref = %L), 485000::bigint)', 'rf-b'),
  'a late step 2 after recovery: the same ledger row, no second credit');

-- The same by the clock: a refund stuck for two minutes is recovered by the job's default
SELECT (pg_temp.reserve(:'kc', :rc, 'rf-c')).amount AS amt_c \gset
SELECT pg_temp.stuck('rf-c');
SELECT is(admin.recover_refunds(), 1, 'recover_refunds: a refund stuck for two minutes is credited');
SELECT is(pg_temp.balance(:'kc'), (500000 - 110000 + 99000)::bigint, '... 110,000 won less 10 % back');

-- A crash after step 2: recovery confirms with the credit made, without a second one
SELECT (pg_temp.reserve(:'kd', :rd, 'rf-d')).amount AS amt_d \gset
SELECT ledger_id AS ld FROM ticket.credit(pg_temp.user_id(:'kd'), 'rf-d', :rd, :amt_d) \gset
SELECT pg_temp.stuck('rf-d');
SELECT is(admin.recover_refunds(), 1, 'recover_refunds: a refund stuck after step 2 is confirmed');
SELECT is((pg_temp.rf('rf-d')).ledger_id, :ld::bigint, '... with the ledger row of its credit');
SELECT is(pg_temp.refund_rows(:rd), 1::bigint, '... and no second credit');

-- A refund pending for long is reported until recovered
SELECT (pg_temp.reserve(:'ke', :re, 'rf-e')).amount AS amt_e \gset
SELECT pg_temp.stuck('rf-e', '10 minutes');
SELECT is(pg_temp.invariants(), ARRAY['a refund is credited within minutes'],
  'check_invariants: a refund pending for ten minutes is reported');
SELECT is(admin.recover_refunds(), 1, 'recover_refunds: ... and credited');
SELECT is(pg_temp.invariants(), NULL, '... and no longer reported');

-- The fee rule is the refund's terms: 33 % of 110,000 (rounded down) kept; a DBA's in full
SELECT pg_temp.new_user('rsaga-f') AS kf, pg_temp.new_user('rsaga-g') AS kg \gset
SELECT pg_temp.buy(:'kf', :c, 3) AS rf, pg_temp.buy(:'kg', :c, 4) AS rg \gset
SELECT admin.set_refunds(:c, p_fee_percent => 33);
SELECT results_eq(format('SELECT amount, fee FROM pg_temp.reserve(%L, %s, %L)', :'kf', :rf, 'rf-f'),
  $$VALUES (73700::bigint, 36300::bigint)$$, 'refund_reserve: 110,000 won less 33 % rounded down, as ticket.refund_terms says');
SELECT results_eq(format($$SELECT amount, fee, refunded_by, reason
                           FROM ticket.refund_reserve(NULL, %s, 'rf-g', 'dba', 'cancelled', true)$$, :rg),
  $$VALUES (110000::bigint, 0::bigint, 'dba', 'cancelled')$$, 'refund_reserve in full (a DBA''s): no fee, who and why');
SELECT is(admin.recover_refunds(p_older_than => '0'), 2, 'recover_refunds: both credited');

-- Nothing to pay back (a 100 % fee) is no pending credit
SELECT pg_temp.new_user('rsaga-h') AS kh \gset
SELECT pg_temp.buy(:'kh', :c, 5) AS rh \gset
SELECT admin.set_refunds(:c, p_fee_percent => 100);
SELECT results_eq(format('SELECT amount, ledger_id FROM pg_temp.reserve(%L, %s, %L)', :'kh', :rh, 'rf-h'),
  $$VALUES (0::bigint, NULL::bigint)$$, 'refund_reserve with a 100 % fee: nothing to pay back, no ledger row');
SELECT is(admin.recover_refunds(p_older_than => '0'), 0, 'recover_refunds: ... and nothing to credit');

-- The books
SELECT is((SELECT difference FROM admin.books()), 0::bigint, 'admin.books: no won lost or made');
SELECT is(pg_temp.invariants(), NULL, 'check_invariants: nothing broken');

-- Broken on purpose, each is reported
UPDATE ticket.credits SET amount = amount + 1 WHERE ref = 'rf-a';
SELECT is(pg_temp.invariants(), ARRAY['credit has its refund', 'refund has its credit, or its credit is pending'],
  'check_invariants: a credit of another amount than its refund is reported on both sides');
DELETE FROM ticket.credits WHERE ref = 'rf-a';
SELECT is(pg_temp.invariants(), ARRAY['a REFUND ledger row belongs to a refund', 'refund has its credit, or its credit is pending'],
  'check_invariants: a refund confirmed without its credit is reported, and so is its ledger row');

SELECT * FROM finish();
ROLLBACK;
