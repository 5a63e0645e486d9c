-- One database's admin.* for DBAs, with the same signatures and answers on the proxy:
-- a call about one concert runs on its partition, the reports and the books on every
-- partition, merged. They run as the calling DBA and reach the partitions as the owner
-- (its user mapping), where they call the partitions' own admin.*. An error comes back
-- as the partition raised it (route.reraise). Each partition's pg_cron runs its own
-- admin.tick, housekeeping and record_invariants (docs/scale.md).

-- ---- one concert, on the partition its id names

CREATE OR REPLACE FUNCTION admin.add_date(p_concert_id bigint, p_starts_at timestamptz,
                                          p_seats int DEFAULT 50,
                                          p_prices bigint[] DEFAULT ARRAY[150000, 110000, 80000],
                                          p_booking_opens_at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  RETURN route.add_date(route.slot(p_concert_id), p_concert_id, p_starts_at, p_seats, p_prices, p_booking_opens_at);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION admin.add_date(bigint, timestamptz, int, bigint[], timestamptz) IS
  'admin.add_date of the partitions, on the concert''s: a performance with its seats and price tiers; the date id.';

CREATE OR REPLACE FUNCTION admin.schedule_sale(p_concert_id bigint, p_sale_opens_at timestamptz,
                                               p_pre_queue_minutes int DEFAULT 60)
RETURNS TABLE (concert_id bigint, sale_opens_at timestamptz, pre_queue_opens_at timestamptz, commitment text)
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  RETURN QUERY SELECT * FROM route.schedule_sale(route.slot(p_concert_id), p_concert_id, p_sale_opens_at,
                                                 p_pre_queue_minutes);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION admin.schedule_sale(bigint, timestamptz, int) IS
  'admin.schedule_sale of the partitions, on the concert''s: set or move its sale opening and pre-queue; the seed''s commitment.';

CREATE OR REPLACE FUNCTION admin.open_sale(p_concert_id bigint)
RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  RETURN route.open_sale(route.slot(p_concert_id), p_concert_id);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION admin.open_sale(bigint) IS
  'admin.open_sale of the partitions, on the concert''s: open a due sale now; true when this call placed the pre-queue.';

CREATE OR REPLACE FUNCTION admin.set_queue(p_concert_id bigint, p_max_active int DEFAULT NULL,
                                           p_active_minutes int DEFAULT NULL, p_idle_seconds int DEFAULT NULL)
RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  RETURN route.set_queue(route.slot(p_concert_id), p_concert_id, p_max_active, p_active_minutes, p_idle_seconds);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION admin.set_queue(bigint, int, int, int) IS
  'admin.set_queue of the partitions, on the concert''s: admitted at once, turn length, idle drop (NULL keeps); how many were admitted now.';

CREATE OR REPLACE FUNCTION admin.set_holds(p_concert_id bigint, p_hold_minutes int DEFAULT NULL,
                                           p_max_seats_per_user int DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  PERFORM route.set_holds(route.slot(p_concert_id), p_concert_id, p_hold_minutes, p_max_seats_per_user);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION admin.set_holds(bigint, int, int) IS
  'admin.set_holds of the partitions, on the concert''s: how long new holds last, seats per person (NULL keeps).';

CREATE OR REPLACE FUNCTION admin.set_refunds(p_concert_id bigint, p_hours_before int DEFAULT NULL,
                                             p_fee_percent int DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  PERFORM route.set_refunds(route.slot(p_concert_id), p_concert_id, p_hours_before, p_fee_percent);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION admin.set_refunds(bigint, int, int) IS
  'admin.set_refunds of the partitions, on the concert''s: refunds until how many hours before, the fee in percent (NULL keeps).';

CREATE OR REPLACE FUNCTION admin.tick_concert(p_concert_id bigint, OUT holds_expired int, OUT waiting_dropped int,
                                              OUT sold_out int, OUT admitted int, OUT skipped boolean)
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  SELECT * INTO holds_expired, waiting_dropped, sold_out, admitted, skipped
  FROM route.tick_concert(route.slot(p_concert_id), p_concert_id);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION admin.tick_concert(bigint) IS
  'admin.tick_concert of the partitions, on the concert''s: its share of the minute''s tick now (each partition''s pg_cron runs admin.tick).';

-- ---- every concert partition, merged in one database's order

CREATE OR REPLACE FUNCTION admin.sales_report(p_concert_id bigint DEFAULT NULL)
RETURNS TABLE (concert_id bigint, title text, on_date date, starts_at timestamptz,
               seats bigint, sold bigint, held bigint, available bigint, revenue bigint,
               refunded bigint, fees bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  IF p_concert_id IS NULL THEN
    RETURN QUERY SELECT * FROM route.sales_reports() r ORDER BY r.concert_id, r.on_date;
  ELSE
    RETURN QUERY SELECT * FROM route.sales_report(route.slot(p_concert_id), p_concert_id);
  END IF;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION admin.sales_report(bigint) IS
  'admin.sales_report of the partitions: the concert''s partition, or (NULL) every concert partition in concert id order.';

CREATE OR REPLACE FUNCTION admin.queue_report(p_concert_id bigint DEFAULT NULL)
RETURNS TABLE (concert_id bigint, title text, status text, waiting bigint, active bigint, max_active int,
               joined bigint, settled bigint, admitted bigint, turn_seconds real, sold_out boolean,
               sale_opens_at timestamptz, opened_at timestamptz, shuffle_entries int, shuffle_ms real,
               commitment text)
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  IF p_concert_id IS NULL THEN
    RETURN QUERY SELECT * FROM route.queue_reports() r ORDER BY r.concert_id;
  ELSE
    RETURN QUERY SELECT * FROM route.queue_report(route.slot(p_concert_id), p_concert_id);
  END IF;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION admin.queue_report(bigint) IS
  'admin.queue_report of the partitions: the concert''s partition, or (NULL) every concert partition in concert id order.';

CREATE OR REPLACE FUNCTION admin.concert_ids()
RETURNS SETOF bigint
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  RETURN QUERY SELECT i FROM route.concert_ids() i ORDER BY i;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION admin.concert_ids() IS 'Every concert id of every concert partition, in order.';

-- Each node records what its own admin.check_invariants finds (its pg_cron); the ids
-- are each node's, so the merged list is in the order they were found.
CREATE OR REPLACE FUNCTION admin.violations(p_since timestamptz DEFAULT now() - interval '1 day')
RETURNS TABLE (id bigint, checked_at timestamptz, invariant text, detail text)
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  RETURN QUERY
    SELECT * FROM (SELECT * FROM route.concerts_violations(p_since)
                   UNION ALL
                   SELECT * FROM route.users_violations(p_since)) v
    ORDER BY v.checked_at, v.id;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION admin.violations(timestamptz) IS
  'Invariant violations every partition (concerts and users) recorded since p_since (default: the last day), oldest first.';

-- The books of one database are sums over rows that each live on one partition: the
-- ledger and the wallets on the users', the refunds' fees on the concerts'.
CREATE OR REPLACE FUNCTION admin.books(OUT charged bigint, OUT paid bigint, OUT refunded bigint,
                                       OUT fees_kept bigint, OUT balances bigint, OUT difference bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  SELECT coalesce(sum(b.charged), 0), coalesce(sum(b.paid), 0), coalesce(sum(b.refunded), 0),
         coalesce(sum(b.fees_kept), 0), coalesce(sum(b.balances), 0)
  INTO charged, paid, refunded, fees_kept, balances
  FROM (SELECT * FROM route.users_books() UNION ALL SELECT * FROM route.concerts_books()) b;
  difference := charged + refunded - paid - balances;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION admin.books() IS
  'All money in won over every partition: charged + refunded - paid must equal the sum of balances (difference 0); fees_kept is what refunds kept.';
