-- Holding seats, looking at and cancelling reservations.
--
-- Lock order: queue token (ticket.gate with p_lock), reservation, seats in seat_no
-- order, wallet. Every function that takes more than one of them takes them in this order.

CREATE OR REPLACE FUNCTION ticket.reservation_status(p_status text, p_expires_at timestamptz)
RETURNS text
LANGUAGE sql STABLE
AS $$
  SELECT CASE WHEN p_status = 'HELD' AND p_expires_at <= now() THEN 'EXPIRED' ELSE p_status END
$$;
COMMENT ON FUNCTION ticket.reservation_status(text, timestamptz) IS 'A HELD reservation past its expiry is EXPIRED at once.';

CREATE OR REPLACE FUNCTION ticket.reservation_body(p_reservation_id bigint)
RETURNS json
LANGUAGE sql STABLE
AS $$
  SELECT json_build_object(
    'reservation_id', r.id, 'concert_id', r.concert_id, 'date', d.on_date,
    'seat_nos', (SELECT json_agg(s.seat_no ORDER BY s.seat_no)
                 FROM ticket.reservation_seats rs JOIN ticket.seats s ON s.id = rs.seat_id
                 WHERE rs.reservation_id = r.id),
    'amount', r.amount, 'status', ticket.reservation_status(r.status, r.expires_at),
    'expires_at', r.expires_at)
  FROM ticket.reservations r JOIN ticket.concert_dates d ON d.id = r.date_id
  WHERE r.id = p_reservation_id
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

  -- The token lock taken by the gate serialises this user's holds for the concert.
  SELECT count(*) INTO v_held
  FROM ticket.reservations r JOIN ticket.reservation_seats rs ON rs.reservation_id = r.id
  WHERE r.user_id = v_gate.user_id AND r.concert_id = p_concert_id
    AND r.status = 'HELD' AND r.expires_at > now();
  IF v_held + cardinality(v_seat_nos) > v_concert.max_seats_per_user THEN
    PERFORM ticket.fail('T409B', format('at most %s seats per person for this concert; %s held now',
        v_concert.max_seats_per_user, v_held),
      json_build_object('max_seats_per_user', v_concert.max_seats_per_user, 'held', v_held));
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

  v_expires := now() + make_interval(mins => v_concert.hold_minutes);
  INSERT INTO ticket.reservations (user_id, concert_id, date_id, status, amount, expires_at)
  SELECT v_gate.user_id, p_concert_id, v_date.id, 'HELD', sum((x).price), v_expires FROM unnest(v_seats) x
  RETURNING id INTO v_id;
  INSERT INTO ticket.reservation_seats (reservation_id, seat_id, claim)
  -- The claim starts now by the wall clock, not at the transaction's start: a cancel
  -- that committed while this waited for the seat lock cut its claim at its own now().
  SELECT v_id, (x).id, tstzrange(clock_timestamp(), v_expires) FROM unnest(v_seats) x;
  UPDATE ticket.seats SET reservation_id = v_id, held_until = v_expires
  WHERE id IN (SELECT (x).id FROM unnest(v_seats) x);
  -- A hold must be payable until it runs out: the turn lasts at least as long.
  UPDATE ticket.queue_tokens SET expires_at = v_expires
  WHERE id = v_gate.token_id AND expires_at < v_expires;
  RETURN ticket.reply(201, ticket.reservation_body(v_id));
END
$$;
COMMENT ON FUNCTION api.hold_seat(text, text, bigint, date, int[]) IS
  'POST /api/reservations: hold all the seats for hold_minutes, or none.';

-- The caller's reservation, checked against the queue token while it is live: a paid,
-- cancelled or expired one stays visible with the key alone, whatever token comes along.
CREATE OR REPLACE FUNCTION ticket.own_reservation(p_api_key text, p_token text, p_reservation_id bigint,
                                                  p_lock boolean)
RETURNS ticket.reservations
LANGUAGE plpgsql
AS $$
DECLARE
  v_user_id bigint := ticket.authenticate(p_api_key);
  v_r       ticket.reservations;
BEGIN
  SELECT * INTO v_r FROM ticket.reservations WHERE id = p_reservation_id;
  IF NOT found OR v_r.user_id <> v_user_id THEN
    PERFORM ticket.fail('T404A', format('reservation %s not found', p_reservation_id));
  END IF;
  IF ticket.reservation_status(v_r.status, v_r.expires_at) = 'HELD' THEN
    PERFORM ticket.gate(p_api_key, p_token, v_r.concert_id, p_lock => p_lock, p_allow_done => true);
  END IF;
  IF p_lock THEN
    SELECT * INTO v_r FROM ticket.reservations WHERE id = p_reservation_id FOR UPDATE;
  END IF;
  RETURN v_r;
END
$$;
COMMENT ON FUNCTION ticket.own_reservation(text, text, bigint, boolean) IS
  'A reservation of the caller (else NOT_FOUND), past the queue gate while it is live.';

CREATE OR REPLACE FUNCTION api.get_reservation(p_api_key text, p_token text, p_reservation_id bigint)
RETURNS api.reply
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  RETURN ticket.reply(200, ticket.reservation_body(
    (ticket.own_reservation(p_api_key, p_token, p_reservation_id, false)).id));
END
$$;
COMMENT ON FUNCTION api.get_reservation(text, text, bigint) IS 'GET /api/reservations/{id}: one of the caller''s reservations.';

CREATE OR REPLACE FUNCTION ticket.release_seats(p_reservation_id bigint)
RETURNS void
LANGUAGE sql
AS $$
  -- Cut the claims at this moment and free the seats.
  UPDATE ticket.reservation_seats SET claim = tstzrange(lower(claim), greatest(lower(claim), now()))
  WHERE reservation_id = p_reservation_id AND upper(claim) > now();
  UPDATE ticket.seats SET reservation_id = NULL, held_until = NULL
  WHERE reservation_id = p_reservation_id AND NOT sold;
$$;
COMMENT ON FUNCTION ticket.release_seats(bigint) IS 'Free the seats of a reservation that ends without a sale.';

CREATE OR REPLACE FUNCTION api.cancel_reservation(p_api_key text, p_token text, p_reservation_id bigint)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_r ticket.reservations := ticket.own_reservation(p_api_key, p_token, p_reservation_id, true);
BEGIN
  IF ticket.reservation_status(v_r.status, v_r.expires_at) <> 'HELD' THEN
    PERFORM ticket.fail('T409C', format('reservation %s is %s, not HELD', v_r.id,
      ticket.reservation_status(v_r.status, v_r.expires_at)));
  END IF;
  UPDATE ticket.reservations SET status = 'CANCELLED', ended_at = now() WHERE id = v_r.id;
  PERFORM ticket.release_seats(v_r.id);
  RETURN ticket.reply(204, NULL);
END
$$;
COMMENT ON FUNCTION api.cancel_reservation(text, text, bigint) IS
  'DELETE /api/reservations/{id}: cancel a HELD reservation; its seats are AVAILABLE at once.';
