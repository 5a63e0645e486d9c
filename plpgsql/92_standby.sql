-- What the proxy asks a concert node's streaming standby (docs/scale.md, "Standby
-- reads"): a seat map, and the poll of a token far back in line, each only while the
-- standby is fresh enough and only when the primary's own answer would have written
-- nothing that matters. Otherwise they answer a reply without a status, the reason in
-- its body (an error means the same to the proxy): the primary answers instead. Not an
-- error, because a remote error costs the proxy half a millisecond more than a row.

-- pg_stat_wal_receiver shows its details only to this role's members; the definers of
-- peer.* read it through ticket.standby_lag.
GRANT pg_read_all_stats TO ticket_app;

-- The WAL the primary reported in its last message (data or keepalive) was its flushed
-- end when it sent that message, stamped with its clock. Once that is replayed, this
-- node holds every transaction the primary had flushed by that time; while replay is
-- behind it, every transaction up to the last one replayed. NULL (not fresh at all)
-- when the receiver is not streaming or nothing was replayed yet. A primary is current.
CREATE OR REPLACE FUNCTION ticket.standby_lag()
RETURNS interval
LANGUAGE sql STABLE
AS $$
  SELECT CASE WHEN NOT pg_is_in_recovery() THEN interval '0'
    ELSE (SELECT clock_timestamp() - CASE WHEN pg_last_wal_replay_lsn() >= r.latest_end_lsn
                                          THEN r.last_msg_send_time
                                          ELSE pg_last_xact_replay_timestamp() END
          FROM pg_stat_wal_receiver r WHERE r.status = 'streaming') END
$$;
COMMENT ON FUNCTION ticket.standby_lag() IS
  'How far behind the primary this node may be: now less the primary''s time as of which it has replayed everything (0 on a primary, NULL when not streaming).';

CREATE OR REPLACE FUNCTION ticket.ask_primary(p_why text)
RETURNS api.reply
LANGUAGE sql IMMUTABLE
AS $$ SELECT ROW(NULL, json_build_object('ask_primary', p_why), NULL)::api.reply $$;
COMMENT ON FUNCTION ticket.ask_primary(text) IS
  'A standby''s refusal: a reply with no status and the reason in its body; the proxy then calls the primary.';

CREATE OR REPLACE FUNCTION ticket.standby_too_stale(p_max_lag interval)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  v_lag interval := ticket.standby_lag();
BEGIN
  IF v_lag IS NULL THEN
    RETURN 'this standby is not streaming from it';
  ELSIF v_lag > p_max_lag THEN
    RETURN format('replay lags %s, over the bound %s', v_lag, p_max_lag);
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION ticket.standby_too_stale(interval) IS
  'Why this node may not answer for its primary (NULL when it may): not streaming, or not everything the primary had flushed p_max_lag ago replayed.';

-- The gate and the map only read: the map is the primary's of at most p_max_lag ago. A
-- refusal (not ACTIVE, 404) may be as stale, so it is the primary's to give: the proxy
-- asks it on any error.
CREATE OR REPLACE FUNCTION peer.standby_seat_map(p_user_id bigint, p_api_key text, p_token text, p_concert_id bigint,
                                                 p_date date, p_max_lag interval)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_why text := ticket.standby_too_stale(p_max_lag);
BEGIN
  IF v_why IS NOT NULL THEN
    RETURN ticket.ask_primary(v_why);
  END IF;
  PERFORM ticket.vouch(p_user_id) WHERE p_user_id IS NOT NULL;
  RETURN api.seat_map(p_api_key, p_token, p_concert_id, p_date);
END
$$;
COMMENT ON FUNCTION peer.standby_seat_map(bigint, text, text, bigint, date, interval) IS
  'Standby: peer.seat_map while replay lags at most p_max_lag; else ticket.ask_primary.';

-- The poll of ticket.token_reply, for the one case where the primary would only have
-- read and refreshed the heartbeat: a WAITING token far back (more than twice
-- max_active ahead, so no admission round can reach it), in a room with no free slot
-- or sold out (so the poll would not admit). The heartbeat cannot be written here:
-- the answer is given only while the last one written is under half the idle limit
-- old, so a page polling at least that often (it is told a quarter) is never dropped
-- as idle; past that the primary answers, and writes it.
CREATE OR REPLACE FUNCTION peer.standby_queue_status(p_token text, p_max_lag interval)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_id bigint[] := ticket.token_ids(p_token);
  v_t  record;
  v_why text := ticket.standby_too_stale(p_max_lag);
BEGIN
  IF v_why IS NOT NULL THEN
    RETURN ticket.ask_primary(v_why);
  END IF;
  -- As ticket.find_token: by the row the token names, then its concert and secret.
  SELECT t.entry_id, t.concert_id, t.token_hash, t.last_seen_at, q.sold_out, q.turn_seconds,
         c.max_active, c.idle_seconds, c.waitlist_idle_seconds,
         ticket.queue_position(t.concert_id, t.seq, q.admitted) AS position
  INTO v_t
  FROM ticket.queue_tokens t
  JOIN ticket.queues q ON q.concert_id = t.concert_id
  JOIN ticket.concerts c ON c.id = t.concert_id
  WHERE t.id = v_id[2] AND t.status = 'WAITING'
    AND q.concert_id = v_id[1];  -- by its key, as ticket.token_reply: not a merge join over every concert
  IF NOT found OR v_t.token_hash <> ticket.secret_hash(p_token) THEN
    RETURN ticket.ask_primary('not a WAITING token here');
  ELSIF v_t.position <= 2 * v_t.max_active THEN
    RETURN ticket.ask_primary('near the front');
  ELSIF NOT v_t.sold_out AND ticket.queue_active(v_t.concert_id) < v_t.max_active THEN
    RETURN ticket.ask_primary('a free slot: the poll may admit');
  ELSIF v_t.last_seen_at < now() - make_interval(secs => least(v_t.idle_seconds, v_t.waitlist_idle_seconds) / 2.0) THEN
    RETURN ticket.ask_primary('the heartbeat is due');
  END IF;
  RETURN ticket.waiting_reply(200, p_token, v_t.entry_id, v_t.concert_id, v_t.position, v_t.sold_out,
    v_t.turn_seconds, v_t.max_active, v_t.idle_seconds, v_t.waitlist_idle_seconds);
END
$$;
COMMENT ON FUNCTION peer.standby_queue_status(text, interval) IS
  'Standby: the poll of a WAITING token far back in a full or sold-out room, heartbeat fresh, while replay lags at most p_max_lag; else ticket.ask_primary.';
