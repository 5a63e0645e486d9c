-- Today's api.* signatures on the proxy, each answering exactly as on one database:
-- the call goes to its partition (route.*), and an error comes back as the partition
-- raised it (route.reraise). The C programs cannot tell the two apart.

CREATE OR REPLACE FUNCTION api.create_user(p_name text)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  RETURN route.create_user(route.slot(nextval('route.next_user_partition')), p_name);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.create_user(text) IS
  'POST /api/users: on the next user partition in turn, which gives the id (and so the key) of its slots.';

CREATE OR REPLACE FUNCTION api.get_wallet(p_api_key text)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  RETURN route.get_wallet(route.user_slot(p_api_key), p_api_key);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.get_wallet(text) IS
  'GET /api/wallet: on the partition of the user the key names.';

CREATE OR REPLACE FUNCTION api.charge_wallet(p_api_key text, p_amount bigint, p_idempotency_key text)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  RETURN route.charge_wallet(route.user_slot(p_api_key), p_api_key, p_amount, p_idempotency_key);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.charge_wallet(text, bigint, text) IS
  'POST /api/wallet/charge: on the partition of the user the key names.';

CREATE OR REPLACE FUNCTION api.list_transactions(p_api_key text, p_limit int, p_before bigint)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  RETURN route.list_transactions(route.user_slot(p_api_key), p_api_key, p_limit, p_before);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.list_transactions(text, int, bigint) IS
  'GET /api/wallet/transactions: on the partition of the user the key names.';

CREATE OR REPLACE FUNCTION api.get_concert(p_concert_id bigint)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  RETURN route.get_concert(route.slot(p_concert_id), p_concert_id);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.get_concert(bigint) IS
  'GET /api/concerts/{id}: on the partition of the concert.';

CREATE OR REPLACE FUNCTION api.shuffle_proof(p_concert_id bigint)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  RETURN route.shuffle_proof(route.slot(p_concert_id), p_concert_id);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.shuffle_proof(bigint) IS
  'GET /api/concerts/{id}/shuffle: on the partition of the concert.';

CREATE OR REPLACE FUNCTION api.shuffle_entries(p_concert_id bigint, p_after bigint, p_limit int)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  RETURN route.shuffle_entries(route.slot(p_concert_id), p_concert_id, p_after, p_limit);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.shuffle_entries(bigint, bigint, int) IS
  'GET /api/concerts/{id}/shuffle/entries: on the partition of the concert.';

CREATE OR REPLACE FUNCTION api.note_error(p_code text)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  RETURN route.note_error(p_code);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.note_error(text) IS
  'Count an error answer of the HTTP layer, on any concert partition (api.metrics sums them).';

CREATE OR REPLACE FUNCTION api.list_concerts(p_status text[])
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  -- Every partition's list, merged in id order into the one list of one database.
  RETURN ROW(200, json_build_object('concerts', coalesce(
    (SELECT json_agg(c ORDER BY (c->>'id')::bigint)
     FROM route.list_concerts(p_status) r, json_array_elements(r.body->'concerts') c), '[]')), NULL)::api.reply;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.list_concerts(text[]) IS
  'GET /api/concerts?status=: every concert partition''s concerts of these statuses (NULL: all), in id order.';

CREATE OR REPLACE FUNCTION api.list_concerts()
RETURNS api.reply
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ SELECT * FROM api.list_concerts(NULL::text[]) $$;
COMMENT ON FUNCTION api.list_concerts() IS
  'Every concert: api.list_concerts(NULL), for psql and for programs from before status=.';

CREATE OR REPLACE FUNCTION api.health()
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  -- Healthy when every partition answers.
  PERFORM count(*) FROM route.concerts_health();
  PERFORM count(*) FROM route.users_health();
  RETURN ROW(200, json_build_object('status', 'ok', 'database', 'ok'), NULL)::api.reply;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.health() IS 'GET /api/health: answers when the proxy and every partition do.';

