-- Holding seats, looking at and cancelling reservations.
--
-- Lock order: queue token (ticket.gate with p_lock), reservations (by id), seats in
-- seat_no order (ticket.lock_seats), wallet, queue row. Every function that takes more
-- than one of them takes them in this order, so none of them can deadlock another;
-- tests/interleave/ forces each pair into the order that would.

CREATE OR REPLACE FUNCTION ticket.reservation_status(p_status text, p_expires_at timestamptz)
RETURNS text
LANGUAGE sql STABLE
AS $$
  -- PAYING (a payment between its steps) is HELD to the user: it cannot run out.
  SELECT CASE WHEN p_status = 'HELD' AND p_expires_at <= now() THEN 'EXPIRED'
              WHEN p_status = 'PAYING' THEN 'HELD' ELSE p_status END
$$;
COMMENT ON FUNCTION ticket.reservation_status(text, timestamptz) IS
  'The status the API shows: a HELD reservation past its expiry is EXPIRED at once; a PAYING one is HELD.';

CREATE OR REPLACE FUNCTION ticket.refund_terms(p_r ticket.reservations,
                                               OUT refundable_until timestamptz, OUT refund bigint, OUT fee bigint)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  -- The fee in whole won, rounded down (integer division of a non-negative amount).
  SELECT d.starts_at - make_interval(hours => c.refund_hours_before),
         p_r.amount - p_r.amount * c.refund_fee_percent / 100,
         p_r.amount * c.refund_fee_percent / 100
  INTO refundable_until, refund, fee
  FROM ticket.concert_dates d JOIN ticket.concerts c ON c.id = d.concert_id
  WHERE d.id = p_r.date_id;
END
$$;
COMMENT ON FUNCTION ticket.refund_terms(ticket.reservations) IS
  'Until when a reservation can be refunded, how much comes back and the fee kept.';

CREATE OR REPLACE FUNCTION ticket.reservation_body(p_reservation_id bigint)
RETURNS json
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  -- PL/pgSQL keeps the plan (a SQL function with FROM is planned on every call).
  RETURN (SELECT (jsonb_build_object(
    'reservation_id', r.id, 'concert_id', r.concert_id, 'date', d.on_date,
    'seat_nos', (SELECT jsonb_agg(s.seat_no ORDER BY s.seat_no)
                 FROM ticket.reservation_seats rs JOIN ticket.seats s ON s.id = rs.seat_id
                 WHERE rs.reservation_id = r.id),
    'amount', r.amount, 'status', ticket.reservation_status(r.status, r.expires_at),
    'expires_at', r.expires_at)
    -- What a refund would give back (CONFIRMED) or gave (REFUNDED), for the page to show first.
    || CASE r.status
         WHEN 'CONFIRMED' THEN (SELECT jsonb_build_object('refund', jsonb_build_object(
                                  'refundable_until', t.refundable_until, 'refund', t.refund, 'fee', t.fee))
                                FROM ticket.refund_terms(r) t)
         WHEN 'REFUNDED' THEN (SELECT jsonb_build_object('refund', jsonb_build_object(
                                 'refund', f.amount, 'fee', f.fee, 'refunded_at', f.created_at))
                               FROM ticket.refunds f WHERE f.reservation_id = r.id)
         ELSE '{}'::jsonb
       END)::json
  FROM ticket.reservations r JOIN ticket.concert_dates d ON d.id = r.date_id
  WHERE r.id = p_reservation_id);
END
$$;
COMMENT ON FUNCTION ticket.reservation_body(bigint) IS 'The JSON of a reservation as the API shows it.';

CREATE OR REPLACE FUNCTION api.hold_seat(p_api_key text, p_token text, p_concert_id bigint,
                                         p_date date, p_seat_nos int[])
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_gate     record := ticket.gate(p_api_key, p_token, p_concert_id, p_lock => true);
  v_concert  ticket.concerts;
  v_date     ticket.concert_dates;
  v_seat_nos int[];
  v_held     int;
  v_bought   int;
  v_turn     ticket.queue_tokens;
  v_seats    ticket.seats[];
  v_taken    int[];
  v_expires  timestamptz;
  v_id       bigint;
