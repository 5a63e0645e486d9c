-- Paying for a held reservation from the wallet.

CREATE OR REPLACE FUNCTION ticket.check_sold_out(p_concert_id bigint)
RETURNS boolean
LANGUAGE plpgsql
AS $$
DECLARE
  v_sold_out boolean;
BEGIN
  -- Sold out when no future seat is unsold; held seats may still come back, and so
  -- may sold ones (a refund): the flag follows the seats both ways.
  v_sold_out := NOT EXISTS (SELECT 1 FROM ticket.concert_dates d JOIN ticket.seats s ON s.date_id = d.id
                            WHERE d.concert_id = p_concert_id AND d.starts_at > now() AND NOT s.sold);
  UPDATE ticket.queues SET sold_out = v_sold_out, waitlist = waitlist OR v_sold_out
  WHERE concert_id = p_concert_id AND sold_out <> v_sold_out;
  RETURN v_sold_out;
END
$$;
COMMENT ON FUNCTION ticket.check_sold_out(bigint) IS
  'Mark the queue sold out when nothing is left to sell (waiting tokens are then the waiting list), or on sale again.';

-- A payment is three steps (migrations/0009_payment_saga.sql): ticket.pay_reserve on the
-- concert's side, ticket.debit on the user's, then ticket.pay_confirm, or
-- ticket.pay_release when the debit is refused. Each is idempotent by the payment's
-- reference. On one database api.pay_reservation runs all three in one transaction;
-- the lock order is the one of every seat path: token, reservation, seats, wallet,
-- queue row.

-- A payment ends the turn and releases the user's other holds of the concert
-- (ticket.release_holds); their seats are locked now with the paid ones, all in seat_no
-- order. Locked only when released, a seat_no below a paid one deadlocked with another
-- buyer holding both (tests/interleave/lock_order.t, "pay releasing").
CREATE OR REPLACE FUNCTION ticket.lock_payer_seats(p_r ticket.reservations)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM 1 FROM ticket.seats
  WHERE id IN (SELECT rs.seat_id FROM ticket.reservation_seats rs JOIN ticket.reservations r ON r.id = rs.reservation_id
               WHERE r.id = p_r.id OR (r.user_id = p_r.user_id AND r.concert_id = p_r.concert_id AND r.status = 'HELD'))
  ORDER BY seat_no, id
  FOR UPDATE;
END
$$;
COMMENT ON FUNCTION ticket.lock_payer_seats(ticket.reservations) IS
  'Lock, in seat_no order, the seats of a reservation being paid and of its user''s other holds of the concert.';

-- Step 1, the concert's side: the caller's HELD reservation becomes PAYING under
-- p_ref, its claims open-ended, so that it cannot run out while the wallet is debited.
CREATE OR REPLACE FUNCTION ticket.pay_reserve(p_user_id bigint, p_api_key text, p_token text,
                                              p_reservation_id bigint, p_ref text)
RETURNS ticket.reservations
LANGUAGE plpgsql
AS $$
DECLARE
  v_r ticket.reservations;
BEGIN
  SELECT * INTO v_r FROM ticket.reservations WHERE id = p_reservation_id;
  IF NOT found OR v_r.user_id <> p_user_id THEN
    PERFORM ticket.fail('T404A', format('reservation %s not found', p_reservation_id));
  ELSIF v_r.status = 'PAYING' AND v_r.payment_ref = p_ref THEN
    RETURN v_r;  -- this step again
  END IF;
  -- What cannot be paid is said before the queue gate: a paid customer is never sent
  -- back to the queue.
  PERFORM ticket.check_payable(v_r, now());
  BEGIN
    PERFORM ticket.gate(p_api_key, p_token, v_r.concert_id, p_lock => true);
  EXCEPTION WHEN SQLSTATE 'T401C' THEN
    -- The turn may have ended, while this waited for its lock, by a twin of this very
    -- payment: then the reservation is paid, and that is the answer.
    SELECT * INTO v_r FROM ticket.reservations WHERE id = p_reservation_id;
    PERFORM ticket.check_payable(v_r, now());
    RAISE;
  END;
  SELECT * INTO v_r FROM ticket.reservations WHERE id = p_reservation_id FOR UPDATE;
  PERFORM ticket.lock_payer_seats(v_r);
  -- Again after the locks, by the clock: a concurrent payment, or a hold that ran out
  -- while this waited.
  PERFORM ticket.check_payable(v_r, clock_timestamp());
  -- The claims become open-ended. Should another hold have claimed a seat in the very
  -- instant the hold ran out, the constraint refuses and nothing is paid.
  BEGIN
    UPDATE ticket.reservation_seats SET claim = tstzrange(lower(claim), NULL) WHERE reservation_id = v_r.id;
  EXCEPTION WHEN exclusion_violation THEN
    PERFORM ticket.fail('T410A', format('the hold of reservation %s ran out; no money was taken', v_r.id));
  END;
  UPDATE ticket.seats SET held_until = 'infinity' WHERE reservation_id = v_r.id;
  UPDATE ticket.reservations SET status = 'PAYING', payment_ref = p_ref, paying_since = now()
  WHERE id = v_r.id
  RETURNING * INTO v_r;
  RETURN v_r;
