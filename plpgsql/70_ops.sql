-- Health, metrics and error counting for operators' scrapers.

CREATE OR REPLACE FUNCTION api.health()
RETURNS api.reply
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ SELECT ticket.reply(200, json_build_object('status', 'ok', 'database', 'ok')) $$;
COMMENT ON FUNCTION api.health() IS 'GET /api/health: answers when the database does.';

CREATE OR REPLACE FUNCTION api.note_error(p_code text)
RETURNS api.reply
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
  INSERT INTO ticket.request_errors (code) SELECT left(p_code, 64) WHERE p_code ~ '^[A-Z_]+$' AND length(p_code) <= 64;
  SELECT ticket.reply(204, NULL);
$$;
COMMENT ON FUNCTION api.note_error(text) IS 'Count an error answer of the HTTP layer for /api/metrics (insert-only: no hot row).';

CREATE OR REPLACE FUNCTION api.metrics()
RETURNS api.reply
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_out text := '';
  -- The queues of concerts with a date ahead, as for the seats below: a scrape does not
  -- grow with the catalogue's past (a series ends with its concert's last date).
  v_ids bigint[] := ticket.concerts_ahead();
BEGIN
  v_out := v_out || E'# HELP ticket_queue_waiting Tokens waiting in the queue of a concert with a date ahead.\n# TYPE ticket_queue_waiting gauge\n'
    || coalesce((SELECT string_agg(format('ticket_queue_waiting{concert_id="%s"} %s', id, ticket.queue_waiting(id)), E'\n' ORDER BY id)
                 FROM unnest(v_ids) id) || E'\n', '');
  v_out := v_out || E'# HELP ticket_queue_active Tokens admitted and within their turn, for a concert with a date ahead.\n# TYPE ticket_queue_active gauge\n'
    || coalesce((SELECT string_agg(format('ticket_queue_active{concert_id="%s"} %s', id, ticket.queue_active(id)), E'\n' ORDER BY id)
                 FROM unnest(v_ids) id) || E'\n', '');
  v_out := v_out || E'# HELP ticket_queue_admitted_total Tokens admitted so far, for a concert with a date ahead.\n# TYPE ticket_queue_admitted_total counter\n'
    || coalesce((SELECT string_agg(format('ticket_queue_admitted_total{concert_id="%s"} %s', concert_id, admitted), E'\n' ORDER BY concert_id)
                 FROM ticket.queues WHERE concert_id = ANY (v_ids)) || E'\n', '');
  v_out := v_out || E'# HELP ticket_seats Seats of future dates by status.\n# TYPE ticket_seats gauge\n'
    || coalesce((SELECT string_agg(format('ticket_seats{concert_id="%s",status="%s"} %s', concert_id, status, n), E'\n'
                                   ORDER BY concert_id, status)
                 FROM (SELECT d.concert_id, ticket.seat_status(s.sold, s.held_until) AS status, count(*) AS n
                       FROM ticket.seats s JOIN ticket.concert_dates d ON d.id = s.date_id
                       WHERE d.starts_at > now() GROUP BY 1, 2) x) || E'\n', '');
  v_out := v_out || format(E'# HELP ticket_holds_expired_total Reservations whose hold ran out unpaid.\n# TYPE ticket_holds_expired_total counter\nticket_holds_expired_total %s\n',
    (SELECT count(*) FROM ticket.reservations WHERE status = 'EXPIRED' OR status = 'HELD' AND expires_at <= now()));
  v_out := v_out || format(E'# HELP ticket_payments_total Payments made.\n# TYPE ticket_payments_total counter\nticket_payments_total %s\n',
    (SELECT count(*) FROM ticket.payments));
  v_out := v_out || format(E'# HELP ticket_payments_won_total Won paid.\n# TYPE ticket_payments_won_total counter\nticket_payments_won_total %s\n',
    (SELECT coalesce(sum(amount), 0) FROM ticket.payments));
  v_out := v_out || format(E'# HELP ticket_invariant_violations_total Invariant violations recorded by pg_cron (admin.violations()).\n# TYPE ticket_invariant_violations_total counter\nticket_invariant_violations_total %s\n',
    (SELECT count(*) FROM ticket.invariant_violations));
  v_out := v_out || E'# HELP ticket_request_errors_total Error answers by code.\n# TYPE ticket_request_errors_total counter\n'
    || coalesce((SELECT string_agg(format('ticket_request_errors_total{code="%s"} %s', code, n), E'\n' ORDER BY code)
                 FROM (SELECT code, sum(n) AS n FROM (SELECT code, n FROM ticket.error_counts
                                                       UNION ALL SELECT code, count(*) FROM ticket.request_errors GROUP BY code) e
                       GROUP BY code) x) || E'\n', '');
  RETURN ticket.reply(200, to_json(v_out));
END
$$;
COMMENT ON FUNCTION api.metrics() IS 'GET /api/metrics: Prometheus text (queues, admissions, seats, holds expired, payments, invariant violations, errors) as a JSON string.';
