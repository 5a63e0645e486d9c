-- What operators call on the proxy: the clusters' partitions, and concerts created on theirs.

CREATE OR REPLACE FUNCTION admin.set_cluster(p_cluster text, p_partitions text[])
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF p_cluster NOT IN ('concerts', 'users') THEN
    RAISE EXCEPTION USING ERRCODE = 'T400A', MESSAGE = 'the clusters are concerts and users';
  END IF;
  -- PL/Proxy's validator refuses a count that is not a power of two.
  EXECUTE format('DROP SERVER IF EXISTS %I CASCADE', p_cluster);
  EXECUTE format('CREATE SERVER %I FOREIGN DATA WRAPPER plproxy OPTIONS (%s)', p_cluster,
    (SELECT string_agg(format('p%s %L', n - 1, p), ', ' ORDER BY n)
     FROM unnest(p_partitions) WITH ORDINALITY AS x(p, n)));
  -- A call logs in to the partition as the role that made it: the programs as ticket_web
  -- (api.* only there too), the owner for admin.*.
  EXECUTE format('CREATE USER MAPPING FOR ticket_web SERVER %I OPTIONS (user %L)', p_cluster, 'ticket_web');
  EXECUTE format('CREATE USER MAPPING FOR CURRENT_USER SERVER %I OPTIONS (user %L)', p_cluster, current_user);
  EXECUTE format('GRANT USAGE ON FOREIGN SERVER %I TO ticket_web', p_cluster);
END
$$;
COMMENT ON FUNCTION admin.set_cluster(text, text[]) IS
  'Define the PL/Proxy cluster concerts or users: the connection strings of its partitions, in partition order (a power of two of them). Moving a partition is pointing its entry at the new server (docs/scale.md).';

CREATE OR REPLACE FUNCTION admin.create_concert(p_title text, p_venue text, p_starts_at timestamptz[],
                                                p_seats int DEFAULT 50,
                                                p_prices bigint[] DEFAULT ARRAY[150000, 110000, 80000],
                                                p_hold_minutes int DEFAULT 5,
                                                p_max_seats_per_user int DEFAULT 1,
                                                p_max_active int DEFAULT 100,
                                                p_refund_hours_before int DEFAULT 24,
                                                p_refund_fee_percent int DEFAULT 10,
                                                p_sale_opens_at timestamptz DEFAULT NULL,
                                                p_pre_queue_minutes int DEFAULT 60)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  -- On the next concert partition in turn, which gives an id of its slots.
  RETURN route.create_concert(route.slot(nextval('route.next_concert_partition')),
    p_title, p_venue, p_starts_at, p_seats, p_prices, p_hold_minutes, p_max_seats_per_user,
    p_max_active, p_refund_hours_before, p_refund_fee_percent, p_sale_opens_at, p_pre_queue_minutes);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION admin.create_concert(text, text, timestamptz[], int, bigint[], int, int, int, int, int, timestamptz, int) IS
  'admin.create_concert of the partitions, on the next concert partition in turn; returns the id, whose slot names that partition.';