-- Calls about one concert: on its partition. A call with an API key is authenticated on
-- the user's partition first; the concert's partition trusts the proxy for who it is.

CREATE OR REPLACE FUNCTION api.issue_token(p_api_key text, p_concert_id bigint)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  RETURN route.issue_token(route.slot(p_concert_id), route.authenticate(route.user_slot(p_api_key), p_api_key), p_api_key, p_concert_id);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.issue_token(text, bigint) IS
  'POST /api/concerts/{id}/queue: the key checked on the user''s partition, the token issued on the concert''s.';

CREATE OR REPLACE FUNCTION api.queue_status(p_token text)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
  v_max_lag interval;
  v_reply api.reply;
BEGIN
  -- The standby answers a poll far back in a full room (docs/scale.md, "Standby reads");
  -- a reply without a status is its refusal: too stale, or a poll that may write.
  v_max_lag := route.standby_max_lag();
  IF v_max_lag > interval '0' THEN
    BEGIN
      v_reply := route.standby_queue_status(route.token_slot(p_token), p_token, v_max_lag);
      IF v_reply.status IS NOT NULL THEN
        RETURN v_reply;
      END IF;
    EXCEPTION WHEN OTHERS THEN
      NULL;  -- the standby down or failing: the primary's
    END;
  END IF;
  RETURN route.queue_status(route.token_slot(p_token), p_token);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.queue_status(text) IS
  'GET /api/queue: on the standby of the concert the token names when it may answer, else on its partition.';

CREATE OR REPLACE FUNCTION api.leave_queue(p_token text)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  RETURN route.leave_queue(route.token_slot(p_token), p_token);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.leave_queue(text) IS
  'DELETE /api/queue: on the partition of the concert the token names.';

CREATE OR REPLACE FUNCTION api.available_dates(p_api_key text, p_token text, p_concert_id bigint)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
  v_long boolean;
