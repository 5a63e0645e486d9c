-- Refunds: a paid reservation back to the wallet, before the concert's deadline, minus
-- its fee; the seats come back on sale (to the waiting list first).
--
-- A refund is three steps (migrations/0010_refund_saga.sql), each idempotent by the
-- refund's reference: ticket.refund_reserve on the concert's side (seats back, REFUNDED,
-- the refund recorded with its credit pending), ticket.credit on the user's, then
-- ticket.refund_confirm. A credit cannot be refused, so there is nothing to undo: a
-- refund left pending is finished by admin.recover_refunds(). On one database
-- api.refund_reservation and admin.refund run all three in one transaction, in the lock
-- order of every seat path: reservation, seats in seat_no order, wallet, queue row; so
-- there the waiting list, which step 1 admits, is admitted after the credit
-- (ticket.refund_finish).

-- Step 1 without the waiting list: check and lock the reservation, put its seats back
-- on sale and record the refund under p_ref, credit pending. p_user_id NULL is a DBA's
-- refund of anyone's reservation; p_full refunds the whole price, whatever the deadline.
-- The same reference again returns the refund it made.
CREATE OR REPLACE FUNCTION ticket.unsell(p_user_id bigint, p_reservation_id bigint, p_ref text,
                                         p_by text, p_reason text, p_full boolean)
RETURNS ticket.refunds
LANGUAGE plpgsql
AS $$
DECLARE
  v_r     ticket.reservations;
  v_rf    ticket.refunds;
  v_terms record;
  v_fee   bigint := 0;
BEGIN
  -- A booking is the user's own, with or without a queue turn: the key alone.
  SELECT * INTO v_r FROM ticket.reservations WHERE id = p_reservation_id FOR UPDATE;
  IF NOT found OR v_r.user_id <> p_user_id THEN
    PERFORM ticket.fail('T404A', format('reservation %s not found', p_reservation_id));
  END IF;
  SELECT * INTO v_rf FROM ticket.refunds WHERE ref = p_ref;
  IF found THEN
    IF v_rf.reservation_id <> v_r.id THEN
      PERFORM ticket.fail('T409C', format('refund %s was for another reservation', p_ref));
    END IF;
    RETURN v_rf;  -- this step again
  END IF;
  IF v_r.status <> 'CONFIRMED' THEN
    PERFORM ticket.fail('T409E', format('reservation %s is %s; only a CONFIRMED one can be refunded', v_r.id,
      CASE WHEN p_user_id IS NULL THEN v_r.status ELSE ticket.reservation_status(v_r.status, v_r.expires_at) END));
  END IF;
  v_terms := ticket.refund_terms(v_r);
  IF p_full THEN
    v_terms.refund := v_r.amount;
  ELSE
    v_fee := v_terms.fee;
    -- By the clock: the lock may have been waited for up to the deadline.
    IF clock_timestamp() >= v_terms.refundable_until THEN
      PERFORM ticket.fail('T409E', format('reservation %s could be refunded until %s', v_r.id, v_terms.refundable_until),
        json_build_object('refundable_until', v_terms.refundable_until));
    END IF;
  END IF;
  PERFORM ticket.lock_seats(v_r.id);
  -- The sale's open-ended claims end now; the seats are for sale again.
  UPDATE ticket.reservation_seats SET claim = tstzrange(lower(claim), greatest(lower(claim), now()))
  WHERE reservation_id = v_r.id AND upper_inf(claim);
  UPDATE ticket.seats SET sold = false, reservation_id = NULL, held_until = NULL
  WHERE reservation_id = v_r.id AND sold;
  UPDATE ticket.reservations SET status = 'REFUNDED' WHERE id = v_r.id;
  INSERT INTO ticket.refunds (reservation_id, payment_id, amount, fee, refunded_by, reason, ref)
  SELECT v_r.id, p.id, v_terms.refund, v_fee, p_by, p_reason, p_ref
  FROM ticket.payments p WHERE p.reservation_id = v_r.id
  RETURNING * INTO v_rf;
  RETURN v_rf;
END
$$;
COMMENT ON FUNCTION ticket.unsell(bigint, bigint, text, text, text, boolean) IS
  'Refund step 1 but the waiting list: check and lock the reservation, seats back on sale, REFUNDED, the refund recorded with its credit pending.';

-- A seat came back: the concert is on sale again, and the first on the waiting list is
-- admitted into it. Admissions follow the free seats, so this is safe to repeat.
CREATE OR REPLACE FUNCTION ticket.readmit(p_concert_id bigint)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  IF NOT ticket.check_sold_out(p_concert_id) THEN
    PERFORM ticket.admit(p_concert_id);
  END IF;