END
$$;
COMMENT ON FUNCTION ticket.pay_reserve(bigint, text, text, bigint, text) IS
  'Payment step 1 (concert side): check and lock the caller''s HELD reservation and make it PAYING under the reference; 4xx as the payment would.';

-- Step 2, the user's side: debit the wallet once per reference. A reference that was
-- refused or aborted stays so: a late or repeated call cannot take money.
CREATE OR REPLACE FUNCTION ticket.debit(p_user_id bigint, p_ref text, p_reservation_id bigint, p_amount bigint,
                                        OUT outcome text, OUT ledger_id bigint, OUT balance bigint)
LANGUAGE plpgsql
AS $$
DECLARE
  v_d ticket.debits;
BEGIN
  -- The wallet's lock serialises every debit of the user, so a reference is looked at
  -- by one call at a time.
  SELECT w.balance INTO balance FROM ticket.wallets w WHERE w.user_id = p_user_id FOR UPDATE;
  SELECT * INTO v_d FROM ticket.debits d WHERE d.ref = p_ref;
  IF found THEN
    IF v_d.user_id <> p_user_id OR v_d.reservation_id <> p_reservation_id OR v_d.amount <> p_amount THEN
      PERFORM ticket.fail('T409C', format('payment %s was for another reservation', p_ref));
    END IF;
    outcome := v_d.outcome;
    ledger_id := v_d.ledger_id;
    IF ledger_id IS NOT NULL THEN
      SELECT l.balance_after INTO balance FROM ticket.ledger l WHERE l.id = ledger_id;
    END IF;
    RETURN;
  END IF;
  IF balance >= p_amount THEN
    SELECT l.id, l.balance_after INTO ledger_id, balance FROM ticket.post_ledger(p_user_id, 'PAYMENT', p_amount, p_reservation_id) l;
    outcome := 'DEBITED';
  ELSE
    outcome := 'REFUSED';
  END IF;
  INSERT INTO ticket.debits (ref, user_id, reservation_id, amount, outcome, ledger_id)
  VALUES (p_ref, p_user_id, p_reservation_id, p_amount, outcome, ledger_id);
END
$$;
COMMENT ON FUNCTION ticket.debit(bigint, text, bigint, bigint) IS
  'Payment step 2 (user side): debit the wallet once per reference; DEBITED (with ledger row and balance), or REFUSED for want of money.';

-- Recovery's question to the user's side: was this payment debited? If nothing was
-- done yet, nothing ever will be: the reference is aborted first.
CREATE OR REPLACE FUNCTION ticket.abort_debit(p_user_id bigint, p_ref text, p_reservation_id bigint, p_amount bigint)
RETURNS ticket.debits
LANGUAGE plpgsql
AS $$
DECLARE
  v_d ticket.debits;
BEGIN
  PERFORM 1 FROM ticket.wallets WHERE user_id = p_user_id FOR UPDATE;
  INSERT INTO ticket.debits (ref, user_id, reservation_id, amount, outcome)
  VALUES (p_ref, p_user_id, p_reservation_id, p_amount, 'ABORTED')
  ON CONFLICT (ref) DO NOTHING;
  SELECT * INTO STRICT v_d FROM ticket.debits WHERE ref = p_ref;
  RETURN v_d;
END
$$;
COMMENT ON FUNCTION ticket.abort_debit(bigint, text, bigint, bigint) IS
  'Recovery (user side): the payment''s debit as it stands, after making sure one that never happened never will (ABORTED).';

-- Step 3, the concert's side: the PAYING reservation is sold; the turn ends and the
-- next in line is admitted. Returns the payment's id.
-- The sale of a PAYING reservation whose row and seats (ticket.lock_payer_seats) the
-- caller has locked: seats SOLD, the payment row, CONFIRMED, the turn DONE and the next
-- admitted. Returns the payment's id.
CREATE OR REPLACE FUNCTION ticket.sell(p_r ticket.reservations, p_ledger_id bigint)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
  v_pay_id bigint;
  v_token  bigint;
  v_last   boolean;