BEGIN
  -- One hop: the token proves the key on the concert's partition (docs/scale.md, "A
  -- key on a concert partition"); not proven there (TKP01), the key on the user's.
  FOREACH v_long IN ARRAY ARRAY[false, true] LOOP
    BEGIN
      RETURN route.available_dates(route.slot(p_concert_id), route.user_unless_proven(v_long, p_api_key),
                                   p_api_key, p_token, p_concert_id);
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    END;
    EXIT WHEN s <> 'TKP01';
  END LOOP;
  PERFORM route.reraise_gated(p_token, s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.available_dates(text, text, bigint) IS
  'GET /api/concerts/{id}/dates: on the partition of the concert, the key proven there by the token (else checked on the user''s partition first).';

CREATE OR REPLACE FUNCTION api.seat_map(p_api_key text, p_token text, p_concert_id bigint, p_date date)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
  v_max_lag interval;
  v_reply api.reply;
  v_long boolean;
BEGIN
  -- One hop: the token proves the key on the concert's side (docs/scale.md, "A key on
  -- a concert partition"), its standby's while fresh enough ("Standby reads"). A reply
  -- without a status is the standby's refusal (too stale), and any error there is the
  -- primary's to give.
  v_max_lag := route.standby_max_lag();
  IF v_max_lag > interval '0' THEN
    BEGIN
      v_reply := route.standby_seat_map(route.slot(p_concert_id), NULL, p_api_key, p_token, p_concert_id, p_date,
                                        v_max_lag);
      IF v_reply.status IS NOT NULL THEN
        RETURN v_reply;
      END IF;
    EXCEPTION WHEN OTHERS THEN
      NULL;  -- an error there, or the standby down: the primary's
    END;
  END IF;
  FOREACH v_long IN ARRAY ARRAY[false, true] LOOP
    BEGIN
      RETURN route.seat_map(route.slot(p_concert_id), route.user_unless_proven(v_long, p_api_key),
                            p_api_key, p_token, p_concert_id, p_date);
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    END;
    EXIT WHEN s <> 'TKP01';
  END LOOP;
  PERFORM route.reraise_gated(p_token, s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.seat_map(text, text, bigint, date) IS
  'GET /api/concerts/{id}/dates/{date}/seats: on the standby of the concert''s partition while fresh, else on the partition.';

CREATE OR REPLACE FUNCTION api.hold_seat(p_api_key text, p_token text, p_concert_id bigint, p_date date, p_seat_nos int[])
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
  v_long boolean;
BEGIN
  -- One hop: the token proves the key on the concert's partition (docs/scale.md, "A
  -- key on a concert partition"); not proven there (TKP01, nothing written), the key
  -- on the user's.
  FOREACH v_long IN ARRAY ARRAY[false, true] LOOP
    BEGIN
      RETURN route.hold_seat(route.slot(p_concert_id), route.user_unless_proven(v_long, p_api_key),
                             p_api_key, p_token, p_concert_id, p_date, p_seat_nos);
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    END;
    EXIT WHEN s <> 'TKP01';
  END LOOP;
  PERFORM route.reraise_gated(p_token, s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.hold_seat(text, text, bigint, date, int[]) IS
  'POST /api/reservations: on the partition of the concert, the key proven there by the token (else checked on the user''s partition first).';

CREATE OR REPLACE FUNCTION api.get_reservation(p_api_key text, p_token text, p_reservation_id bigint)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  RETURN route.get_reservation(route.slot(p_reservation_id), route.authenticate(route.user_slot(p_api_key), p_api_key), p_api_key, p_token, p_reservation_id);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise_gated(p_token, s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.get_reservation(text, text, bigint) IS
  'GET /api/reservations/{id}: on the partition whose slots the id is of (its concert''s).';

CREATE OR REPLACE FUNCTION api.cancel_reservation(p_api_key text, p_token text, p_reservation_id bigint)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  RETURN route.cancel_reservation(route.slot(p_reservation_id), route.authenticate(route.user_slot(p_api_key), p_api_key),
    p_api_key, p_token, p_reservation_id);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise_gated(p_token, s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.cancel_reservation(text, text, bigint) IS
  'DELETE /api/reservations/{id}: on the partition whose slots the id is of (its concert''s).';

-- The payment as a saga (docs/scale.md): no transaction spans the concert's partition
-- and the user's. Each step commits on its side and can be repeated by its reference;
-- whatever a failure leaves between them admin.recover_payments finishes or undoes.
CREATE OR REPLACE FUNCTION api.pay_reservation(p_api_key text, p_token text, p_reservation_id bigint,
                                               p_idempotency_key text)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_uslot  int := route.user_slot(p_api_key);
  v_cslot  int := route.slot(p_reservation_id);
  v_begin  record;
  v_ref    text;
  v_amount bigint;
  v_outcome text;
  v_ledger  bigint;
  v_balance bigint;
  v_pay_id bigint;
  v_reply  api.reply;
  s text; m text; d text; h text;
BEGIN
  -- The key, and a replay of the Idempotency-Key's first answer, on the user's side.
  v_begin := route.pay_begin(v_uslot, p_api_key, p_idempotency_key, p_reservation_id);
  IF (v_begin.replay).status IS NOT NULL THEN
    RETURN v_begin.replay;
  END IF;
  IF v_begin.debited_ref IS NOT NULL THEN
    -- A retry of a payment cut off after its debit: the sale is all that is left.
    v_ref := v_begin.debited_ref;
    v_amount := v_begin.amount;
    SELECT * INTO v_outcome, v_ledger, v_balance FROM route.debit(v_uslot, v_begin.user_id, v_ref, p_reservation_id, v_amount);
  ELSE
    v_ref := gen_random_uuid()::text;
    BEGIN
      -- 1. The seats: HELD becomes PAYING, which cannot run out.
      v_amount := route.pay_reserve(v_cslot, v_begin.user_id, p_api_key, p_token, p_reservation_id, v_ref);
      -- 2. The money, once per reference.
      SELECT * INTO v_outcome, v_ledger, v_balance FROM route.debit(v_uslot, v_begin.user_id, v_ref, p_reservation_id, v_amount);
      IF v_outcome <> 'DEBITED' THEN
        -- No money was taken: the hold is as it was.
        PERFORM route.pay_release(v_cslot, v_ref);
        IF v_outcome = 'ABORTED' THEN  -- recovery gave this payment up meanwhile
          RAISE EXCEPTION USING ERRCODE = 'T410A',
            MESSAGE = format('the payment of reservation %s took too long and was given up; no money was taken',
                             p_reservation_id),
            HINT = 'pay again if the seats are still held';
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'T402A',
          MESSAGE = format('balance %s won is below the amount %s won', v_balance, v_amount),
          DETAIL = json_build_object('balance', v_balance, 'amount', v_amount)::text,
          HINT = 'charge the wallet, then pay again';
      END IF;
    EXCEPTION WHEN OTHERS THEN
      -- No money was taken (or none is known to be): as on one database, where the
      -- claim rolls back with the failure, a retry with the key runs again. A failure
      -- between the debit's commit and its answer leaves the payment to recovery.
      IF p_idempotency_key IS NOT NULL AND v_outcome IS DISTINCT FROM 'DEBITED' THEN
        PERFORM route.idempotency_end(v_uslot, v_begin.user_id, p_idempotency_key, NULL);
      END IF;
      RAISE;
    END;
  END IF;
  -- 3. The sale: seats SOLD, CONFIRMED, the turn DONE and the next admitted. Should it
  -- fail, the money is taken: recovery or a retry with the key confirms.
  v_pay_id := route.pay_confirm(v_cslot, v_ref, v_ledger);
  v_reply := ROW(201, json_build_object('payment_id', v_pay_id, 'reservation_id', p_reservation_id,
    'amount', v_amount, 'balance', v_balance, 'status', 'CONFIRMED'), NULL)::api.reply;
  IF p_idempotency_key IS NOT NULL THEN
    PERFORM route.idempotency_end(v_uslot, v_begin.user_id, p_idempotency_key, v_reply);
  END IF;
  RETURN v_reply;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise_gated(p_token, s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.pay_reservation(text, text, bigint, text) IS
  'POST /api/reservations/{id}/payment: reserve the seats (concert side), debit the wallet (user side), confirm or release (concert side).';

CREATE OR REPLACE FUNCTION api.metrics()
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_text text;
  s text; m text; d text; h text;
BEGIN
  -- Every concert partition's samples, summed by name and labels (a concert's lines
  -- come from its partition alone), each family under its HELP and TYPE lines, in the
  -- partitions' order.
  WITH lines AS (
    SELECT x.line, x.n
    FROM route.metrics() r, regexp_split_to_table(r.body #>> '{}', E'\n') WITH ORDINALITY x(line, n)
    WHERE x.line <> ''
  ), merged AS (
    SELECT line, min(n) AS n, CASE WHEN line LIKE '# HELP %' THEN 0 ELSE 1 END AS kind,
           split_part(line, ' ', 3) AS family
    FROM lines WHERE line LIKE '# %' GROUP BY line
  UNION ALL
    SELECT format('%s %s', key, sum(value)), NULL, 2, substring(key FROM '^[^{]+')
    FROM (SELECT substring(line FROM '^(\S+) ') AS key, substring(line FROM ' (\S+)$')::numeric AS value
          FROM lines WHERE line NOT LIKE '#%') v
    GROUP BY key
  )
  SELECT string_agg(line, E'\n' ORDER BY family_at, kind, line) || E'\n' INTO v_text
  FROM (SELECT line, kind, min(n) OVER (PARTITION BY family) AS family_at FROM merged) o;
  RETURN ROW(200, to_json(coalesce(v_text, '')), NULL)::api.reply;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.metrics() IS 'GET /api/metrics: the concert partitions'' Prometheus text, samples summed by name and labels.';

-- A refund as a saga: the seats and the refund on the concert's side, then the credit on
-- the user's, then its ledger row recorded with the refund. A credit cannot be refused,
-- so once the first step is done the refund is: whatever a failure leaves pending,
-- admin.recover_refunds credits and records.
CREATE OR REPLACE FUNCTION route.refund_credit(p_user_id bigint, p_ref text, p_reservation_id bigint, p_amount bigint,
                                               OUT balance bigint)
LANGUAGE plpgsql
AS $$
DECLARE
  v_ledger bigint;
BEGIN
  SELECT c.ledger_id, c.balance INTO v_ledger, balance
  FROM route.credit(route.slot(p_user_id), p_user_id, p_ref, p_reservation_id, p_amount) c;
  IF p_amount > 0 THEN
    PERFORM route.refund_confirm(route.slot(p_reservation_id), p_ref, v_ledger);
  END IF;
END
$$;
COMMENT ON FUNCTION route.refund_credit(bigint, text, bigint, bigint) IS
  'Refund steps 2 and 3: credit the user''s wallet once per reference, record the ledger row with the refund; the balance after.';

CREATE OR REPLACE FUNCTION api.refund_reservation(p_api_key text, p_reservation_id bigint, p_idempotency_key text)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_uslot  int := route.user_slot(p_api_key);
  v_begin  record;
  v_ref    text := gen_random_uuid()::text;
  v_rf     record;
  v_done   boolean := false;  -- step 1 done by the key's first request
  v_reply  api.reply;
  s text; m text; d text; h text;
BEGIN
  v_begin := route.refund_begin(v_uslot, p_api_key, p_idempotency_key, p_reservation_id);
  IF (v_begin.replay).status IS NOT NULL THEN
    RETURN v_begin.replay;
  ELSIF v_begin.in_progress THEN
    -- The key's first request has not answered. Cut off after step 1, its refund is
    -- there and only the money is left: finish it (steps 2 and 3 repeat safely) and
    -- answer as the first would have. Otherwise it is running, or was cut off before
    -- step 1: a minute on, it is over and the retry refunds afresh.
    v_rf := route.refund_of(route.slot(p_reservation_id), v_begin.user_id, p_reservation_id);
    IF v_rf.ref IS NOT NULL THEN
      v_ref := v_rf.ref;
      v_done := true;
    ELSIF NOT route.idempotency_reclaim(v_uslot, v_begin.user_id, p_idempotency_key) THEN
      RAISE EXCEPTION USING ERRCODE = 'T409D', MESSAGE = 'a request with this Idempotency-Key is still in progress';
    END IF;
  END IF;
  IF NOT v_done THEN
    BEGIN
      -- 1. The seats back on sale, REFUNDED, the waiting list admitted.
      v_rf := route.refund_reserve(route.slot(p_reservation_id), v_begin.user_id, p_reservation_id, v_ref,
                                   'user', NULL, false);
    EXCEPTION WHEN OTHERS THEN
      -- Nothing was done: as on one database, a retry with the key runs again.
      IF p_idempotency_key IS NOT NULL THEN
        PERFORM route.idempotency_end(v_uslot, v_begin.user_id, p_idempotency_key, NULL);
      END IF;
      RAISE;
    END;
  END IF;
  -- 2 and 3. The money back.
  v_reply := ROW(200, json_build_object('reservation_id', p_reservation_id, 'status', 'REFUNDED',
    'refund', v_rf.amount, 'fee', v_rf.fee,
    'balance', route.refund_credit(v_begin.user_id, v_ref, p_reservation_id, v_rf.amount)), NULL)::api.reply;
  IF p_idempotency_key IS NOT NULL THEN
    PERFORM route.idempotency_end(v_uslot, v_begin.user_id, p_idempotency_key, v_reply);
  END IF;
  RETURN v_reply;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.refund_reservation(text, bigint, text) IS
  'POST /api/reservations/{id}/refund: seats back and REFUNDED (concert side), the wallet credited (user side), the credit recorded (concert side).';
