-- Today's api.* signatures on the proxy, each answering exactly as on one database:
-- the call goes to its partition (route.*), and an error comes back as the partition
-- raised it (route.reraise). The C programs cannot tell the two apart.

CREATE OR REPLACE FUNCTION api.create_user(p_name text)
RETURNS api.reply
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
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
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
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
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
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
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
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
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
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
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
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
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
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
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
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

CREATE OR REPLACE FUNCTION api.list_concerts()
RETURNS api.reply
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  -- Every partition's list, merged in id order into the one list of one database.
  RETURN ROW(200, json_build_object('concerts', coalesce(
    (SELECT json_agg(c ORDER BY (c->>'id')::bigint)
     FROM route.list_concerts() r, json_array_elements(r.body->'concerts') c), '[]')), NULL)::api.reply;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  PERFORM route.reraise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.list_concerts() IS 'GET /api/concerts: every concert partition''s concerts, in id order.';

CREATE OR REPLACE FUNCTION api.health()
RETURNS api.reply
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
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
