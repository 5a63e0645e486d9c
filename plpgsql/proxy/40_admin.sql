-- What operators call on the proxy: the clusters' partitions, and concerts created on theirs.

CREATE OR REPLACE FUNCTION admin.set_cluster(p_cluster text, p_partitions text[])
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF p_cluster NOT IN ('concerts', 'users', 'concerts_standby') THEN
    RAISE EXCEPTION USING ERRCODE = 'T400A', MESSAGE = 'the clusters are concerts, users and concerts_standby';
  END IF;
  -- PL/Proxy's validator refuses a count that is not a power of two.
  EXECUTE format('DROP SERVER IF EXISTS %I CASCADE', p_cluster);
  EXECUTE format('CREATE SERVER %I FOREIGN DATA WRAPPER plproxy OPTIONS (%s)', p_cluster,
    (SELECT string_agg(format('p%s %L', n - 1, p), ', ' ORDER BY n)
     FROM unnest(p_partitions) WITH ORDINALITY AS x(p, n)));
  -- api.* (run as ticket_router) log in to a partition as ticket_proxy, which may call
  -- api.* and peer.* there; the owner's admin.* as the owner.
  EXECUTE format('CREATE USER MAPPING FOR ticket_router SERVER %I OPTIONS (user %L)', p_cluster, 'ticket_proxy');
  EXECUTE format('CREATE USER MAPPING FOR CURRENT_USER SERVER %I OPTIONS (user %L)', p_cluster, current_user);
  EXECUTE format('GRANT USAGE ON FOREIGN SERVER %I TO ticket_router', p_cluster);
END
$$;
COMMENT ON FUNCTION admin.set_cluster(text, text[]) IS
  'Define the PL/Proxy cluster concerts, users or concerts_standby (their standbys, for reads): the connection strings of its partitions, in partition order (a power of two of them). Moving a partition is pointing its entry at the new server (docs/scale.md).';

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

-- A payment left between its steps by a failure (a node, the proxy, a connection) is
-- finished or undone by its reference: once the user's side has been asked with
-- abort_debit its answer cannot change, so confirming or releasing on it may be repeated.
-- A step that fails here (a node still down) is left for the next run.
CREATE OR REPLACE FUNCTION admin.recover_payments(p_older_than interval DEFAULT '1 minute',
                                                  OUT confirmed int, OUT released int, OUT failed int)
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_part int;
  v_p    record;
  v_d    record;
BEGIN
  confirmed := 0;
  released := 0;
  failed := 0;
  FOR v_part IN 0 .. route.partitions('concerts') - 1 LOOP
    BEGIN
      FOR v_p IN SELECT * FROM route.paying(v_part, p_older_than) LOOP
        BEGIN
          v_d := route.abort_debit(route.slot(v_p.user_id), v_p.user_id, v_p.ref, v_p.reservation_id, v_p.amount);
          IF v_d.outcome = 'DEBITED' THEN
            PERFORM route.pay_confirm(route.slot(v_p.reservation_id), v_p.ref, v_d.ledger_id);
            confirmed := confirmed + 1;
          ELSE
            PERFORM route.pay_release(route.slot(v_p.reservation_id), v_p.ref);
            released := released + 1;
          END IF;
        EXCEPTION WHEN OTHERS THEN
          RAISE WARNING 'payment % of reservation % not recovered yet: %', v_p.ref, v_p.reservation_id, SQLERRM;
          failed := failed + 1;
        END;
      END LOOP;
    EXCEPTION WHEN OTHERS THEN
      RAISE WARNING 'concert partition % not reached; its payments wait for the next run: %', v_part, SQLERRM;
      failed := failed + 1;
    END;
  END LOOP;
END
$$;
COMMENT ON FUNCTION admin.recover_payments(interval) IS
  'pg_cron on the proxy, every minute: finish (debited) or release (not debited, and now never will be) each payment PAYING on a concert partition for longer than p_older_than.';

CREATE OR REPLACE FUNCTION admin.check_invariants()
RETURNS TABLE (invariant text, detail text)
LANGUAGE sql SET search_path = pg_catalog, public, pg_temp
AS $$
  -- Each partition's own (one side's) invariants, then the two sides of every payment.
  SELECT * FROM route.concerts_invariants()
UNION ALL
  SELECT * FROM route.users_invariants()