BEGIN
  UPDATE ticket.seats SET sold = true, held_until = NULL WHERE reservation_id = p_r.id;
  INSERT INTO ticket.payments (reservation_id, user_id, amount, ledger_id, ref)
  VALUES (p_r.id, p_r.user_id, p_r.amount, p_ledger_id, p_r.payment_ref)
  RETURNING id INTO v_pay_id;
  UPDATE ticket.reservations SET status = 'CONFIRMED', ended_at = now(), paying_since = NULL WHERE id = p_r.id;
  -- The turn is over: holds of it left unpaid go back on sale.
  PERFORM ticket.release_holds(p_r.user_id, p_r.concert_id);
  -- Only a payment that sold its date's last free seat can have sold the concert out;
  -- a seat another call is selling right now counts as sold, so of two last sales at
  -- once both check.
  PERFORM 1 FROM ticket.seats WHERE date_id = p_r.date_id AND NOT sold LIMIT 1 FOR SHARE SKIP LOCKED;
  v_last := NOT found;
  SELECT id INTO v_token FROM ticket.queue_tokens
  WHERE user_id = p_r.user_id AND concert_id = p_r.concert_id AND status = 'ACTIVE';
  IF v_token IS NOT NULL THEN
    PERFORM ticket.free_slot(v_token, p_r.concert_id, 'DONE', p_sold_last_seat => v_last);
  ELSIF v_last THEN
    -- Confirmed by recovery after the turn ended: only the sell-out is left to note.
    PERFORM 1 FROM ticket.queues WHERE concert_id = p_r.concert_id FOR UPDATE;
    PERFORM ticket.check_sold_out(p_r.concert_id);
  END IF;
  RETURN v_pay_id;
END
$$;
COMMENT ON FUNCTION ticket.sell(ticket.reservations, bigint) IS
  'Sell a locked PAYING reservation: seats SOLD, payment, CONFIRMED, the turn DONE and the next admitted; returns the payment id.';

-- Step 3 on its own transaction (the proxy, recovery): find and lock the PAYING
-- reservation by its reference, then sell it. Returns the payment's id.
CREATE OR REPLACE FUNCTION ticket.pay_confirm(p_ref text, p_ledger_id bigint)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
  v_r ticket.reservations;
BEGIN
  SELECT * INTO v_r FROM ticket.reservations WHERE payment_ref = p_ref FOR UPDATE;
  IF NOT found THEN
    PERFORM ticket.fail('T404A', format('no reservation is being paid under %s', p_ref));
  ELSIF v_r.status = 'CONFIRMED' THEN
    RETURN (SELECT id FROM ticket.payments WHERE ref = p_ref);  -- this step again
  ELSIF v_r.status <> 'PAYING' THEN
    PERFORM ticket.fail('T409C', format('reservation %s is %s, not PAYING', v_r.id, v_r.status));
  END IF;
  PERFORM ticket.lock_payer_seats(v_r);
  RETURN ticket.sell(v_r, p_ledger_id);
END
$$;
COMMENT ON FUNCTION ticket.pay_confirm(text, bigint) IS
  'Payment step 3 (concert side): the PAYING reservation is CONFIRMED, its seats SOLD, the turn DONE and the next admitted.';

-- Step 3 when the debit was refused or aborted: the reservation is HELD again until it
-- would have run out anyway, or EXPIRED and its seats free.
CREATE OR REPLACE FUNCTION ticket.pay_release(p_ref text)
RETURNS ticket.reservations
LANGUAGE plpgsql
AS $$
DECLARE
  v_r ticket.reservations;
BEGIN
  SELECT * INTO v_r FROM ticket.reservations WHERE payment_ref = p_ref FOR UPDATE;
  IF NOT found OR v_r.status <> 'PAYING' THEN
    RETURN v_r;  -- released already, or never reserved
  END IF;
  PERFORM ticket.lock_seats(v_r.id);
  IF v_r.expires_at > now() THEN
    UPDATE ticket.reservation_seats SET claim = tstzrange(lower(claim), v_r.expires_at) WHERE reservation_id = v_r.id;
    UPDATE ticket.seats SET held_until = v_r.expires_at WHERE reservation_id = v_r.id;
    UPDATE ticket.reservations SET status = 'HELD', payment_ref = NULL, paying_since = NULL
    WHERE id = v_r.id RETURNING * INTO v_r;
  ELSE
    UPDATE ticket.reservation_seats SET claim = tstzrange(lower(claim), greatest(lower(claim), v_r.expires_at))
    WHERE reservation_id = v_r.id;
    UPDATE ticket.seats SET reservation_id = NULL, held_until = NULL WHERE reservation_id = v_r.id;
    UPDATE ticket.reservations SET status = 'EXPIRED', ended_at = v_r.expires_at, payment_ref = NULL, paying_since = NULL
    WHERE id = v_r.id RETURNING * INTO v_r;
  END IF;
  RETURN v_r;
END
$$;
COMMENT ON FUNCTION ticket.pay_release(text) IS
  'Payment step 3 when no money was taken: the PAYING reservation is HELD again, or EXPIRED with its seats free.';