END
$$;
COMMENT ON FUNCTION ticket.readmit(bigint) IS
  'After seats came back: the concert on sale again, and the waiting list admitted to them.';

-- Step 1, the concert's side, on its own transaction (the proxy).
CREATE OR REPLACE FUNCTION ticket.refund_reserve(p_user_id bigint, p_reservation_id bigint, p_ref text,
                                                 p_by text, p_reason text, p_full boolean)
RETURNS ticket.refunds
LANGUAGE plpgsql
AS $$
DECLARE
  v_rf ticket.refunds;
BEGIN
  v_rf := ticket.unsell(p_user_id, p_reservation_id, p_ref, p_by, p_reason, p_full);
  PERFORM ticket.readmit((SELECT concert_id FROM ticket.reservations WHERE id = v_rf.reservation_id));
  RETURN v_rf;
END
$$;
COMMENT ON FUNCTION ticket.refund_reserve(bigint, bigint, text, text, text, boolean) IS
  'Refund step 1 (concert side): ticket.unsell, then the waiting list admitted; 4xx as the refund would.';

-- Step 2, the user's side: credit the wallet once per reference.
CREATE OR REPLACE FUNCTION ticket.credit(p_user_id bigint, p_ref text, p_reservation_id bigint, p_amount bigint,
                                         OUT ledger_id bigint, OUT balance bigint)
LANGUAGE plpgsql
AS $$
DECLARE
  v_c ticket.credits;
BEGIN
  -- The wallet's lock serialises every credit of the user, so a reference is looked at
  -- by one call at a time (a late step and recovery alike).
  PERFORM 1 FROM ticket.wallets w WHERE w.user_id = p_user_id FOR UPDATE;
  IF NOT found THEN
    PERFORM ticket.fail('T404A', format('user %s has no wallet here', p_user_id));
  END IF;
  SELECT * INTO v_c FROM ticket.credits c WHERE c.ref = p_ref;
  IF found THEN
    IF v_c.user_id <> p_user_id OR v_c.reservation_id <> p_reservation_id OR v_c.amount <> p_amount THEN
      PERFORM ticket.fail('T409C', format('refund %s was for another reservation', p_ref));
    END IF;
    ledger_id := v_c.ledger_id;
    SELECT l.balance_after INTO balance FROM ticket.ledger l WHERE l.id = v_c.ledger_id;
    RETURN;
  END IF;
  SELECT l.id, l.balance_after INTO ledger_id, balance
  FROM ticket.post_ledger(p_user_id, 'REFUND', p_amount, p_reservation_id) l;
  INSERT INTO ticket.credits (ref, user_id, reservation_id, amount, ledger_id)
  VALUES (p_ref, p_user_id, p_reservation_id, p_amount, ledger_id);
END
$$;
COMMENT ON FUNCTION ticket.credit(bigint, text, bigint, bigint) IS
  'Refund step 2 (user side): credit the wallet once per reference; the REFUND ledger row and the balance after it.';

-- Step 3, the concert's side: the refund gets its ledger row.
CREATE OR REPLACE FUNCTION ticket.refund_confirm(p_ref text, p_ledger_id bigint)
RETURNS ticket.refunds
LANGUAGE plpgsql
AS $$
DECLARE
  v_rf ticket.refunds;
BEGIN
  SELECT * INTO v_rf FROM ticket.refunds WHERE ref = p_ref FOR UPDATE;
  IF NOT found THEN
    PERFORM ticket.fail('T404A', format('no refund %s', p_ref));
  ELSIF v_rf.ledger_id IS NOT DISTINCT FROM p_ledger_id OR v_rf.amount = 0 THEN
    RETURN v_rf;  -- this step again, or nothing was credited
  ELSIF v_rf.ledger_id IS NOT NULL THEN
    PERFORM ticket.fail('T409C', format('refund %s was credited by ledger row %s', p_ref, v_rf.ledger_id));
  END IF;
  UPDATE ticket.refunds SET ledger_id = p_ledger_id WHERE id = v_rf.id RETURNING * INTO v_rf;
  RETURN v_rf;
END
$$;
COMMENT ON FUNCTION ticket.refund_confirm(text, bigint) IS
  'Refund step 3 (concert side): record the credit''s ledger row with the refund; idempotent.';

-- Steps 2 and 3 on one database, then the waiting list (after the wallet: the lock
-- order); the reply's body.
CREATE OR REPLACE FUNCTION ticket.refund_finish(p_rf ticket.refunds)
RETURNS json
LANGUAGE plpgsql
AS $$
DECLARE
  v_r      ticket.reservations;
  v_credit record;
  v_balance bigint;
