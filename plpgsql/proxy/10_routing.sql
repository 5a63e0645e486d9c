-- Where a call goes, and how a partition's error comes back as if there were one database.
--
-- Slots: every user id and concert id has slot = id % 1024; a cluster of N partitions
-- (N a power of two up to 1024) serves slot s on partition s & (N - 1), which is what
-- PL/Proxy's RUN ON does with the slot. A partition gives out only ids of its own
-- slots (scripts/topology.sh sets its identities), so an id alone says where it lives.

CREATE OR REPLACE FUNCTION route.slot(p_id bigint)
RETURNS int
LANGUAGE sql IMMUTABLE
AS $$ SELECT (coalesce(p_id, 0) & 1023)::int $$;
COMMENT ON FUNCTION route.slot(bigint) IS 'The slot (0 to 1023) of a user or concert id: PL/Proxy masks it to a partition.';

CREATE OR REPLACE FUNCTION route.partitions(p_cluster text)
RETURNS int
LANGUAGE sql STABLE
AS $$
  SELECT count(*)::int FROM pg_foreign_server s, unnest(s.srvoptions) o
  WHERE s.srvname = p_cluster AND o ~ '^p[0-9]+='
$$;
COMMENT ON FUNCTION route.partitions(text) IS 'How many partitions a PL/Proxy cluster has (admin.set_cluster).';

CREATE OR REPLACE FUNCTION route.user_slot(p_api_key text)
RETURNS int
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
  -- The test of ticket.key_user_id on the partitions: tk_<user id>.<43 base64url>.
  v_user_id bigint := CASE WHEN p_api_key ~ '^tk_[1-9][0-9]*\.[A-Za-z0-9_-]+$'
                            AND strpos(p_api_key, '.') <= 22 AND length(p_api_key) - strpos(p_api_key, '.') = 43
                      THEN substr(p_api_key, 4, strpos(p_api_key, '.') - 4)::bigint END;
BEGIN
  IF v_user_id IS NULL THEN
    -- What ticket.authenticate answers for a key no user has.
    RAISE EXCEPTION USING ERRCODE = 'T401A', MESSAGE = 'missing or unknown API key',
      HINT = 'send Authorization: Bearer <api_key> from POST /api/users';
  END IF;
  RETURN route.slot(v_user_id);
END
$$;
COMMENT ON FUNCTION route.user_slot(text) IS
  'The slot of the user an API key names; a key of another shape is UNAUTHENTICATED, as on one database.';

CREATE OR REPLACE FUNCTION route.token_slot(p_token text)
RETURNS int
LANGUAGE sql IMMUTABLE
-- The pattern of the partitions' tokens: qt_<concert id>.<token id>.<secret>. Any other
-- text goes to partition 0, which answers QUEUE_TOKEN_INVALID as one database would.
AS $$
  SELECT route.slot(CASE WHEN p_token ~ '^qt_[1-9][0-9]*\.' AND strpos(p_token, '.') <= 22
                    THEN substr(p_token, 4, strpos(p_token, '.') - 4)::bigint END)
$$;
COMMENT ON FUNCTION route.token_slot(text) IS 'The slot of the concert a queue token names (0 for a malformed one).';

-- A gated call goes first with no user: the concert's partition proves the key by the
-- queue token (docs/scale.md, "A key on a concert partition"). Sent the long way
-- (TKP01), it goes again with the user the key's own partition names.
CREATE OR REPLACE FUNCTION route.user_unless_proven(p_long boolean, p_api_key text)
RETURNS bigint
LANGUAGE plpgsql
AS $$
BEGIN
  IF p_long THEN
    RETURN route.authenticate(route.user_slot(p_api_key), p_api_key);
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION route.user_unless_proven(boolean, text) IS
  'NULL for a gated call''s first try (its token proves the key), the key''s user from its partition for the long way.';

CREATE OR REPLACE FUNCTION route.reraise(p_state text, p_message text, p_detail text, p_hint text)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
  -- PL/Proxy keeps a partition's SQLSTATE but words the rest "fn(N): [db] REMOTE
  -- ERROR: message" (FATAL from a pgbouncer), "Remote detail: ...", "Remote hint: ...".
  v_remote  text := substring(p_message FROM '^\S+\(\d+\): \[[^]]*\] REMOTE [A-Z]+: (.*)$');
  v_state   text := p_state;
  v_message text := coalesce(v_remote, p_message);
  v_detail  text := nullif(coalesce(substring(p_detail FROM '^Remote detail: (.*)$'), p_detail), '');
  v_hint    text := nullif(coalesce(substring(p_hint FROM '^Remote hint: (.*)$'), p_hint), '');
BEGIN
  -- PL/Proxy's own failures (a partition it cannot reach, a connection lost in a call)
  -- come as XX000 "PL/Proxy function ...": the node is unavailable, not a bug.
  IF p_state = 'XX000' AND p_message LIKE 'PL/Proxy function %' THEN
    v_state := '08006';
  END IF;
  IF v_detail IS NULL AND v_hint IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = v_message;
  ELSIF v_hint IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = v_message, DETAIL = v_detail;
  ELSIF v_detail IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = v_message, HINT = v_hint;
  END IF;
  RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = v_message, DETAIL = v_detail, HINT = v_hint;
END
$$;
COMMENT ON FUNCTION route.reraise(text, text, text, text) IS
  'Raise an error caught around a routed call as the partition raised it (SQLSTATE, message, DETAIL, HINT); PL/Proxy''s own failures as 08006 (503).';

CREATE OR REPLACE FUNCTION route.reraise_gated(p_token text, p_state text, p_message text, p_detail text, p_hint text)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
  v_known boolean;
BEGIN
  -- One database finds a token of another concert and refuses it as such (403); the
  -- partition of this call's concert may not have it, and says unknown (401): then
  -- the partition the token names is asked whether it knows it.
  IF p_state = 'T401B' AND p_token IS NOT NULL THEN
    BEGIN
      v_known := route.token_known(route.token_slot(p_token), p_token);
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS p_state = RETURNED_SQLSTATE, p_message = MESSAGE_TEXT,
        p_detail = PG_EXCEPTION_DETAIL, p_hint = PG_EXCEPTION_HINT;
    END;
    IF v_known THEN
      RAISE EXCEPTION USING ERRCODE = 'T403A', MESSAGE = 'this queue token belongs to another user or concert';
    END IF;
  END IF;
  PERFORM route.reraise(p_state, p_message, p_detail, p_hint);
END
$$;
COMMENT ON FUNCTION route.reraise_gated(text, text, text, text, text) IS
  'route.reraise for a call gated by a queue token: a token the concert''s partition does not know but its own does is QUEUE_TOKEN_MISMATCH, as on one database.';
