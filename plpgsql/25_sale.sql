-- The sale opening: the pre-queue, its shuffle under a committed seed, and the proof.
--
-- From pre_queue_opens_at (sale_opens_at - pre_queue_minutes) joins get PRE_QUEUE
-- tokens without a seq. The first call after sale_opens_at (a join, a poll, the proof;
-- the minute's tick as a fallback) opens the sale once: every pre-queue entry gets seq =
-- its rank in ascending sha256(seed || entry_id) (ticket.pre_queue_ranks), and later
-- joins line up behind.

-- A pre-queue token's rank, drawn at the opening, or NULL. Its plan is kept (PL/pgSQL)
-- and made without a sequential scan: the opening fills the table in one transaction,
-- and a plan made while it was empty (and analysed so) read every rank on every poll
-- until the next ANALYZE (tests/sql/15_stale_statistics.sql).
CREATE OR REPLACE FUNCTION ticket.pre_queue_rank(p_token_id bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $$
BEGIN
  RETURN (SELECT rank FROM ticket.pre_queue_ranks WHERE token_id = p_token_id);
END
$$;
COMMENT ON FUNCTION ticket.pre_queue_rank(bigint) IS 'The rank the opening drew for a pre-queue token, or NULL.';

-- Pre-queue joins and leaves hold it shared until they commit; the opening holds it
-- exclusively, so it places every entry that committed and none can slip in meanwhile.
CREATE OR REPLACE FUNCTION ticket.sale_lock(p_concert_id bigint, p_exclusive boolean)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  -- 7243: this project's class of advisory locks (migrate.sh uses a one-key lock).
  IF p_exclusive THEN
    PERFORM pg_advisory_xact_lock(7243, p_concert_id::int);
  ELSE
    PERFORM pg_advisory_xact_lock_shared(7243, p_concert_id::int);
  END IF;
END
$$;
COMMENT ON FUNCTION ticket.sale_lock(bigint, boolean) IS
  'The advisory lock between pre-queue joins (shared) and the opening (exclusive) of a concert.';

CREATE OR REPLACE FUNCTION ticket.pre_queue_retry_after(p_opens_at timestamptz)
RETURNS int
LANGUAGE sql VOLATILE
AS $$
  -- Back 1 to 5 s after the opening, at random, so that the whole pre-queue does not
  -- poll in the same 100 ms; from far away, every 5 minutes (a rescheduled sale).
  SELECT CASE WHEN s > 600 THEN 300 ELSE s + 1 + floor(random() * 5)::int END
  FROM (SELECT greatest(0, ceil(extract(epoch FROM p_opens_at - now())))::int AS s) x
$$;
COMMENT ON FUNCTION ticket.pre_queue_retry_after(timestamptz) IS
  'Retry-After of a pre-queue token: 1-5 s after the opening, spread at random (300 s while the opening is more than 10 minutes away).';

CREATE OR REPLACE FUNCTION ticket.shuffle_rule()
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
  SELECT 'rank = position in ascending sha256(seed || entry_id), seed as its 32 bytes, entry_id as UTF-8; '
         'commitment = sha256(seed), published when the sale was scheduled'
$$;
COMMENT ON FUNCTION ticket.shuffle_rule() IS 'How anyone recomputes the pre-queue order from the published seed.';

-- Opens a due sale once: true when this call opened it.
CREATE OR REPLACE FUNCTION ticket.open_sale(p_concert_id bigint)
RETURNS boolean
LANGUAGE plpgsql
AS $$
DECLARE
  v_concert ticket.concerts;
  v_seed    bytea;
  v_placed  int;
  v_started timestamptz := clock_timestamp();
BEGIN
  PERFORM ticket.sale_lock(p_concert_id, p_exclusive => true);
  -- NO KEY UPDATE: joins' foreign-key checks (KEY SHARE) go on meanwhile.
  SELECT * INTO v_concert FROM ticket.concerts WHERE id = p_concert_id FOR NO KEY UPDATE;
  IF v_concert.sale_opens_at IS NULL OR v_concert.opened_at IS NOT NULL OR v_concert.sale_opens_at > now() THEN
    RETURN false;
  END IF;
  PERFORM 1 FROM ticket.queues WHERE concert_id = p_concert_id FOR UPDATE;
  SELECT seed INTO STRICT v_seed FROM ticket.sale_seeds WHERE concert_id = p_concert_id;

  -- One row per entry, written in one pass; the tokens themselves are turned into
  -- WAITING ones from the front as admission reaches them (ticket.place).
  PERFORM set_config('work_mem', '64MB', true);  -- the sort of 100,000 keys, in memory
  INSERT INTO ticket.pre_queue_ranks (concert_id, rank, token_id)
  SELECT p_concert_id, row_number() OVER (ORDER BY sha256(v_seed || convert_to(entry_id, 'UTF8'))), id
  FROM ticket.queue_tokens WHERE concert_id = p_concert_id AND status = 'PRE_QUEUE';
  GET DIAGNOSTICS v_placed = ROW_COUNT;
  IF v_placed > 0 THEN
    PERFORM setval(ticket.queue_seq(p_concert_id), v_placed);
  END IF;
  UPDATE ticket.queues SET settled = v_placed WHERE concert_id = p_concert_id;
  UPDATE ticket.concerts
  SET shuffle_seed = v_seed, opened_at = clock_timestamp(), shuffle_entries = v_placed,
      shuffle_ms = 1000 * extract(epoch FROM clock_timestamp() - v_started)
  WHERE id = p_concert_id;
  PERFORM ticket.admit(p_concert_id);
  -- A poll runs without waiting for its WAL flush; the opening is worth one.
  PERFORM set_config('synchronous_commit', 'on', true);
  RETURN true;
END
$$;
COMMENT ON FUNCTION ticket.open_sale(bigint) IS
  'Open a due sale once: place the pre-queue in the seed''s order, publish the seed, admit the first. True when this call opened it.';

CREATE OR REPLACE FUNCTION ticket.open_if_due(p_concert_id bigint)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM ticket.concerts
             WHERE id = p_concert_id AND opened_at IS NULL AND sale_opens_at <= now()) THEN
    PERFORM ticket.open_sale(p_concert_id);
  END IF;
END
$$;
COMMENT ON FUNCTION ticket.open_if_due(bigint) IS 'Open the sale if its time has come and nobody has yet.';

-- Its last date, not EXISTS (a date ahead): asked that way, with statistics of a long
-- past and few dates ahead, the planner walked concert_dates_ahead (every date ahead of
-- every concert) hoping to meet one of this concert's soon (tests/sql/15_stale_statistics.sql).
CREATE OR REPLACE FUNCTION ticket.date_ahead(p_concert_id bigint)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  RETURN coalesce((SELECT max(starts_at) FROM ticket.concert_dates WHERE concert_id = p_concert_id) > now(), false);
END
$$;
COMMENT ON FUNCTION ticket.date_ahead(bigint) IS 'Whether a concert has a date ahead (one probe of concert_dates_by_concert).';

-- Without a sale time a concert is ON_SALE from its creation; ENDED once no date is
-- ahead. One rule for a concert read alone, for the list and for the DBAs' report, from
-- the rows they have already read (inlined: no FROM).
CREATE OR REPLACE FUNCTION ticket.status_of(p_concert ticket.concerts, p_queue ticket.queues)
RETURNS text
LANGUAGE sql STABLE
AS $$
  SELECT CASE
    WHEN NOT ticket.date_ahead(p_concert.id) THEN 'ENDED'
    WHEN p_concert.opened_at IS NULL
         AND now() < p_concert.sale_opens_at - make_interval(mins => p_concert.pre_queue_minutes) THEN 'UPCOMING'
    WHEN p_concert.opened_at IS NULL AND now() < p_concert.sale_opens_at THEN 'PRE_QUEUE'
    WHEN p_queue.sold_out THEN 'SOLD_OUT'
    ELSE 'ON_SALE' END
$$;
COMMENT ON FUNCTION ticket.status_of(ticket.concerts, ticket.queues) IS
  'A concert''s status from its row and its queue''s (ticket.concert_status reads them for one concert).';

CREATE OR REPLACE FUNCTION ticket.concert_status(p_concert_id bigint)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  RETURN (SELECT ticket.status_of(c, q) FROM ticket.concerts c JOIN ticket.queues q ON q.concert_id = c.id
          WHERE c.id = p_concert_id);
END
$$;
COMMENT ON FUNCTION ticket.concert_status(bigint) IS 'UPCOMING, PRE_QUEUE, ON_SALE, SOLD_OUT or ENDED, by the database clock.';

-- One query for a list: a function call and a query per concert, each built alone,
-- took half as long again (docs/bench.md). SQL, so that it is inlined into its
-- caller's query and planned with it: for ARRAY[id] as for a list.
CREATE OR REPLACE FUNCTION ticket.concert_bodies(p_ids bigint[])
RETURNS TABLE (id bigint, status text, body json)
LANGUAGE sql STABLE
AS $$
  SELECT x.id, x.status, json_build_object(
    'id', x.id, 'title', x.title, 'venue', x.venue, 'status', x.status,
    'sale_opens_at', x.sale_opens_at,
    'pre_queue_opens_at', x.sale_opens_at - make_interval(mins => x.pre_queue_minutes),
    'hold_minutes', x.hold_minutes, 'max_seats_per_user', x.max_seats_per_user,
    'queue', json_build_object('waiting', ticket.queue_waiting(x.id),
                               'active', ticket.queue_active(x.id),
                               'max_active', x.max_active),
    'shuffle', CASE WHEN x.shuffle_commitment IS NOT NULL THEN
                 json_build_object('commitment', encode(x.shuffle_commitment, 'hex'),
                                   'seed', encode(x.shuffle_seed, 'hex')) END)
  FROM (SELECT c.*, ticket.status_of(c, q) AS status
        FROM ticket.concerts c JOIN ticket.queues q ON q.concert_id = c.id
        WHERE c.id = ANY (p_ids) OFFSET 0) x  -- OFFSET 0: the status worked out once, not per use
$$;
COMMENT ON FUNCTION ticket.concert_bodies(bigint[]) IS
  'The JSON of each of these concerts as the API shows it (CONCERT in docs/api.md), with its status; in no order.';

CREATE OR REPLACE FUNCTION api.get_concert(p_concert_id bigint)
RETURNS api.reply
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_body json;
BEGIN
  SELECT b.body INTO v_body FROM ticket.concert_bodies(ARRAY[p_concert_id]) b;
  IF v_body IS NULL THEN
    PERFORM ticket.fail('T404A', format('concert %s not found', p_concert_id));
  END IF;
  RETURN ticket.reply(200, v_body);
END
$$;
COMMENT ON FUNCTION api.get_concert(bigint) IS 'GET /api/concerts/{id}: one concert, its status and queue figures.';

-- A concert with a sale time, opened if due: the proof's functions publish nothing else.
CREATE OR REPLACE FUNCTION ticket.shuffled_concert(p_concert_id bigint)
RETURNS ticket.concerts
LANGUAGE plpgsql
AS $$
DECLARE
  v_c ticket.concerts;
BEGIN
  PERFORM ticket.open_if_due(p_concert_id);
  SELECT * INTO v_c FROM ticket.concerts WHERE id = p_concert_id;
  IF NOT found THEN
    PERFORM ticket.fail('T404A', format('concert %s not found', p_concert_id));
  ELSIF v_c.sale_opens_at IS NULL THEN
    PERFORM ticket.fail('T404A', format('concert %s has no pre-queue: it was on sale from its creation', p_concert_id));
  END IF;
  RETURN v_c;
END
$$;
COMMENT ON FUNCTION ticket.shuffled_concert(bigint) IS 'The concert row behind a shuffle proof (404 without a sale time), opened if due.';

CREATE OR REPLACE FUNCTION api.shuffle_proof(p_concert_id bigint)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_c ticket.concerts := ticket.shuffled_concert(p_concert_id);
BEGIN
  RETURN ticket.reply(200, json_build_object(
    'concert_id', v_c.id, 'commitment', encode(v_c.shuffle_commitment, 'hex'),
    'seed', encode(v_c.shuffle_seed, 'hex'), 'entries', v_c.shuffle_entries, 'rule', ticket.shuffle_rule()));
END
$$;
COMMENT ON FUNCTION api.shuffle_proof(bigint) IS
  'GET /api/concerts/{id}/shuffle: the commitment, and from the opening the seed and how many entries were placed.';

CREATE OR REPLACE FUNCTION api.shuffle_entries(p_concert_id bigint, p_after bigint, p_limit int)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_c ticket.concerts := ticket.shuffled_concert(p_concert_id);
BEGIN
  IF v_c.opened_at IS NULL THEN
    PERFORM ticket.fail('T409F', format('the sale of concert %s opens at %s: the order is drawn then', p_concert_id, v_c.sale_opens_at),
      json_build_object('sale_opens_at', v_c.sale_opens_at));
  END IF;
  IF p_after < 0 OR p_limit NOT BETWEEN 1 AND 1000 THEN
    PERFORM ticket.fail('T400A', 'after must be 0 or more and limit 1 to 1000');
  END IF;
  RETURN ticket.reply(200, json_build_object('entries', coalesce((
    SELECT json_agg(json_build_object('rank', e.rank, 'entry_id', t.entry_id) ORDER BY e.rank)
    FROM (SELECT rank, token_id FROM ticket.pre_queue_ranks
          WHERE concert_id = p_concert_id AND rank > p_after ORDER BY rank LIMIT p_limit) e
    JOIN ticket.queue_tokens t ON t.id = e.token_id), '[]')));
END
$$;
COMMENT ON FUNCTION api.shuffle_entries(bigint, bigint, int) IS
  'GET /api/concerts/{id}/shuffle/entries: the pre-queue''s entries by rank after p_after, at most p_limit (409 before the opening).';