BEGIN
  SELECT * INTO v_concert FROM ticket.concerts WHERE id = p_concert_id;
  SELECT array_agg(DISTINCT n ORDER BY n) INTO v_seat_nos FROM unnest(p_seat_nos) n;
  IF p_seat_nos IS NULL OR cardinality(p_seat_nos) = 0 OR array_position(p_seat_nos, NULL) IS NOT NULL
     OR cardinality(v_seat_nos) <> cardinality(p_seat_nos) OR v_seat_nos[1] < 1 THEN
    PERFORM ticket.fail('T400A', 'seat_nos must be distinct seat numbers', json_build_object('field', 'seat_nos'));
  END IF;
  v_date := ticket.find_date(p_concert_id, p_date);
  IF v_date.starts_at <= now() THEN
    PERFORM ticket.fail('T404A', format('the performance on %s has already started', p_date),
      json_build_object('date', p_date));
  END IF;
  IF v_date.booking_opens_at > now() THEN
    PERFORM ticket.fail('T409G', format('seats for %s can be held from %s', p_date, v_date.booking_opens_at),
      json_build_object('date', p_date, 'booking_opens_at', v_date.booking_opens_at),
      'come back when booking for this date opens');
  END IF;

  -- Seats held and bought count together, and those being paid (PAYING, between a
  -- payment's steps on the sharded topology: it cannot run out) as held. The token lock
  -- taken by the gate serialises this user's holds for the concert, and one user has one
  -- live token per concert.
  SELECT count(*) FILTER (WHERE r.status <> 'CONFIRMED'), count(*) FILTER (WHERE r.status = 'CONFIRMED')
  INTO v_held, v_bought
  FROM ticket.reservations r JOIN ticket.reservation_seats rs ON rs.reservation_id = r.id
  WHERE r.user_id = v_gate.user_id AND r.concert_id = p_concert_id
    AND (r.status IN ('CONFIRMED', 'PAYING') OR (r.status = 'HELD' AND r.expires_at > now()));
  IF v_held + v_bought + cardinality(v_seat_nos) > v_concert.max_seats_per_user THEN
    PERFORM ticket.fail('T409B', format('at most %s seats per person for this concert; %s held and %s bought',
        v_concert.max_seats_per_user, v_held, v_bought),
      json_build_object('max_seats_per_user', v_concert.max_seats_per_user, 'held', v_held, 'bought', v_bought));
  END IF;

  -- Seat rows locked in seat_no order: two multi-seat holds cannot deadlock.
  SELECT array_agg(s ORDER BY s.seat_no) INTO v_seats
  FROM (SELECT * FROM ticket.seats WHERE date_id = v_date.id AND seat_no = ANY (v_seat_nos)
        ORDER BY seat_no FOR UPDATE) s;
  IF coalesce(cardinality(v_seats), 0) <> cardinality(v_seat_nos) THEN
    PERFORM ticket.fail('T404A', format('no such seat on %s', p_date),
      json_build_object('seat_nos', (SELECT json_agg(n) FROM unnest(v_seat_nos) n
                                     WHERE n <> ALL (SELECT (x).seat_no FROM unnest(v_seats) x))));
  END IF;
  SELECT array_agg((x).seat_no) INTO v_taken FROM unnest(v_seats) x
  WHERE ticket.seat_status((x).sold, (x).held_until) <> 'AVAILABLE';
  IF v_taken IS NOT NULL THEN
    PERFORM ticket.fail('T409A', format('seat %s on %s is not available', array_to_string(v_taken, ', '), p_date),
      json_build_object('seat_nos', v_taken), 'pick another seat from the seat map');
  END IF;

  -- Waiting for the seat locks may have outlasted the turn, and a turn that ended (its
  -- slot perhaps given to the next in line) never comes back: check it again by the
  -- clock, and extend only a live one, never past its cap; the hold fits inside.
  SELECT * INTO v_turn FROM ticket.queue_tokens WHERE id = v_gate.token_id;
  v_expires := least(now() + make_interval(mins => v_concert.hold_minutes),
                     ticket.turn_cap(v_turn.activated_at, v_concert.active_minutes, v_concert.hold_minutes));
  UPDATE ticket.queue_tokens SET expires_at = greatest(expires_at, v_expires)
  WHERE id = v_gate.token_id AND status = 'ACTIVE' AND expires_at > clock_timestamp();
  IF NOT found THEN
    PERFORM ticket.fail('T401C', 'the queue turn ended while the seats were being held; nothing was held',
      p_hint => 'join the queue again');
  END IF;
  INSERT INTO ticket.reservations (user_id, concert_id, date_id, status, amount, expires_at)
  SELECT v_gate.user_id, p_concert_id, v_date.id, 'HELD', sum((x).price), v_expires FROM unnest(v_seats) x
  RETURNING id INTO v_id;
  INSERT INTO ticket.reservation_seats (reservation_id, seat_id, claim)
  -- The claim starts now by the wall clock, not at the transaction's start: a cancel
  -- that committed while this waited for the seat lock cut its claim at its own now().
  SELECT v_id, (x).id, tstzrange(least(clock_timestamp(), v_expires), v_expires) FROM unnest(v_seats) x;
  UPDATE ticket.seats SET reservation_id = v_id, held_until = v_expires
  WHERE id IN (SELECT (x).id FROM unnest(v_seats) x);
  RETURN ticket.reply(201, ticket.reservation_body(v_id));
END
$$;
COMMENT ON FUNCTION api.hold_seat(text, text, bigint, date, int[]) IS
  'POST /api/reservations: hold all the seats for hold_minutes, or none.';

-- The caller's reservation. While it is HELD and the user's turn for its concert is
-- live, it belongs to that turn and the queue token must come along (and is locked with
-- p_lock); otherwise it can no longer be paid, and the key alone may look at it and
-- release it: no booking is ever stranded behind an ended turn.
CREATE OR REPLACE FUNCTION ticket.reservation_for(p_api_key text, p_token text, p_reservation_id bigint,
                                                  p_lock boolean, OUT r ticket.reservations, OUT token_id bigint)
LANGUAGE plpgsql
AS $$
DECLARE
  v_user_id bigint := ticket.authenticate(p_api_key);
BEGIN
  SELECT * INTO r FROM ticket.reservations WHERE id = p_reservation_id;
  IF NOT found OR r.user_id <> v_user_id THEN
    PERFORM ticket.fail('T404A', format('reservation %s not found', p_reservation_id));
  END IF;
  IF ticket.reservation_status(r.status, r.expires_at) = 'HELD'
     AND EXISTS (SELECT 1 FROM ticket.queue_tokens t
                 WHERE t.user_id = v_user_id AND t.concert_id = r.concert_id
                   AND t.status = 'ACTIVE' AND t.expires_at > now()) THEN
    token_id := (ticket.gate(p_api_key, p_token, r.concert_id, p_lock => p_lock)).token_id;
  END IF;
  IF p_lock THEN
    SELECT * INTO r FROM ticket.reservations WHERE id = p_reservation_id FOR UPDATE;
  END IF;
END
$$;
COMMENT ON FUNCTION ticket.reservation_for(text, text, bigint, boolean) IS
  'A reservation of the caller (else NOT_FOUND), past the queue gate while it belongs to a live turn.';

CREATE OR REPLACE FUNCTION api.get_reservation(p_api_key text, p_token text, p_reservation_id bigint)
RETURNS api.reply
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  RETURN ticket.reply(200, ticket.reservation_body(
    ((ticket.reservation_for(p_api_key, p_token, p_reservation_id, false)).r).id));
END
$$;
COMMENT ON FUNCTION api.get_reservation(text, text, bigint) IS 'GET /api/reservations/{id}: one of the caller''s reservations.';

CREATE OR REPLACE FUNCTION ticket.lock_seats(p_reservation_id bigint)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  -- In seat_no order, like hold_seat: never in the order an index or the heap happens
  -- to return them, which deadlocked a payment against a hold of the same seats.
  PERFORM 1 FROM ticket.seats
  WHERE id IN (SELECT seat_id FROM ticket.reservation_seats WHERE reservation_id = p_reservation_id)
  ORDER BY seat_no
  FOR UPDATE;
END
$$;
COMMENT ON FUNCTION ticket.lock_seats(bigint) IS 'Lock the seat rows of a reservation in seat_no order (the lock order of every seat path).';

CREATE OR REPLACE FUNCTION ticket.release_seats(p_reservation_id bigint)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM ticket.lock_seats(p_reservation_id);
  -- Cut the claims at this moment and free the seats.
  UPDATE ticket.reservation_seats SET claim = tstzrange(lower(claim), greatest(lower(claim), now()))
  WHERE reservation_id = p_reservation_id AND upper(claim) > now();
  UPDATE ticket.seats SET reservation_id = NULL, held_until = NULL
  WHERE reservation_id = p_reservation_id AND NOT sold;
END
$$;
COMMENT ON FUNCTION ticket.release_seats(bigint) IS 'Free the seats of a reservation that ends without a sale.';

-- The end of a turn (left, or paid) releases the user's other holds of the concert:
-- nobody could pay them any more.
CREATE OR REPLACE FUNCTION ticket.release_holds(p_user_id bigint, p_concert_id bigint)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
  v_r ticket.reservations;
BEGIN
  FOR v_r IN SELECT * FROM ticket.reservations
             WHERE user_id = p_user_id AND concert_id = p_concert_id AND status = 'HELD'
             ORDER BY id FOR UPDATE
  LOOP
    UPDATE ticket.reservations
    SET status = CASE WHEN expires_at <= now() THEN 'EXPIRED' ELSE 'CANCELLED' END,
        ended_at = least(expires_at, now())
    WHERE id = v_r.id;
    PERFORM ticket.release_seats(v_r.id);
  END LOOP;
END
$$;
COMMENT ON FUNCTION ticket.release_holds(bigint, bigint) IS
  'End a user''s HELD reservations of a concert (CANCELLED, or EXPIRED if run out) and free their seats.';

CREATE OR REPLACE FUNCTION api.cancel_reservation(p_api_key text, p_token text, p_reservation_id bigint)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_own record := ticket.reservation_for(p_api_key, p_token, p_reservation_id, true);
  v_r   ticket.reservations := v_own.r;
BEGIN
  IF v_r.status = 'PAYING' THEN
    -- A payment between its steps, which only a sharded topology lets others see: it is
    -- the payment's (or recovery's) to finish or undo, as one database's cancel would
    -- wait for the payment and find it CONFIRMED.
    PERFORM ticket.fail('T409C', format('reservation %s is being paid', v_r.id));
  ELSIF ticket.reservation_status(v_r.status, v_r.expires_at) <> 'HELD' THEN
    PERFORM ticket.fail('T409C', format('reservation %s is %s, not HELD', v_r.id,
      ticket.reservation_status(v_r.status, v_r.expires_at)));
  END IF;
  UPDATE ticket.reservations SET status = 'CANCELLED', ended_at = now() WHERE id = v_r.id;
  PERFORM ticket.release_seats(v_r.id);
  IF v_own.token_id IS NOT NULL THEN
    PERFORM ticket.fit_turn(v_own.token_id);
  END IF;
  RETURN ticket.reply(204, NULL);
END
$$;
COMMENT ON FUNCTION api.cancel_reservation(text, text, bigint) IS
  'DELETE /api/reservations/{id}: cancel a HELD reservation; its seats are AVAILABLE at once.';
