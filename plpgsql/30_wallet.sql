-- Users, wallets, the ledger and Idempotency-Key replays.

CREATE OR REPLACE FUNCTION api.create_user(p_name text)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_id  bigint;
  v_key text;
BEGIN
  IF p_name IS NULL OR char_length(p_name) NOT BETWEEN 1 AND 64 THEN
    PERFORM ticket.fail('T400A', 'name must be 1 to 64 characters', json_build_object('field', 'name'));
  END IF;
  -- The key names its user (ticket.key_user_id), so the id comes first.
  v_id := nextval('ticket.users_id_seq');
  v_key := format('tk_%s.%s', v_id, ticket.base64url(gen_random_bytes(32)));
  INSERT INTO ticket.users (id, name, api_key_hash) OVERRIDING SYSTEM VALUE
  VALUES (v_id, p_name, ticket.secret_hash(v_key));
  INSERT INTO ticket.wallets (user_id) VALUES (v_id);
  RETURN ticket.reply(201, json_build_object('user_id', v_id, 'name', p_name, 'api_key', v_key));
END
$$;
COMMENT ON FUNCTION api.create_user(text) IS
  'POST /api/users: a user with an empty wallet; the API key (tk_<user id>.<256 random bits>) is returned once and stored as a hash.';

CREATE OR REPLACE FUNCTION api.get_wallet(p_api_key text)
RETURNS api.reply
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT ticket.reply(200, json_build_object('balance', w.balance))
  FROM ticket.wallets w WHERE w.user_id = ticket.authenticate(p_api_key)
$$;
COMMENT ON FUNCTION api.get_wallet(text) IS 'GET /api/wallet: the balance in won.';

CREATE OR REPLACE FUNCTION ticket.post_ledger(p_user_id bigint, p_type text, p_amount bigint,
                                              p_reservation_id bigint DEFAULT NULL)
RETURNS ticket.ledger
LANGUAGE plpgsql
AS $$
DECLARE
  v_balance bigint;
  v_row     ticket.ledger;
BEGIN
  -- The only writer of balances: wallet and ledger change together or not at all.
  UPDATE ticket.wallets
  SET balance = balance + CASE WHEN p_type = 'PAYMENT' THEN -p_amount ELSE p_amount END,
      updated_at = now()
  WHERE user_id = p_user_id
  RETURNING balance INTO v_balance;
  INSERT INTO ticket.ledger (user_id, type, amount, balance_after, reservation_id)
  VALUES (p_user_id, p_type, p_amount, v_balance, p_reservation_id)
  RETURNING * INTO v_row;
  RETURN v_row;
END
$$;
COMMENT ON FUNCTION ticket.post_ledger(bigint, text, bigint, bigint) IS
  'Move money: change the balance and write the ledger row with the balance after it.';

CREATE OR REPLACE FUNCTION ticket.idempotency_begin(p_user_id bigint, p_key text, p_request text)
RETURNS api.reply
LANGUAGE plpgsql
AS $$
DECLARE
  v_row ticket.idempotency_keys;
BEGIN
  IF p_key IS NULL THEN
    RETURN NULL;
  END IF;
  -- Not '^[ -~]{1,255}$': a counted repetition took the regex engine 36 µs a key.
  IF NOT (p_key ~ '^[ -~]+$' AND length(p_key) <= 255) THEN
    PERFORM ticket.fail('T400A', 'Idempotency-Key must be 1 to 255 printable ASCII characters',
      json_build_object('field', 'Idempotency-Key'));
  END IF;
  -- A concurrent duplicate waits here on the unique key until the first commits,
  -- then replays its answer; if the first failed, this one goes ahead instead.
  INSERT INTO ticket.idempotency_keys (user_id, key, request) VALUES (p_user_id, p_key, p_request)
  ON CONFLICT DO NOTHING;
  IF found THEN
    RETURN NULL;
  END IF;
  SELECT * INTO v_row FROM ticket.idempotency_keys WHERE user_id = p_user_id AND key = p_key;
  IF v_row.request <> p_request THEN
    PERFORM ticket.fail('T422A', 'this Idempotency-Key was used for another request',
      json_build_object('first_request', v_row.request));
  ELSIF v_row.status IS NULL THEN
    PERFORM ticket.fail('T409D', 'a request with this Idempotency-Key is still in progress');
  END IF;
  RETURN ticket.reply(v_row.status, v_row.body);
END
$$;
COMMENT ON FUNCTION ticket.idempotency_begin(bigint, text, text) IS
  'Claim an Idempotency-Key: NULL to go ahead, or the first answer to replay; 422 if it named another request.';

CREATE OR REPLACE FUNCTION ticket.idempotency_finish(p_user_id bigint, p_key text, p_reply api.reply)
RETURNS api.reply
LANGUAGE plpgsql
AS $$
BEGIN
  UPDATE ticket.idempotency_keys SET status = p_reply.status, body = p_reply.body
  WHERE user_id = p_user_id AND key = p_key;
  RETURN p_reply;
END
$$;
COMMENT ON FUNCTION ticket.idempotency_finish(bigint, text, api.reply) IS 'Store the answer to replay for a claimed key.';

CREATE OR REPLACE FUNCTION api.charge_wallet(p_api_key text, p_amount bigint, p_idempotency_key text)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_user_id bigint := ticket.authenticate(p_api_key);
  v_replay  api.reply;
  v_row     ticket.ledger;
BEGIN
  IF p_amount IS NULL OR p_amount NOT BETWEEN 1 AND 10000000 THEN
    PERFORM ticket.fail('T400B', 'amount must be an integer from 1 to 10,000,000 won',
      json_build_object('field', 'amount', 'min', 1, 'max', 10000000));
  END IF;
  v_replay := ticket.idempotency_begin(v_user_id, p_idempotency_key, format('charge %s', p_amount));
  IF v_replay.status IS NOT NULL THEN  -- a row with a NULL field is not IS NOT NULL
    RETURN v_replay;
  END IF;
  v_row := ticket.post_ledger(v_user_id, 'CHARGE', p_amount);
  RETURN ticket.idempotency_finish(v_user_id, p_idempotency_key,
    ticket.reply(200, json_build_object('balance', v_row.balance_after, 'transaction_id', v_row.id)));
END
$$;
COMMENT ON FUNCTION api.charge_wallet(text, bigint, text) IS
  'POST /api/wallet/charge: add 1 to 10,000,000 won; an Idempotency-Key replays the first answer.';

CREATE OR REPLACE FUNCTION api.list_transactions(p_api_key text, p_limit int, p_before bigint)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_user_id bigint := ticket.authenticate(p_api_key);
  v_limit   int := coalesce(p_limit, 50);
BEGIN
  IF v_limit NOT BETWEEN 1 AND 200 THEN
    PERFORM ticket.fail('T400A', 'limit must be from 1 to 200', json_build_object('field', 'limit'));
  END IF;
  RETURN ticket.reply(200, json_build_object('transactions', coalesce((
    SELECT json_agg(json_build_object('id', l.id, 'type', l.type, 'amount', l.amount,
                                      'balance_after', l.balance_after,
                                      'reservation_id', l.reservation_id, 'created_at', l.created_at)
                    ORDER BY l.id DESC)
    FROM (SELECT * FROM ticket.ledger
          WHERE user_id = v_user_id AND (p_before IS NULL OR id < p_before)
          ORDER BY id DESC LIMIT v_limit) l), '[]')));
END
$$;
COMMENT ON FUNCTION api.list_transactions(text, int, bigint) IS
  'GET /api/wallet/transactions: the ledger, newest first; before= pages back.';