BEGIN
  SELECT * INTO v_r FROM ticket.reservations WHERE id = p_rf.reservation_id;
  IF p_rf.amount > 0 THEN
    v_credit := ticket.credit(v_r.user_id, p_rf.ref, v_r.id, p_rf.amount);
    PERFORM ticket.refund_confirm(p_rf.ref, v_credit.ledger_id);
    v_balance := v_credit.balance;
  ELSE
    SELECT balance INTO v_balance FROM ticket.wallets WHERE user_id = v_r.user_id;
  END IF;
  PERFORM ticket.readmit(v_r.concert_id);
  RETURN json_build_object('reservation_id', v_r.id, 'status', 'REFUNDED', 'refund', p_rf.amount,
                           'fee', p_rf.fee, 'balance', v_balance);
END
$$;
COMMENT ON FUNCTION ticket.refund_finish(ticket.refunds) IS
  'Credit and confirm a refund just made (one transaction), admit the waiting list; the refund''s reply body.';

-- A refund left pending (a crash, a server that went away) is credited, which its
-- reference makes safe to repeat, then confirmed.
CREATE OR REPLACE FUNCTION admin.recover_refunds(p_older_than interval DEFAULT '1 minute')
RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_rf      ticket.refunds;
  v_user_id bigint;
  v_credit  record;
  v_n       int := 0;
BEGIN
  -- A refund still going on holds its row (step 1 or 3): it is left to finish.
  FOR v_rf IN SELECT * FROM ticket.refunds
              WHERE amount > 0 AND ledger_id IS NULL AND created_at <= now() - p_older_than
              ORDER BY id FOR NO KEY UPDATE SKIP LOCKED
  LOOP
    SELECT user_id INTO v_user_id FROM ticket.reservations WHERE id = v_rf.reservation_id;
    v_credit := ticket.credit(v_user_id, v_rf.ref, v_rf.reservation_id, v_rf.amount);
    PERFORM ticket.refund_confirm(v_rf.ref, v_credit.ledger_id);
    v_n := v_n + 1;
  END LOOP;
  RETURN v_n;
END
$$;
COMMENT ON FUNCTION admin.recover_refunds(interval) IS
  'pg_cron, every minute: credit and confirm each refund whose credit is pending for longer than p_older_than; returns how many.';

CREATE OR REPLACE FUNCTION api.refund_reservation(p_api_key text, p_reservation_id bigint, p_idempotency_key text)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_user_id bigint := ticket.authenticate(p_api_key);
  v_replay  api.reply;
BEGIN
  v_replay := ticket.idempotency_begin(v_user_id, p_idempotency_key, format('refund reservation %s', p_reservation_id));
  IF v_replay.status IS NOT NULL THEN
    RETURN v_replay;
  END IF;
  RETURN ticket.idempotency_finish(v_user_id, p_idempotency_key, ticket.reply(200, ticket.refund_finish(
    ticket.unsell(v_user_id, p_reservation_id, gen_random_uuid()::text, 'user', NULL, false))));
END
$$;
COMMENT ON FUNCTION api.refund_reservation(text, bigint, text) IS
  'POST /api/reservations/{id}/refund: a CONFIRMED reservation before its deadline, minus the fee; seats back on sale.';

CREATE OR REPLACE FUNCTION admin.refund(p_reservation_id bigint, p_reason text)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF coalesce(btrim(p_reason), '') = '' THEN
    RAISE EXCEPTION USING ERRCODE = 'T400A', MESSAGE = 'say why: admin.refund(reservation_id, reason)';
  END IF;
  RETURN ticket.refund_finish(ticket.unsell(NULL, p_reservation_id, gen_random_uuid()::text, session_user, p_reason, true));
END
$$;
COMMENT ON FUNCTION admin.refund(bigint, text) IS
  'Refund a CONFIRMED reservation in full, whatever the deadline (a cancelled show), recording who and why.';

CREATE OR REPLACE FUNCTION admin.set_refunds(p_concert_id bigint, p_hours_before int DEFAULT NULL,
                                             p_fee_percent int DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  UPDATE ticket.concerts
  SET refund_hours_before = coalesce(p_hours_before, refund_hours_before),
      refund_fee_percent = coalesce(p_fee_percent, refund_fee_percent)
  WHERE id = p_concert_id;
  IF NOT found THEN
    RAISE EXCEPTION USING ERRCODE = 'T404A', MESSAGE = format('concert %s not found', p_concert_id);
  END IF;
END
$$;
COMMENT ON FUNCTION admin.set_refunds(bigint, int, int) IS
  'Until how many hours before each performance a ticket can be refunded, and the fee in percent (NULL keeps).';
