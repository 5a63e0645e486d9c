-- Helpers every area uses: raising project errors, hashing secrets, authenticating.

CREATE OR REPLACE FUNCTION ticket.fail(p_code text, p_message text, p_detail json DEFAULT NULL, p_hint text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  -- DETAIL is a JSON object so the HTTP layer can pass it on as "details". RAISE takes
  -- no NULL option, and an empty one would still be sent, hence the branches.
  IF p_detail IS NULL AND p_hint IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = p_code, MESSAGE = p_message;
  ELSIF p_hint IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = p_code, MESSAGE = p_message, DETAIL = p_detail::text;
  ELSIF p_detail IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = p_code, MESSAGE = p_message, HINT = p_hint;
  END IF;
  RAISE EXCEPTION USING ERRCODE = p_code, MESSAGE = p_message, DETAIL = p_detail::text, HINT = p_hint;
END
$$;
COMMENT ON FUNCTION ticket.fail(text, text, json, text) IS
  'Raise a project error: SQLSTATE T<http status><letter> (see docs/sql-api.md), DETAIL as JSON.';

CREATE OR REPLACE FUNCTION ticket.reply(p_status int, p_body json, p_retry_after int DEFAULT NULL)
RETURNS api.reply
LANGUAGE sql IMMUTABLE
AS $$ SELECT ROW(p_status, p_body, p_retry_after)::api.reply $$;
COMMENT ON FUNCTION ticket.reply(int, json, int) IS 'Build an api.reply row.';

-- STABLE, as convert_to is: a SQL function declared more constant than its body is not
-- inlined, and is then parsed and planned again on every call (perf: a tenth of a join).
CREATE OR REPLACE FUNCTION ticket.secret_hash(p_secret text)
RETURNS bytea
LANGUAGE sql STABLE STRICT
AS $$ SELECT sha256(convert_to(p_secret, 'UTF8')) $$;
COMMENT ON FUNCTION ticket.secret_hash(text) IS
  'sha256 of an API key or queue token; both carry 256 random bits, so no salt or stretching is needed.';

CREATE OR REPLACE FUNCTION ticket.base64url(p_bytes bytea)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT
AS $$ SELECT rtrim(translate(encode(p_bytes, 'base64'), E'+/\n', '-_'), '=') $$;
COMMENT ON FUNCTION ticket.base64url(bytea) IS 'URL- and header-safe text of random bytes.';

-- An API key says whose it is, tk_<user id>.<secret>, so that a proxy can route a call
-- to the user's partition without a lookup (docs/scale.md). The proxy parses it with
-- the same pattern (plpgsql/proxy/10_routing.sql). Lengths are checked apart from the
-- pattern, on every call authenticated: PostgreSQL's regex engine took 27 µs a key to
-- match a counted repetition ({43}), 1 µs for an unbounded one.
CREATE OR REPLACE FUNCTION ticket.key_user_id(p_api_key text)
RETURNS bigint
LANGUAGE sql IMMUTABLE
AS $$
  SELECT CASE WHEN p_api_key ~ '^tk_[1-9][0-9]*\.[A-Za-z0-9_-]+$'
               AND strpos(p_api_key, '.') <= 22 AND length(p_api_key) - strpos(p_api_key, '.') = 43
         THEN substr(p_api_key, 4, strpos(p_api_key, '.') - 4)::bigint END
$$;
COMMENT ON FUNCTION ticket.key_user_id(text) IS
  'The user id an API key names (tk_<user id>.<43 base64url characters>), or NULL when it is not of that shape.';

CREATE OR REPLACE FUNCTION ticket.authenticate(p_api_key text)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  v_user_id bigint;
BEGIN
  -- A concert partition of the sharded topology has no users: the proxy, logged in as
  -- ticket_proxy, checked the key on the user's partition and vouches for that user in
  -- this transaction (ticket.vouch, called by peer.*). Nowhere else does a vouch count.
  IF ticket.proxy_on_concerts() AND ticket.vouched(p_api_key) THEN
    RETURN ticket.key_user_id(p_api_key);
  END IF;
  -- A malformed key finds no row, so it is the same 401 as an unknown one.
  SELECT id INTO v_user_id FROM ticket.users
  WHERE id = ticket.key_user_id(p_api_key) AND api_key_hash = ticket.secret_hash(p_api_key);
  IF v_user_id IS NULL THEN
    PERFORM ticket.fail('T401A', 'missing or unknown API key',
      p_hint => 'send Authorization: Bearer <api_key> from POST /api/users');
  END IF;
  RETURN v_user_id;
END
$$;
COMMENT ON FUNCTION ticket.authenticate(text) IS
  'The user id of an API key, or UNAUTHENTICATED; a key the proxy vouches for (ticket.vouch) is not looked up.';

CREATE OR REPLACE FUNCTION ticket.vouch(p_user_id bigint)
RETURNS void
LANGUAGE sql
AS $$ SELECT set_config('ticket.vouched_user', p_user_id::text, true) $$;
COMMENT ON FUNCTION ticket.vouch(bigint) IS
  'For the rest of the transaction, a ticket_proxy session''s key of this user counts as authenticated (peer.*).';

-- Which side of the data this node serves (plpgsql/85_partition.sql).
CREATE OR REPLACE FUNCTION ticket.node_side()
RETURNS text
LANGUAGE sql STABLE
AS $$ SELECT side FROM ticket.node $$;
COMMENT ON FUNCTION ticket.node_side() IS 'all (one database), concerts or users (a partition).';

-- The proxy's session on a concert partition: keys there are vouched for by the proxy
-- or proven by their queue tokens, never looked up.
CREATE OR REPLACE FUNCTION ticket.proxy_on_concerts()
RETURNS boolean
LANGUAGE sql STABLE
AS $$ SELECT session_user = 'ticket_proxy' AND ticket.node_side() = 'concerts' $$;
COMMENT ON FUNCTION ticket.proxy_on_concerts() IS
  'Whether this session is the proxy''s (ticket_proxy) on a concert partition.';

CREATE OR REPLACE FUNCTION ticket.vouched(p_api_key text)
RETURNS boolean
LANGUAGE sql STABLE
-- Never NULL (unset, or a malformed key): the gate negates it.
AS $$ SELECT coalesce(current_setting('ticket.vouched_user', true) = ticket.key_user_id(p_api_key)::text, false) $$;
COMMENT ON FUNCTION ticket.vouched(text) IS
  'Whether the proxy vouches for the user of this key in this transaction (ticket.vouch); it counts only where ticket.proxy_on_concerts().';