-- A payment left between its steps (a crash, a server that went away) is finished or
-- undone by its reference: once the user's side has been asked with abort_debit, the
-- answer cannot change, so confirming or releasing on it is safe to repeat.
CREATE OR REPLACE FUNCTION admin.recover_payments(p_older_than interval DEFAULT '1 minute',
                                                  OUT confirmed int, OUT released int)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_r ticket.reservations;
  v_d ticket.debits;
BEGIN
  confirmed := 0;
  released := 0;
  FOR v_r IN SELECT * FROM ticket.reservations
             WHERE status = 'PAYING' AND paying_since <= now() - p_older_than
             -- A payment still going on holds its row; a debit's ledger row only
             -- key-shares it, and is waited for on the wallet (abort_debit).
             ORDER BY id FOR NO KEY UPDATE SKIP LOCKED
  LOOP
    v_d := ticket.abort_debit(v_r.user_id, v_r.payment_ref, v_r.id, v_r.amount);
    IF v_d.outcome = 'DEBITED' THEN
      PERFORM ticket.pay_confirm(v_r.payment_ref, v_d.ledger_id);
      confirmed := confirmed + 1;
    ELSE
      PERFORM ticket.pay_release(v_r.payment_ref);
      released := released + 1;
    END IF;
  END LOOP;
END
$$;
COMMENT ON FUNCTION admin.recover_payments(interval) IS
  'pg_cron, every minute: finish (debited) or release (not debited, and now never will be) each payment PAYING for longer than p_older_than.';

CREATE OR REPLACE FUNCTION api.pay_reservation(p_api_key text, p_token text, p_reservation_id bigint,
                                               p_idempotency_key text)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_user_id bigint := ticket.authenticate(p_api_key);
  v_replay  api.reply;
  v_r       ticket.reservations;
  v_debit   record;
  v_pay_id  bigint;
BEGIN
  -- A replay comes first: after the payment the token is DONE and the gate would refuse.
  v_replay := ticket.idempotency_begin(v_user_id, p_idempotency_key, format('pay reservation %s', p_reservation_id));
  IF v_replay.status IS NOT NULL THEN  -- a row with a NULL field is not IS NOT NULL
    RETURN v_replay;
  END IF;
  -- The three steps in one transaction: a refusal undoes the first.
  v_r := ticket.pay_reserve(v_user_id, p_api_key, p_token, p_reservation_id, gen_random_uuid()::text);
  v_debit := ticket.debit(v_user_id, v_r.payment_ref, v_r.id, v_r.amount);
  IF v_debit.outcome <> 'DEBITED' THEN
    PERFORM ticket.fail('T402A', format('balance %s won is below the amount %s won', v_debit.balance, v_r.amount),
      json_build_object('balance', v_debit.balance, 'amount', v_r.amount), 'charge the wallet, then pay again');
  END IF;
  -- Step 3 without looking up and locking again what step 1 locked.
  v_pay_id := ticket.sell(v_r, v_debit.ledger_id);
  RETURN ticket.idempotency_finish(v_user_id, p_idempotency_key, ticket.reply(201, json_build_object(
    'payment_id', v_pay_id, 'reservation_id', v_r.id, 'amount', v_r.amount,
    'balance', v_debit.balance, 'status', 'CONFIRMED')));
END
$$;
COMMENT ON FUNCTION api.pay_reservation(text, text, bigint, text) IS
  'POST /api/reservations/{id}/payment: reserve, debit, confirm (one transaction here): seats SOLD, reservation CONFIRMED, token DONE, next admitted.';

CREATE OR REPLACE FUNCTION ticket.check_payable(p_r ticket.reservations, p_at timestamptz)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  IF p_r.status = 'EXPIRED' OR (p_r.status = 'HELD' AND p_r.expires_at <= p_at) THEN
    PERFORM ticket.fail('T410A', format('the hold of reservation %s ran out at %s; no money was taken', p_r.id, p_r.expires_at),
      json_build_object('expired_at', p_r.expires_at), 'hold the seats again if they are still available');
  ELSIF p_r.status <> 'HELD' THEN
    PERFORM ticket.fail('T409C', format('reservation %s is %s, not HELD', p_r.id, p_r.status));
  ELSIF (SELECT starts_at FROM ticket.concert_dates WHERE id = p_r.date_id) <= p_at THEN
    PERFORM ticket.fail('T404A', 'the performance has already started; no money was taken',
      json_build_object('reservation_id', p_r.id));
  END IF;
END
$$;
COMMENT ON FUNCTION ticket.check_payable(ticket.reservations, timestamptz) IS
  'HOLD_EXPIRED, RESERVATION_NOT_HELD or NOT_FOUND (performance started) unless the reservation can be paid at p_at.';
