-- Concerts, their dates and seat maps.

CREATE OR REPLACE FUNCTION ticket.seat_status(p_sold boolean, p_held_until timestamptz)
RETURNS text
LANGUAGE sql STABLE
AS $$
  -- A hold past its expiry is free at once, whether or not the tick has run.
  SELECT CASE WHEN p_sold THEN 'SOLD' WHEN p_held_until > now() THEN 'HELD' ELSE 'AVAILABLE' END
$$;
COMMENT ON FUNCTION ticket.seat_status(boolean, timestamptz) IS 'AVAILABLE, HELD or SOLD by the database clock.';

CREATE OR REPLACE FUNCTION ticket.concert_statuses()
RETURNS text[]
LANGUAGE sql IMMUTABLE
AS $$ SELECT ARRAY['UPCOMING', 'PRE_QUEUE', 'ON_SALE', 'SOLD_OUT', 'ENDED'] $$;
COMMENT ON FUNCTION ticket.concert_statuses() IS 'Every status of a concert (ticket.concert_status), in the order of a sale.';

-- Every concert but the ENDED, from the dates ahead (index concert_dates_ahead).
CREATE OR REPLACE FUNCTION ticket.concerts_ahead()
RETURNS bigint[]
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  RETURN ARRAY(SELECT DISTINCT concert_id FROM ticket.concert_dates WHERE starts_at > now() ORDER BY 1);
END
$$;
COMMENT ON FUNCTION ticket.concerts_ahead() IS 'The concerts with a date ahead (all but the ENDED), by id.';

-- Only ENDED concerts have no date ahead, so a list without them starts from the dates
-- ahead: the page, which polls it, does not pay for the catalogue's past (docs/bench.md,
-- section 5).
-- Planned once (generic): a plan for each list of ids looked cheaper than one for any
-- list, so every call was planned anew (the page's list: 3,800 calls/s against 9,400).
CREATE OR REPLACE FUNCTION api.list_concerts(p_status text[])
RETURNS api.reply
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  v_ids bigint[];
BEGIN
  IF cardinality(p_status) = 0 OR NOT p_status <@ ticket.concert_statuses() THEN
    PERFORM ticket.fail('T400A', 'status must list one or more of ' || array_to_string(ticket.concert_statuses(), ', '),
      json_build_object('field', 'status'));
  END IF;
  IF p_status IS NULL OR 'ENDED' = ANY (p_status) THEN
    v_ids := ARRAY(SELECT id FROM ticket.concerts);
  ELSE
    v_ids := ticket.concerts_ahead();
  END IF;
  RETURN ticket.reply(200, json_build_object('concerts', coalesce((
    SELECT json_agg(c.body ORDER BY c.id) FROM ticket.concert_bodies(v_ids) c
    WHERE p_status IS NULL OR c.status = ANY (p_status)), '[]')));
END
$$;
COMMENT ON FUNCTION api.list_concerts(text[]) IS
  'GET /api/concerts?status=: the concerts of these statuses (NULL: every concert), by id, with their queue figures.';

CREATE OR REPLACE FUNCTION api.list_concerts()
RETURNS api.reply
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ SELECT * FROM api.list_concerts(NULL::text[]) $$;
COMMENT ON FUNCTION api.list_concerts() IS
  'Every concert with its status and queue figures: api.list_concerts(NULL), for psql and for programs from before status=.';

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
