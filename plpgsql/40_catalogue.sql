-- Concerts, their dates and seat maps.

CREATE OR REPLACE FUNCTION ticket.seat_status(p_sold boolean, p_held_until timestamptz)
RETURNS text
LANGUAGE sql STABLE
AS $$
  -- A hold past its expiry is free at once, whether or not the tick has run.
  SELECT CASE WHEN p_sold THEN 'SOLD' WHEN p_held_until > now() THEN 'HELD' ELSE 'AVAILABLE' END
$$;
COMMENT ON FUNCTION ticket.seat_status(boolean, timestamptz) IS 'AVAILABLE, HELD or SOLD by the database clock.';

CREATE OR REPLACE FUNCTION api.list_concerts()
RETURNS api.reply
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT ticket.reply(200, json_build_object('concerts',
    coalesce(json_agg(ticket.concert_body(c.id) ORDER BY c.id), '[]')))
  FROM ticket.concerts c
$$;
COMMENT ON FUNCTION api.list_concerts() IS 'GET /api/concerts: every concert with its status and queue figures.';

CREATE OR REPLACE FUNCTION api.available_dates(p_api_key text, p_token text, p_concert_id bigint)
RETURNS api.reply
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  PERFORM ticket.gate(p_api_key, p_token, p_concert_id);
  RETURN ticket.reply(200, json_build_object('dates', coalesce((
    SELECT json_agg(json_build_object('date', d.on_date, 'starts_at', d.starts_at,
                                      'booking_opens_at', d.booking_opens_at,
                                      'available_seats', d.available) ORDER BY d.on_date)
    FROM (SELECT cd.on_date, cd.starts_at, cd.booking_opens_at,
                 (SELECT count(*) FROM ticket.seats s
                  WHERE s.date_id = cd.id AND NOT s.sold
                    AND (s.held_until IS NULL OR s.held_until <= now())) AS available
          FROM ticket.concert_dates cd
          WHERE cd.concert_id = p_concert_id AND cd.starts_at > now()) d
    WHERE d.available > 0), '[]')));
END
$$;
COMMENT ON FUNCTION api.available_dates(text, text, bigint) IS
  'GET /api/concerts/{id}/dates: future dates with at least one AVAILABLE seat, ascending, with when each opens for booking.';

CREATE OR REPLACE FUNCTION ticket.find_date(p_concert_id bigint, p_date date)
RETURNS ticket.concert_dates
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  v_d ticket.concert_dates;
BEGIN
  SELECT * INTO v_d FROM ticket.concert_dates WHERE concert_id = p_concert_id AND on_date = p_date;
  IF NOT found THEN
    PERFORM ticket.fail('T404A', format('concert %s has no performance on %s', p_concert_id, p_date),
      json_build_object('date', p_date));
  END IF;
  RETURN v_d;
END
$$;
COMMENT ON FUNCTION ticket.find_date(bigint, date) IS 'The performance of a concert on a date, or NOT_FOUND.';

CREATE OR REPLACE FUNCTION api.seat_map(p_api_key text, p_token text, p_concert_id bigint, p_date date)
RETURNS api.reply
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_date_id bigint;
BEGIN
  PERFORM ticket.gate(p_api_key, p_token, p_concert_id);
  v_date_id := (ticket.find_date(p_concert_id, p_date)).id;
  RETURN ticket.reply(200, json_build_object('date', p_date, 'seats', (
    SELECT coalesce(json_agg(json_build_object('seat_no', s.seat_no, 'price', s.price,
                                               'status', ticket.seat_status(s.sold, s.held_until))
                             ORDER BY s.seat_no), '[]')
    FROM ticket.seats s WHERE s.date_id = v_date_id)));
END
$$;
COMMENT ON FUNCTION api.seat_map(text, text, bigint, date) IS
  'GET /api/concerts/{id}/dates/{date}/seats: every seat of the date with price and status.';
