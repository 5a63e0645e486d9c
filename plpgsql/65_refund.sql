-- Refunds: a paid reservation back to the wallet, before the concert's deadline, minus
-- its fee; the seats come back on sale (to the waiting list first).
--
-- Lock order as everywhere (50_reservation.sql): reservation, seats in seat_no order,
-- wallet, queue row.

-- Undo a sale whose reservation the caller has locked and found CONFIRMED.
CREATE OR REPLACE FUNCTION ticket.refund(p_r ticket.reservations, p_refund bigint, p_fee bigint,
                                         p_by text, p_reason text)
RETURNS json
LANGUAGE plpgsql
AS $$
DECLARE
  v_ledger_id bigint;
  v_balance   bigint;
BEGIN
  PERFORM ticket.lock_seats(p_r.id);
  -- The sale's open-ended claims end now; the seats are for sale again.
  UPDATE ticket.reservation_seats SET claim = tstzrange(lower(claim), greatest(lower(claim), now()))
  WHERE reservation_id = p_r.id AND upper_inf(claim);
  UPDATE ticket.seats SET sold = false, reservation_id = NULL, held_until = NULL
  WHERE reservation_id = p_r.id AND sold;
  UPDATE ticket.reservations SET status = 'REFUNDED' WHERE id = p_r.id;
  IF p_refund > 0 THEN
    SELECT id, balance_after INTO v_ledger_id, v_balance FROM ticket.post_ledger(p_r.user_id, 'REFUND', p_refund, p_r.id);
  ELSE
    SELECT balance INTO v_balance FROM ticket.wallets WHERE user_id = p_r.user_id;
  END IF;
  INSERT INTO ticket.refunds (reservation_id, payment_id, amount, fee, ledger_id, refunded_by, reason)
  SELECT p_r.id, p.id, p_refund, p_fee, v_ledger_id, p_by, p_reason
  FROM ticket.payments p WHERE p.reservation_id = p_r.id;
  -- A seat came back: the concert is on sale again, and the first on the waiting list
  -- is admitted into it.
  IF NOT ticket.check_sold_out(p_r.concert_id) THEN
    PERFORM ticket.admit(p_r.concert_id);
  END IF;
  RETURN json_build_object('reservation_id', p_r.id, 'status', 'REFUNDED', 'refund', p_refund,
                           'fee', p_fee, 'balance', v_balance);
END
$$;
COMMENT ON FUNCTION ticket.refund(ticket.reservations, bigint, bigint, text, text) IS
  'Refund a locked CONFIRMED reservation: seats back on sale, REFUND ledger row, refunds row, waiting list admitted.';

CREATE OR REPLACE FUNCTION api.refund_reservation(p_api_key text, p_reservation_id bigint, p_idempotency_key text)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_user_id bigint := ticket.authenticate(p_api_key);
  v_replay  api.reply;
  v_r       ticket.reservations;
  v_terms   record;
BEGIN
  v_replay := ticket.idempotency_begin(v_user_id, p_idempotency_key, format('refund reservation %s', p_reservation_id));
  IF v_replay.status IS NOT NULL THEN
    RETURN v_replay;
  END IF;
  -- A booking is the user's own, with or without a queue turn: the key alone.
  SELECT * INTO v_r FROM ticket.reservations WHERE id = p_reservation_id FOR UPDATE;
  IF NOT found OR v_r.user_id <> v_user_id THEN
    PERFORM ticket.fail('T404A', format('reservation %s not found', p_reservation_id));
  END IF;
  IF v_r.status <> 'CONFIRMED' THEN
    PERFORM ticket.fail('T409E', format('reservation %s is %s; only a CONFIRMED one can be refunded', v_r.id,
      ticket.reservation_status(v_r.status, v_r.expires_at)));
  END IF;
  v_terms := ticket.refund_terms(v_r);
  -- By the clock: the lock may have been waited for up to the deadline.
  IF clock_timestamp() >= v_terms.refundable_until THEN
    PERFORM ticket.fail('T409E', format('reservation %s could be refunded until %s', v_r.id, v_terms.refundable_until),
      json_build_object('refundable_until', v_terms.refundable_until));
  END IF;
  RETURN ticket.idempotency_finish(v_user_id, p_idempotency_key,
    ticket.reply(200, ticket.refund(v_r, v_terms.refund, v_terms.fee, 'user', NULL)));
END
$$;
COMMENT ON FUNCTION api.refund_reservation(text, bigint, text) IS
  'POST /api/reservations/{id}/refund: a CONFIRMED reservation before its deadline, minus the fee; seats back on sale.';

CREATE OR REPLACE FUNCTION admin.refund(p_reservation_id bigint, p_reason text)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_r ticket.reservations;
BEGIN
  IF coalesce(btrim(p_reason), '') = '' THEN
    RAISE EXCEPTION USING ERRCODE = 'T400A', MESSAGE = 'say why: admin.refund(reservation_id, reason)';
  END IF;
  SELECT * INTO v_r FROM ticket.reservations WHERE id = p_reservation_id FOR UPDATE;
  IF NOT found THEN
    RAISE EXCEPTION USING ERRCODE = 'T404A', MESSAGE = format('reservation %s not found', p_reservation_id);
  ELSIF v_r.status <> 'CONFIRMED' THEN
    RAISE EXCEPTION USING ERRCODE = 'T409E',
      MESSAGE = format('reservation %s is %s; only a CONFIRMED one can be refunded', v_r.id, v_r.status);
  END IF;
  RETURN ticket.refund(v_r, v_r.amount, 0, session_user, p_reason);
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
