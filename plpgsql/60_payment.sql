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

CREATE OR REPLACE FUNCTION api.pay_reservation(p_api_key text, p_token text, p_reservation_id bigint,
                                               p_idempotency_key text)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_user_id bigint := ticket.authenticate(p_api_key);
  v_replay  api.reply;
  v_gate    record;
  v_r       ticket.reservations;
  v_balance bigint;
  v_ledger  ticket.ledger;
  v_pay_id  bigint;
BEGIN
  -- A replay comes first: after the payment the token is DONE and the gate would refuse.
  v_replay := ticket.idempotency_begin(v_user_id, p_idempotency_key, format('pay reservation %s', p_reservation_id));
  IF v_replay.status IS NOT NULL THEN  -- a row with a NULL field is not IS NOT NULL
    RETURN v_replay;
  END IF;

  SELECT * INTO v_r FROM ticket.reservations WHERE id = p_reservation_id;
  IF NOT found OR v_r.user_id <> v_user_id THEN
    PERFORM ticket.fail('T404A', format('reservation %s not found', p_reservation_id));
  END IF;
  -- What cannot be paid is said before the queue gate: a paid customer is never sent
  -- back to the queue.
  PERFORM ticket.check_payable(v_r, now());
  BEGIN
    v_gate := ticket.gate(p_api_key, p_token, v_r.concert_id, p_lock => true);
  EXCEPTION WHEN SQLSTATE 'T401C' THEN
    -- The turn may have ended, while this waited for its lock, by a twin of this very
    -- payment: then the reservation is paid, and that is the answer.
    SELECT * INTO v_r FROM ticket.reservations WHERE id = p_reservation_id;
    PERFORM ticket.check_payable(v_r, now());
    RAISE;
  END;
  SELECT * INTO v_r FROM ticket.reservations WHERE id = p_reservation_id FOR UPDATE;
  PERFORM ticket.lock_seats(v_r.id);
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
  UPDATE ticket.seats SET sold = true, held_until = NULL WHERE reservation_id = v_r.id;

  SELECT balance INTO v_balance FROM ticket.wallets WHERE user_id = v_user_id FOR UPDATE;
  IF v_balance < v_r.amount THEN
    PERFORM ticket.fail('T402A', format('balance %s won is below the amount %s won', v_balance, v_r.amount),
      json_build_object('balance', v_balance, 'amount', v_r.amount), 'charge the wallet, then pay again');
  END IF;
  v_ledger := ticket.post_ledger(v_user_id, 'PAYMENT', v_r.amount, v_r.id);
  INSERT INTO ticket.payments (reservation_id, user_id, amount, ledger_id)
  VALUES (v_r.id, v_user_id, v_r.amount, v_ledger.id)
  RETURNING id INTO v_pay_id;
  UPDATE ticket.reservations SET status = 'CONFIRMED', ended_at = now() WHERE id = v_r.id;
  -- The turn is over: holds of it left unpaid go back on sale.
  PERFORM ticket.release_holds(v_user_id, v_r.concert_id);

  -- Only a payment that sold its date's last free seat can have sold the concert out;
  -- a seat another call is selling right now counts as sold, so of two last sales at
  -- once both check.
  PERFORM 1 FROM ticket.seats WHERE date_id = v_r.date_id AND NOT sold LIMIT 1 FOR SHARE SKIP LOCKED;
  PERFORM ticket.free_slot(v_gate.token_id, v_r.concert_id, 'DONE', p_sold_last_seat => NOT found);

  RETURN ticket.idempotency_finish(v_user_id, p_idempotency_key, ticket.reply(201, json_build_object(
    'payment_id', v_pay_id, 'reservation_id', v_r.id, 'amount', v_r.amount,
    'balance', v_ledger.balance_after, 'status', 'CONFIRMED')));
END
$$;
COMMENT ON FUNCTION api.pay_reservation(text, text, bigint, text) IS
  'POST /api/reservations/{id}/payment: debit, ledger, payment, seats SOLD, reservation CONFIRMED, token DONE, next admitted.';

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