UNION ALL
  SELECT 'payment has its debit', format('payment %s of reservation %s', p.ref, p.reservation_id)
  FROM route.payments() p LEFT JOIN route.debits() d ON d.ref = p.ref
  WHERE p.status = 'PAID'
    AND (d.outcome IS DISTINCT FROM 'DEBITED' OR d.amount <> p.amount OR d.ledger_id <> p.ledger_id
         OR d.user_id <> p.user_id OR d.reservation_id <> p.reservation_id)
UNION ALL
  SELECT 'debit has its payment, or its payment is going on', format('debit %s of user %s', d.ref, d.user_id)
  FROM route.debits() d LEFT JOIN route.payments() p ON p.ref = d.ref
  WHERE d.outcome = 'DEBITED' AND p.ref IS NULL
UNION ALL
  SELECT 'refund has its credit, or its credit is pending', format('refund %s of reservation %s', rf.ref, rf.reservation_id)
  FROM route.refunds() rf LEFT JOIN route.credits() c ON c.ref = rf.ref
  WHERE rf.ledger_id IS NOT NULL
    AND (c.ledger_id IS DISTINCT FROM rf.ledger_id OR c.amount <> rf.amount OR c.user_id <> rf.user_id
         OR c.reservation_id <> rf.reservation_id)
UNION ALL
  SELECT 'credit has its refund', format('credit %s of user %s', c.ref, c.user_id)
  FROM route.credits() c LEFT JOIN route.refunds() rf ON rf.ref = c.ref
  WHERE rf.ref IS NULL OR rf.amount <> c.amount OR rf.reservation_id <> c.reservation_id
$$;
COMMENT ON FUNCTION admin.check_invariants() IS
  'One row per broken invariant across the partitions: each partition''s own, every payment against its one debit and every refund against its credit on the user''s side.';

CREATE OR REPLACE FUNCTION admin.refund(p_reservation_id bigint, p_reason text)
RETURNS json
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_ref text := gen_random_uuid()::text;
  v_rf  record;
  s text; m text; d text; h text;
BEGIN
  IF coalesce(btrim(p_reason), '') = '' THEN
    RAISE EXCEPTION USING ERRCODE = 'T400A', MESSAGE = 'say why: admin.refund(reservation_id, reason)';
  END IF;
  -- Anyone's reservation (no user), in full whatever the deadline, as on one database.
  v_rf := route.refund_reserve(route.slot(p_reservation_id), NULL, p_reservation_id, v_ref, session_user, p_reason, true);
  RETURN json_build_object('reservation_id', p_reservation_id, 'status', 'REFUNDED', 'refund', v_rf.amount,
    'fee', v_rf.fee, 'balance', route.refund_credit(v_rf.user_id, v_ref, p_reservation_id, v_rf.amount));
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION admin.refund(bigint, text) IS
  'Refund a CONFIRMED reservation in full, whatever the deadline (a cancelled show), recording who and why: the refund saga of api.refund_reservation.';

-- A refund whose credit a failure left pending: credit it (its reference makes that
-- safe to repeat) and record it. A node still down leaves it for the next run.
CREATE OR REPLACE FUNCTION admin.recover_refunds(p_older_than interval DEFAULT '1 minute')
RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_part int;
  v_rf   record;
  v_n    int := 0;
BEGIN
  FOR v_part IN 0 .. route.partitions('concerts') - 1 LOOP
    BEGIN
      FOR v_rf IN SELECT * FROM route.refunds_pending(v_part, p_older_than) LOOP
        BEGIN
          PERFORM route.refund_credit(v_rf.user_id, v_rf.ref, v_rf.reservation_id, v_rf.amount);
          v_n := v_n + 1;
        EXCEPTION WHEN OTHERS THEN
          RAISE WARNING 'refund % of reservation % not recovered yet: %', v_rf.ref, v_rf.reservation_id, SQLERRM;
        END;
      END LOOP;
    EXCEPTION WHEN OTHERS THEN
      RAISE WARNING 'concert partition % not reached; its refunds wait for the next run: %', v_part, SQLERRM;
    END;
  END LOOP;
  RETURN v_n;
END
$$;
COMMENT ON FUNCTION admin.recover_refunds(interval) IS
  'pg_cron on the proxy, every minute: credit and record each refund whose credit is pending on a concert partition for longer than p_older_than; returns how many.';
