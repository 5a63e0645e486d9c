-- The waiting room: tokens, O(log n) positions, admission in arrival order.
--
-- Lock order, to stay free of deadlocks: the sale's advisory lock (ticket.sale_lock:
-- shared by pre-queue joins and leaves, exclusive for the opening), the concerts row
-- (NO KEY UPDATE, by the opening only), the concert's ticket.queues row (admission),
-- then tokens. A transaction that both admits and changes a WAITING token locks the
-- queues row first. Admission expires ACTIVE tokens with SKIP LOCKED, so a payer
-- holding its own ACTIVE token may call it. Joins lock none of these: each takes its
-- seq from the concert's sequence, and ticket.settle makes positions exact afterwards.

-- Fenwick tree helpers. Seq numbers run up to 2^40; a drop touches at most 41 nodes,
-- a prefix sum reads at most 41.
-- Helpers that read tables are PL/pgSQL, whose plans are kept: a SQL function with a
-- FROM clause is planned again on every call (a fifth of a poll's time, perf).
CREATE OR REPLACE FUNCTION ticket.queue_drops_before(p_concert_id bigint, p_seq bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  RETURN (SELECT coalesce(sum(d.dropped), 0)::bigint
          FROM ticket.queue_drops d
          WHERE d.concert_id = p_concert_id
            AND d.node IN (SELECT (p_seq >> b) << b FROM generate_series(0, 40) b WHERE (p_seq >> b) & 1 = 1));
END
$$;
COMMENT ON FUNCTION ticket.queue_drops_before(bigint, bigint) IS
  'How many tokens with seq <= p_seq dropped out while waiting (Fenwick prefix sum).';

CREATE OR REPLACE FUNCTION ticket.queue_drops_root()
RETURNS bigint
LANGUAGE sql IMMUTABLE
AS $$ SELECT 1::bigint << 40 $$;
COMMENT ON FUNCTION ticket.queue_drops_root() IS
  'The Fenwick node that covers every seq, 1 to 2^40: its count is all drops of the concert.';

CREATE OR REPLACE FUNCTION ticket.queue_drop(p_concert_id bigint, p_seqs bigint[])
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  -- Node m<<b covers seq s when m = ((s-1)>>b)+1 is odd; nodes are locked in order.
  INSERT INTO ticket.queue_drops AS d (concert_id, node, dropped)
  SELECT p_concert_id, n.node, count(*)
  FROM unnest(p_seqs) s,
       LATERAL (SELECT (((s - 1) >> b) + 1) << b AS node
                FROM generate_series(0, 40) b
                WHERE (((s - 1) >> b) + 1) & 1 = 1) n
  GROUP BY n.node
  ORDER BY n.node
  ON CONFLICT (concert_id, node) DO UPDATE SET dropped = d.dropped + excluded.dropped;
END
$$;
COMMENT ON FUNCTION ticket.queue_drop(bigint, bigint[]) IS
  'Record that the WAITING tokens with these seqs left the line (Fenwick update).';

-- PL/pgSQL: as SQL it was inlined only when p_seq came from a plain column, and was
-- planned again on every poll otherwise (a ranked pre-queue entry's seq is a sub-select).
CREATE OR REPLACE FUNCTION ticket.queue_position(p_concert_id bigint, p_seq bigint, p_admitted bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  -- Everyone ahead was admitted (admission is in seq order), dropped, or still waits.
  RETURN p_seq - p_admitted - ticket.queue_drops_before(p_concert_id, p_seq - 1);
END
$$;
COMMENT ON FUNCTION ticket.queue_position(bigint, bigint, bigint) IS
  'Position of a WAITING token: WAITING tokens ahead of it + 1, in O(log n).';

CREATE OR REPLACE FUNCTION ticket.queue_seq(p_concert_id bigint)
RETURNS regclass
LANGUAGE sql STABLE
AS $$ SELECT format('ticket.queue_seq_%s', p_concert_id)::regclass $$;
COMMENT ON FUNCTION ticket.queue_seq(bigint) IS 'The sequence a concert''s joins take their seq from.';

-- PL/pgSQL: pg_sequence_last_value is volatile, so as SQL this was never inlined and
-- was planned again on every call.
CREATE OR REPLACE FUNCTION ticket.queue_joined(p_concert_id bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  RETURN coalesce(pg_sequence_last_value(ticket.queue_seq(p_concert_id)), 0);
END
$$;
COMMENT ON FUNCTION ticket.queue_joined(bigint) IS 'The last seq handed out (joins so far, holes included).';

-- Each asked of its partial index in the index's own order: as EXISTS, the WAITING
-- test was planned as a scan of every token, expected to stop at the first of a long
-- line (50 ms a concert with none).
CREATE OR REPLACE FUNCTION ticket.anyone_waiting(p_concert_id bigint)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  RETURN (SELECT id FROM ticket.queue_tokens WHERE concert_id = p_concert_id AND status = 'WAITING' ORDER BY seq LIMIT 1) IS NOT NULL
      OR (SELECT id FROM ticket.queue_tokens WHERE concert_id = p_concert_id AND status = 'PRE_QUEUE' LIMIT 1) IS NOT NULL;
END
$$;
COMMENT ON FUNCTION ticket.anyone_waiting(bigint) IS 'Whether a concert has a token WAITING or in its pre-queue (two index probes).';

CREATE OR REPLACE FUNCTION ticket.queue_waiting(p_concert_id bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  v_joined bigint;
BEGIN
  -- Nobody waits without a WAITING or PRE_QUEUE token, and then the concert's sequence
  -- is left alone. Reading it locks it to the end of the transaction: a list of every
  -- concert took a lock per concert, and a few such lists at once filled the server's
  -- lock table (out of shared memory, for every session).
  IF NOT ticket.anyone_waiting(p_concert_id) THEN
    RETURN 0;
  END IF;
  v_joined := ticket.queue_joined(p_concert_id);
  -- Before the opening the pre-queue has no seqs: a count over its partial index.
  IF v_joined = 0 THEN
    RETURN (SELECT count(*) FROM ticket.queue_tokens WHERE concert_id = p_concert_id AND status = 'PRE_QUEUE');
  END IF;
  -- Holes not yet settled and joins still committing count as waiting.
  RETURN (SELECT v_joined - q.admitted - ticket.queue_drops_before(q.concert_id, v_joined)
          FROM ticket.queues q WHERE q.concert_id = p_concert_id);
END
$$;
COMMENT ON FUNCTION ticket.queue_waiting(bigint) IS
  'How many tokens of a concert wait (or are in its pre-queue), in O(log n); 0 without reading its sequence when none does.';

CREATE OR REPLACE FUNCTION ticket.queue_active(p_concert_id bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  RETURN (SELECT count(*) FROM ticket.queue_tokens
          WHERE concert_id = p_concert_id AND status = 'ACTIVE' AND expires_at > now());
END
$$;
COMMENT ON FUNCTION ticket.queue_active(bigint) IS 'ACTIVE tokens of a concert whose turn has not run out (at most max_active rows).';

CREATE OR REPLACE FUNCTION ticket.end_turn(p_token_id bigint, p_status text, p_queue_locked boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
  v_token ticket.queue_tokens;
BEGIN
  UPDATE ticket.queue_tokens SET status = p_status, ended_at = now()
  WHERE id = p_token_id AND status IN ('WAITING', 'ACTIVE')
  RETURNING * INTO v_token;
  IF NOT found THEN
    RETURN;
  END IF;
  -- Locks the queues row: callers that change WAITING tokens must hold it already.
  IF v_token.activated_at IS NULL THEN
    PERFORM ticket.queue_drop(v_token.concert_id, ARRAY[v_token.seq]);
  ELSIF p_queue_locked THEN
    -- A payment that could not have the lock leaves its sample out; it is an estimate.
    UPDATE ticket.queues
    SET turn_seconds = 0.9 * turn_seconds + 0.1 * greatest(1, extract(epoch FROM now() - v_token.activated_at))
    WHERE concert_id = v_token.concert_id;
  END IF;
END
$$;
COMMENT ON FUNCTION ticket.end_turn(bigint, text, boolean) IS
  'End a live token (DONE, LEFT, EXPIRED, SOLD_OUT): a waiting one is a drop, an active one feeds the ETA average.';

-- After the sell-out, no more turns than seats to hold: a seat that comes back goes to
-- the first on the waiting list, not to a crowd of whom all but one would wait in vain.
CREATE OR REPLACE FUNCTION ticket.turns_wanted(p_concert_id bigint, p_cap int)
RETURNS int
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  RETURN (SELECT count(*) FROM (SELECT 1 FROM ticket.seats s JOIN ticket.concert_dates d ON d.id = s.date_id
                                WHERE d.concert_id = p_concert_id AND d.starts_at > now() AND NOT s.sold
                                  AND (s.held_until IS NULL OR s.held_until <= now())
                                LIMIT p_cap) free_seats)::int
       - (SELECT count(*) FROM ticket.queue_tokens t
          WHERE t.concert_id = p_concert_id AND t.status = 'ACTIVE' AND t.expires_at > now()
            AND NOT EXISTS (SELECT 1 FROM ticket.reservations r
                            WHERE r.user_id = t.user_id AND r.concert_id = t.concert_id
                              AND r.status = 'HELD' AND r.expires_at > now()))::int;
END
$$;
COMMENT ON FUNCTION ticket.turns_wanted(bigint, int) IS
  'Seats nobody holds or bought (counted up to p_cap), less the live turns that hold none yet: how many more turns make sense.';

CREATE OR REPLACE FUNCTION ticket.running_joins(p_concert_id bigint)
RETURNS SETOF text
LANGUAGE sql VOLATILE
AS $$
  -- pg_locks reads the lock table as it is now (no snapshot); not this transaction.
  SELECT l.virtualtransaction FROM pg_locks l
  WHERE l.locktype = 'advisory' AND l.classid = 7243::oid AND l.objid::bigint = p_concert_id AND l.objsubid = 2
    AND l.granted AND l.pid <> pg_backend_pid()
$$;
COMMENT ON FUNCTION ticket.running_joins(bigint) IS
  'The transactions of other sessions joining the concert now (holding ticket.sale_lock).';

-- Joins take seq from the concert's sequence and commit without waiting for each other,
-- so a seq may belong to a join still committing, or to one that rolled back (a hole,
-- for good). Every seq up to queues.settled is known to be a committed token or a hole
-- recorded as a drop; admission never passes it, so it stays in seq order and positions
-- are exact up to there. Behind it a hole overstates positions by one until it settles:
-- at the next admission (or tick) after every join that was running when it was noticed
-- has ended. Each join holds ticket.sale_lock shared from before it takes its seq to its
-- commit, so the lock's holders, read after the sequence, include every join that could
-- still fill a seq up to the value read.
CREATE OR REPLACE FUNCTION ticket.settle(p_concert_id bigint)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
  v_q     ticket.queues;
  v_holes bigint[];
  v_was   ticket.queues;
  v_last  bigint;
BEGIN
  -- The caller holds the queues row lock.
  SELECT * INTO v_q FROM ticket.queues WHERE concert_id = p_concert_id;
  v_was := v_q;
  IF v_q.pending_upto IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM ticket.running_joins(p_concert_id) j WHERE j = ANY (v_q.pending_joins)) THEN
    -- Nobody can fill a missing seq up to pending_upto any more (read in a later
    -- statement, so with a snapshot that sees every one of those joins' commits).
    -- The range is in the sub-select too: without it the generic plan hashed every
    -- token of the concert, at each admission of a surge (make bench: 6,000 buffers).
    SELECT array_agg(s) INTO v_holes
    FROM generate_series(v_q.settled + 1, v_q.pending_upto) s
    WHERE NOT EXISTS (SELECT 1 FROM ticket.queue_tokens t
                      WHERE t.concert_id = p_concert_id AND t.seq = s
                        AND t.seq > v_q.settled AND t.seq <= v_q.pending_upto);
    IF v_holes IS NOT NULL THEN
      PERFORM ticket.queue_drop(p_concert_id, v_holes);
    END IF;
    v_q.settled := greatest(v_q.settled, v_q.pending_upto);
    v_q.pending_upto := NULL;
    v_q.pending_joins := NULL;
  END IF;
  -- Committed tokens right behind settled settle at once (our own uncommitted one too:
  -- it rolls back with this update).
  SELECT coalesce(max(x.seq), v_q.settled) INTO v_q.settled
  FROM (SELECT seq, seq - row_number() OVER (ORDER BY seq) AS gap
        FROM ticket.queue_tokens WHERE concert_id = p_concert_id AND seq > v_q.settled
        ORDER BY seq LIMIT 100000) x
  WHERE x.gap = v_q.settled;
  IF v_q.pending_upto IS NULL THEN
    v_last := ticket.queue_joined(p_concert_id);
    IF v_last > v_q.settled THEN
      -- Something is missing right behind settled: note who could still fill it.
      v_q.pending_upto := v_last;
      v_q.pending_joins := ARRAY(SELECT ticket.running_joins(p_concert_id));
    END IF;
  END IF;
  IF (v_q.settled, v_q.pending_upto, v_q.pending_joins) IS DISTINCT FROM (v_was.settled, v_was.pending_upto, v_was.pending_joins) THEN
    UPDATE ticket.queues SET settled = v_q.settled, pending_upto = v_q.pending_upto, pending_joins = v_q.pending_joins
    WHERE concert_id = p_concert_id;
  END IF;
  RETURN v_q.settled;
END
$$;
COMMENT ON FUNCTION ticket.settle(bigint) IS
  'Advance queues.settled over committed tokens and over holes no running join can fill (recorded as drops); returns it.';

-- The pre-queue's ranks up to p_upto become WAITING tokens with seq = rank (those that
-- left or went idle meanwhile already are ended ones). Counted as seen at the opening
-- at least: they were told to come back a few seconds after it.
CREATE OR REPLACE FUNCTION ticket.place(p_concert_id bigint, p_upto bigint)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
  v_placed bigint;
BEGIN
  -- The caller holds the queues row lock.
  SELECT placed INTO v_placed FROM ticket.queues WHERE concert_id = p_concert_id;
  IF p_upto <= v_placed THEN
    RETURN v_placed;
  END IF;
  UPDATE ticket.queue_tokens t
  SET status = 'WAITING', seq = r.rank, last_seen_at = greatest(t.last_seen_at, c.opened_at)
  FROM ticket.pre_queue_ranks r, ticket.concerts c
  WHERE r.concert_id = p_concert_id AND r.rank > v_placed AND r.rank <= p_upto
    AND t.id = r.token_id AND t.status = 'PRE_QUEUE' AND c.id = p_concert_id;
  UPDATE ticket.queues SET placed = p_upto WHERE concert_id = p_concert_id;
  RETURN p_upto;
END
$$;
COMMENT ON FUNCTION ticket.place(bigint, bigint) IS
  'Turn the pre-queue''s ranks up to p_upto into WAITING tokens (seq = rank), for admission; returns queues.placed.';

CREATE OR REPLACE FUNCTION ticket.admit(p_concert_id bigint, p_present_token_id bigint DEFAULT NULL)
RETURNS int
LANGUAGE plpgsql
AS $$
DECLARE
  v_queue    ticket.queues;
  v_concert  ticket.concerts;
  v_free     int;
  v_admitted int := 0;
  v_idle     bigint[] := '{}';
  v_token    record;
  v_settled  bigint;
  v_entries  bigint;
  v_placed   bigint;
  v_found    boolean;
BEGIN
  -- The queues row lock makes this the one admitter of the concert.
  SELECT * INTO v_queue FROM ticket.queues WHERE concert_id = p_concert_id FOR UPDATE;
  SELECT * INTO v_concert FROM ticket.concerts WHERE id = p_concert_id;

  UPDATE ticket.queue_tokens SET status = 'EXPIRED', ended_at = now()
  WHERE id IN (SELECT id FROM ticket.queue_tokens
               WHERE concert_id = p_concert_id AND status = 'ACTIVE' AND expires_at <= now()
               FOR UPDATE SKIP LOCKED);
  v_settled := ticket.settle(p_concert_id);

  IF v_queue.sold_out THEN
    RETURN 0;
  END IF;
  v_free := v_concert.max_active - ticket.queue_active(p_concert_id);
  IF v_free > 0 AND v_queue.waitlist THEN
    v_free := least(v_free, ticket.turns_wanted(p_concert_id, v_concert.max_active));
  END IF;

  v_entries := coalesce(v_concert.shuffle_entries, 0);
  v_placed := v_queue.placed;
  WHILE v_free > 0 LOOP
    -- The pre-queue's front becomes WAITING tokens first: none is passed unplaced.
    IF v_placed < v_entries THEN
      v_placed := ticket.place(p_concert_id, least(v_entries, v_placed + greatest(v_free, 64)));
    END IF;
    v_found := false;
    FOR v_token IN
      SELECT id, seq, last_seen_at FROM ticket.queue_tokens
      WHERE concert_id = p_concert_id AND status = 'WAITING'
        AND seq <= CASE WHEN v_placed < v_entries THEN v_placed ELSE v_settled END
      ORDER BY seq LIMIT v_free
      FOR UPDATE
    LOOP
      v_found := true;
      IF v_token.last_seen_at < now() - make_interval(secs => v_concert.idle_seconds)
         AND v_token.id IS DISTINCT FROM p_present_token_id THEN
        -- Nobody polls it any more: the page was closed.
        UPDATE ticket.queue_tokens SET status = 'EXPIRED', ended_at = now() WHERE id = v_token.id;
        v_idle := v_idle || v_token.seq;
      ELSE
        UPDATE ticket.queue_tokens
        SET status = 'ACTIVE', activated_at = now(),
            expires_at = now() + make_interval(mins => v_concert.active_minutes)
        WHERE id = v_token.id;
        v_admitted := v_admitted + 1;
        v_free := v_free - 1;
      END IF;
    END LOOP;
    EXIT WHEN NOT v_found AND v_placed >= v_entries;
  END LOOP;

  IF v_admitted > 0 THEN
    UPDATE ticket.queues SET admitted = admitted + v_admitted WHERE concert_id = p_concert_id;
  END IF;
  IF cardinality(v_idle) > 0 THEN
    PERFORM ticket.queue_drop(p_concert_id, v_idle);
  END IF;
  RETURN v_admitted;
END
$$;
COMMENT ON FUNCTION ticket.admit(bigint, bigint) IS
  'Expire run-out turns, settle, then admit settled WAITING tokens in arrival order up to max_active (skipping idle ones but the one asking).';

-- An ACTIVE turn ends (paid, left) and its slot goes to the next in line, without
-- queueing for the concert's queue lock, which joins hold all through a sale: when
-- another call has it, the next poll near the front (or the tick) admits instead.
-- Only a sale of the last free seat of its date waits for the lock, to check whether
-- the concert is sold out.
CREATE OR REPLACE FUNCTION ticket.free_slot(p_token_id bigint, p_concert_id bigint, p_status text,
                                            p_sold_last_seat boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
  v_locked boolean;
BEGIN
  IF p_sold_last_seat THEN
    PERFORM 1 FROM ticket.queues WHERE concert_id = p_concert_id FOR UPDATE;
  ELSE
    PERFORM 1 FROM ticket.queues WHERE concert_id = p_concert_id FOR UPDATE SKIP LOCKED;
  END IF;
  v_locked := found;
  PERFORM ticket.end_turn(p_token_id, p_status, p_queue_locked => v_locked);
  IF p_sold_last_seat THEN
    PERFORM ticket.check_sold_out(p_concert_id);
  END IF;
  IF v_locked THEN
    PERFORM ticket.admit(p_concert_id);
  END IF;
END
$$;
COMMENT ON FUNCTION ticket.free_slot(bigint, bigint, text, boolean) IS
  'End an ACTIVE turn and admit into its slot if the queue lock is free (or when the concert may be sold out).';

-- Scalar and IMMUTABLE, so PL/pgSQL inlines them as expressions: a query here was a
-- quarter of a poll's time (make bench, pg_stat_statements).
CREATE OR REPLACE FUNCTION ticket.eta_seconds(p_position bigint, p_turn_seconds real, p_max_active int)
RETURNS bigint
LANGUAGE sql IMMUTABLE
AS $$
  -- A turn lasts turn_seconds on average and max_active turns run side by side.
  SELECT ceil(p_position * p_turn_seconds / p_max_active)::bigint
$$;
COMMENT ON FUNCTION ticket.eta_seconds(bigint, real, int) IS 'Seconds until a waiting position is admitted.';

CREATE OR REPLACE FUNCTION ticket.retry_after(p_position bigint, p_idle_seconds int)
RETURNS int
LANGUAGE sql IMMUTABLE
AS $$
  -- Polls follow the position, not the ETA: a slot may free any second (a payment),
  -- and an admitted user learns it only at the next poll, while the slot waits. So
  -- the first fifty poll every second and the far back every 30 s at most (20,000
  -- waiting make about 1,000 polls/s); always well inside idle_seconds. (One poll in
  -- ten positions, as first written, left a sale's slots idle for up to 30 s: make bench.)
  SELECT least(30, p_idle_seconds / 4, greatest(1, ceil(p_position / 50.0)))::int
$$;
COMMENT ON FUNCTION ticket.retry_after(bigint, int) IS 'How soon a waiting position should poll again, in seconds.';

CREATE OR REPLACE FUNCTION ticket.token_body(p_token text, p_entry_id text, p_concert_id bigint, p_status text,
                                             p_position bigint, p_eta bigint, p_opens_at timestamptz,
                                             p_expires_at timestamptz)
RETURNS json
LANGUAGE sql STABLE  -- as json_build_object is, so that it is inlined (see ticket.secret_hash)
AS $$
  SELECT json_build_object('token', p_token, 'entry_id', p_entry_id, 'concert_id', p_concert_id,
                           'status', p_status, 'position', p_position, 'eta_seconds', p_eta,
                           'opens_at', p_opens_at, 'expires_at', p_expires_at)
$$;
COMMENT ON FUNCTION ticket.token_body(text, text, bigint, text, bigint, bigint, timestamptz, timestamptz) IS
  'The JSON of a queue token as the API shows it.';

CREATE OR REPLACE FUNCTION ticket.waiting_reply(p_status int, p_token text, p_entry_id text, p_concert_id bigint,
                                                p_position bigint, p_sold_out boolean, p_turn_seconds real,
                                                p_max_active int, p_idle_seconds int, p_waitlist_idle_seconds int)
RETURNS api.reply
LANGUAGE sql STABLE  -- inlined where its arguments hold no sub-select (see ticket.secret_hash)
AS $$
  -- After the sell-out, the waiting list: in the same order, polling slowly, admitted
  -- as seats come back.
  SELECT CASE WHEN p_sold_out
    THEN ticket.reply(p_status, ticket.token_body(p_token, p_entry_id, p_concert_id, 'SOLD_OUT', p_position,
                                                  NULL, NULL, NULL),
                      least(60, p_waitlist_idle_seconds / 4, greatest(5, p_position))::int)
    ELSE ticket.reply(p_status, ticket.token_body(p_token, p_entry_id, p_concert_id, 'WAITING', p_position,
                                                  ticket.eta_seconds(p_position, p_turn_seconds, p_max_active),
                                                  NULL, NULL),
                      ticket.retry_after(p_position, p_idle_seconds)) END
$$;
COMMENT ON FUNCTION ticket.waiting_reply(int, text, text, bigint, bigint, boolean, real, int, int, int) IS
  'The queue answer for a place in line: WAITING with its ETA, or SOLD_OUT on the waiting list.';

-- The answer about one token, after lazily ending what has run out. A poll that a free
-- slot could serve admits first, so a freed slot is taken within one poll interval; a
-- pre-queue poll after the opening time opens the sale.
CREATE OR REPLACE FUNCTION ticket.token_reply(p_token text, p_token_id bigint, p_status int)
RETURNS api.reply
LANGUAGE plpgsql
AS $$
DECLARE
  v_t            record;
  v_free         bigint;
  v_reach        bigint;
  v_front_placed boolean;
  v_head_idle    boolean;
  v_admitted     boolean := false;
BEGIN
  LOOP
    -- One statement, so token, counters and Fenwick tree come from one snapshot: read
    -- apart, an admission committing in between made positions of 0 or less. A ranked
    -- pre-queue entry waits by its rank until admission makes it a WAITING token.
    SELECT t.id, t.entry_id, t.concert_id, t.status, x.seq, t.expires_at, t.last_seen_at, x.seq IS NOT NULL AS waiting,
           q.sold_out, q.turn_seconds, q.settled, q.placed, c.max_active, c.idle_seconds, c.waitlist_idle_seconds,
           c.sale_opens_at, c.opened_at, c.shuffle_entries,
           CASE WHEN x.seq IS NOT NULL THEN ticket.queue_position(t.concert_id, x.seq, q.admitted) END AS position
    INTO v_t
    FROM ticket.queue_tokens t
    JOIN ticket.queues q ON q.concert_id = t.concert_id
    JOIN ticket.concerts c ON c.id = t.concert_id
    CROSS JOIN LATERAL (SELECT CASE t.status WHEN 'WAITING' THEN t.seq
                                             WHEN 'PRE_QUEUE' THEN ticket.pre_queue_rank(t.id) END AS seq
                        OFFSET 0) x  -- not pulled up: the rank is read once, not at each use
    WHERE t.id = p_token_id
      -- The concert by its key: joined on t.concert_id alone, statistics from before a
      -- sale made it a merge join reading the queue row of every concert ahead of it.
      AND q.concert_id = (SELECT concert_id FROM ticket.queue_tokens WHERE id = p_token_id);
    IF v_t.status = 'PRE_QUEUE' AND NOT v_t.waiting AND v_t.sale_opens_at <= now() AND NOT v_admitted THEN
      PERFORM ticket.open_sale(v_t.concert_id);
      v_admitted := true;
      CONTINUE;
    END IF;
    EXIT WHEN v_admitted OR NOT v_t.waiting OR v_t.sold_out;
    -- Only a poller a free slot could take admits: the rest never touch the lock. Idle
    -- waiters ahead do not count, as admit() drops them: an idle head of the line must
    -- not keep a free slot empty until the tick. Behind settled, holes may overstate
    -- the position by as many seqs as lie between: settling them may bring it in; and
    -- the pre-queue's unplaced front may hold idle entries too (not before idle_seconds
    -- after the opening: they count as seen then).
    v_reach := v_t.position - greatest(0, v_t.seq - 1 - v_t.settled);
    v_front_placed := v_t.placed >= coalesce(v_t.shuffle_entries, 0);
    v_head_idle := v_reach > 1 AND EXISTS (
      SELECT 1 FROM (SELECT last_seen_at FROM ticket.queue_tokens
                     WHERE concert_id = v_t.concert_id AND status = 'WAITING' ORDER BY seq LIMIT 1) head
      WHERE head.last_seen_at < now() - make_interval(secs => v_t.idle_seconds));
    -- Further back than any free slot could reach, with nothing idle ahead: no need to
    -- count the room, which reads every ACTIVE row (a fifth of the poll's database
    -- time in a sale's first minute, pg_stat_statements in make bench's opening).
    EXIT WHEN v_reach > v_t.max_active AND NOT v_head_idle
      AND (v_front_placed OR v_t.opened_at > now() - make_interval(secs => v_t.idle_seconds));
    v_free := v_t.max_active - ticket.queue_active(v_t.concert_id);
    EXIT WHEN v_free <= 0;
    EXIT WHEN v_reach > v_free AND v_front_placed AND NOT v_head_idle;
    -- Whoever holds the queue lock is admitting in seq order already: do not queue.
    PERFORM 1 FROM ticket.queues WHERE concert_id = v_t.concert_id FOR UPDATE SKIP LOCKED;
    IF found THEN
      PERFORM ticket.admit(v_t.concert_id, p_token_id);
    END IF;
    v_admitted := true;
  END LOOP;

  IF v_t.waiting THEN
    -- A heartbeat for idle detection, written once the last is half the idle limit old
    -- (as peer.standby_queue_status answers): a page polling as told, every quarter of
    -- it at most, has one written every three quarters. A ranked pre-queue entry counts
    -- as seen at the opening, so the opening's first polls write none.
    IF greatest(v_t.last_seen_at, CASE WHEN v_t.status = 'PRE_QUEUE' THEN v_t.opened_at END)
       < now() - make_interval(secs => least(v_t.idle_seconds, v_t.waitlist_idle_seconds) / 2.0) THEN
      UPDATE ticket.queue_tokens SET last_seen_at = now() WHERE id = v_t.id;
    END IF;
    RETURN ticket.waiting_reply(p_status, p_token, v_t.entry_id, v_t.concert_id, v_t.position, v_t.sold_out,
      v_t.turn_seconds, v_t.max_active, v_t.idle_seconds, v_t.waitlist_idle_seconds);
  ELSIF v_t.status = 'PRE_QUEUE' THEN
    RETURN ticket.reply(p_status, ticket.token_body(p_token, v_t.entry_id, v_t.concert_id, 'PRE_QUEUE',
      NULL, NULL, v_t.sale_opens_at, NULL), ticket.pre_queue_retry_after(v_t.sale_opens_at));
  ELSIF v_t.status = 'ACTIVE' AND v_t.expires_at <= now() THEN
    RETURN ticket.reply(p_status, ticket.token_body(p_token, v_t.entry_id, v_t.concert_id, 'EXPIRED',
      NULL, NULL, NULL, v_t.expires_at));
  END IF;
  RETURN ticket.reply(p_status, ticket.token_body(p_token, v_t.entry_id, v_t.concert_id, v_t.status,
    NULL, NULL, NULL, v_t.expires_at));
END
$$;
COMMENT ON FUNCTION ticket.token_reply(text, bigint, int) IS
  'The queue answer for a token: status, position, ETA, Retry-After; admits when a free slot could take it, opens a due sale.';

CREATE OR REPLACE FUNCTION ticket.queue_token(p_api_key text, p_nonce bytea, p_concert_id bigint, p_token_id bigint)
RETURNS text
LANGUAGE sql STABLE  -- as convert_to is, and not STRICT as format is not: inlined (see ticket.secret_hash)
AS $$
  SELECT format('qt_%s.%s.%s', p_concert_id, p_token_id,
                ticket.base64url(hmac(p_nonce, convert_to(p_api_key, 'UTF8'), 'sha256')))
$$;
COMMENT ON FUNCTION ticket.queue_token(text, bytea, bigint, bigint) IS
  'The raw queue token: its concert and row, and the hmac of its nonce under the API key, which the database never keeps.';

-- The token of a live row, again (an idempotent join). A token issued before tokens
-- named their row is issued again under the new form, and the old one stops working.
CREATE OR REPLACE FUNCTION ticket.live_token(p_api_key text, p_t ticket.queue_tokens)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
  v_token text := ticket.queue_token(p_api_key, p_t.nonce, p_t.concert_id, p_t.id);
BEGIN
  IF p_t.legacy_token THEN
    UPDATE ticket.queue_tokens SET token_hash = ticket.secret_hash(v_token), legacy_token = false
    WHERE id = p_t.id;
  END IF;
  RETURN v_token;
END
$$;
COMMENT ON FUNCTION ticket.live_token(text, ticket.queue_tokens) IS
  'The raw token of a live token row, for a user joining again.';

CREATE OR REPLACE FUNCTION api.issue_token(p_api_key text, p_concert_id bigint)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_user_id  bigint := ticket.authenticate(p_api_key);
  v_c        record;
  v_live     ticket.queue_tokens;
  v_status   text := 'WAITING';
  v_free     bigint := 0;
  v_nonce    bytea;
  v_token    text;
  v_token_id bigint;
  v_seq      bigint;
  v_entry_id text;
  v_position bigint;
BEGIN
  -- A join commits with its WAL flush (without it a crash lost acknowledged places in
  -- line: tests/stress/crash.t) but holds no lock meanwhile, so concurrent joins share
  -- their flushes: seq comes from the concert's sequence (see ticket.settle).
  SELECT * INTO v_live FROM ticket.queue_tokens
  WHERE user_id = v_user_id AND concert_id = p_concert_id AND status IN ('PRE_QUEUE', 'WAITING', 'ACTIVE');
  IF found AND v_live.status = 'ACTIVE' AND v_live.expires_at <= now() THEN
    PERFORM ticket.end_turn(v_live.id, 'EXPIRED', p_queue_locked => false);
  ELSIF found THEN
    RETURN ticket.token_reply(ticket.live_token(p_api_key, v_live), v_live.id, 200);
  END IF;

  -- With the concert, a lower bound of the line: every seq handed out, less those
  -- admitted and every drop (the Fenwick tree's root node covers all seqs). One index
  -- probe, where the exact count (ticket.queue_waiting) cost a fifth of a join.
  SELECT c.sale_opens_at, c.opened_at, c.sale_opens_at - make_interval(mins => c.pre_queue_minutes) AS pre_queue_opens_at,
         c.max_active, c.idle_seconds, c.waitlist_idle_seconds, q.sold_out, q.turn_seconds,
         ticket.queue_joined(c.id) - q.admitted - coalesce(root.dropped, 0) AS waiting_at_least
  INTO v_c FROM ticket.concerts c JOIN ticket.queues q ON q.concert_id = c.id
  LEFT JOIN ticket.queue_drops root ON root.concert_id = c.id AND root.node = ticket.queue_drops_root()
  WHERE c.id = p_concert_id;
  IF NOT found THEN
    PERFORM ticket.fail('T404A', format('concert %s not found', p_concert_id));
  END IF;
  IF v_c.sale_opens_at IS NOT NULL AND v_c.opened_at IS NULL THEN
    IF now() < v_c.pre_queue_opens_at THEN
      PERFORM ticket.fail('T409F', format('the queue of concert %s opens at %s', p_concert_id, v_c.pre_queue_opens_at),
        json_build_object('pre_queue_opens_at', v_c.pre_queue_opens_at, 'sale_opens_at', v_c.sale_opens_at),
        'come back when the pre-queue opens');
    ELSIF now() >= v_c.sale_opens_at THEN
      PERFORM ticket.open_sale(p_concert_id);
    END IF;
  END IF;
  -- Shared by every join until it commits, before it takes a seq: the opening waits
  -- for the pre-queue joins in flight (or they for it, and line up behind), and
  -- ticket.settle sees which joins could still fill a seq. Joins never wait for
  -- each other on it.
  PERFORM ticket.sale_lock(p_concert_id, p_exclusive => false);
  IF v_c.sale_opens_at IS NOT NULL AND v_c.opened_at IS NULL
     AND (SELECT opened_at IS NULL FROM ticket.concerts WHERE id = p_concert_id) THEN
    v_status := 'PRE_QUEUE';
  ELSIF NOT v_c.sold_out AND v_c.waiting_at_least < v_c.max_active THEN
    -- Behind a line of max_active or more no free slot reaches this join: it neither
    -- counts the room nor takes the lock. (In a surge slots free as buyers pay, before
    -- those ahead are admitted, and joins queued on the lock: make bench.) A line
    -- longer than its lower bound says only costs a count of the room: so for a join
    -- that met the opening, whose bound (read before it) is 0.
    v_free := v_c.max_active - ticket.queue_active(p_concert_id);
    IF v_free > 0 THEN
      -- A free slot: take the queue lock before the seq, so that joins arriving together
      -- are admitted at once and in seq order. Only while slots are free and the line
      -- is short (the first max_active of a sale); otherwise joins take no lock at all.
      PERFORM 1 FROM ticket.queues WHERE concert_id = p_concert_id FOR UPDATE;
    END IF;
  END IF;

  -- The token names its row (ticket.find_token), so the id is drawn first.
  v_token_id := nextval('ticket.queue_tokens_id_seq');
  v_nonce := gen_random_bytes(16);
  v_token := ticket.queue_token(p_api_key, v_nonce, p_concert_id, v_token_id);
  IF v_status = 'WAITING' THEN
    v_seq := nextval(ticket.queue_seq(p_concert_id));
  END IF;
  -- The same user joining twice at once: the second waits for the first to commit and
  -- gets its token (its seq is a hole, settled later).
  INSERT INTO ticket.queue_tokens (id, concert_id, user_id, token_hash, nonce, seq, status)
  OVERRIDING SYSTEM VALUE
  VALUES (v_token_id, p_concert_id, v_user_id, ticket.secret_hash(v_token), v_nonce, v_seq, v_status)
  ON CONFLICT (user_id, concert_id) WHERE status IN ('PRE_QUEUE', 'WAITING', 'ACTIVE') DO NOTHING
  RETURNING entry_id INTO v_entry_id;
  IF NOT found THEN
    SELECT * INTO STRICT v_live FROM ticket.queue_tokens
    WHERE user_id = v_user_id AND concert_id = p_concert_id AND status IN ('PRE_QUEUE', 'WAITING', 'ACTIVE');
    RETURN ticket.token_reply(ticket.live_token(p_api_key, v_live), v_live.id, 200);
  END IF;
  IF v_status = 'WAITING' AND v_free <= 0 THEN
    -- A full room, a long line or the waiting list: nothing to admit, and the place is
    -- known without reading the token again. Admission cannot have passed this uncommitted seq
    -- (ticket.settle), so the position is at least 1.
    SELECT ticket.queue_position(p_concert_id, v_seq, q.admitted) INTO v_position
    FROM ticket.queues q WHERE q.concert_id = p_concert_id;
    RETURN ticket.waiting_reply(201, v_token, v_entry_id, p_concert_id, v_position, v_c.sold_out, v_c.turn_seconds, v_c.max_active, v_c.idle_seconds, v_c.waitlist_idle_seconds);
  END IF;
  RETURN ticket.token_reply(v_token, v_token_id, 201);
END
$$;
COMMENT ON FUNCTION api.issue_token(text, bigint) IS
  'POST /api/concerts/{id}/queue: join the waiting room (201), or get the live token again (200).';

-- Lengths apart from the pattern, as in ticket.key_user_id: with counted repetitions
-- the match took 45 µs of every poll.
CREATE OR REPLACE FUNCTION ticket.token_ids(p_token text)
RETURNS bigint[]
LANGUAGE sql IMMUTABLE
AS $$
  SELECT CASE WHEN p_token ~ '^qt_[0-9]+\.[0-9]+\.[A-Za-z0-9_-]+$'
               AND length(split_part(p_token, '.', 1)) <= 21 AND length(split_part(p_token, '.', 2)) <= 18
               AND length(split_part(p_token, '.', 3)) = 43
         THEN ARRAY[substr(split_part(p_token, '.', 1), 4)::bigint, split_part(p_token, '.', 2)::bigint] END
$$;
COMMENT ON FUNCTION ticket.token_ids(text) IS
  'What a queue token names, {concert id, token id}, or NULL when it is not qt_<concert id>.<token id>.<43 base64url characters>.';

CREATE OR REPLACE FUNCTION ticket.find_token(p_token text)
RETURNS ticket.queue_tokens
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  v_t  ticket.queue_tokens;
  v_id bigint[] := ticket.token_ids(p_token);
BEGIN
  IF v_id IS NOT NULL THEN
    -- By the key alone, the rest checked after: with the concert in the WHERE clause
    -- the planner, misled by statistics from before a sale, walked the concert's whole
    -- line (make bench: 25 ms a poll after the opening).
    SELECT * INTO v_t FROM ticket.queue_tokens WHERE id = v_id[2];
    IF found AND (v_t.concert_id <> v_id[1] OR v_t.token_hash <> ticket.secret_hash(p_token)) THEN
      v_t := NULL;
    END IF;
  ELSE
    SELECT * INTO v_t FROM ticket.queue_tokens WHERE token_hash = ticket.secret_hash(p_token) AND legacy_token;
  END IF;
  IF v_t.id IS NULL THEN
    PERFORM ticket.fail('T401B', 'missing or unknown queue token',
      p_hint => 'send X-Queue-Token from POST /api/concerts/{id}/queue');
  END IF;
  RETURN v_t;
END
$$;
COMMENT ON FUNCTION ticket.find_token(text) IS 'The token row of a raw token, or QUEUE_TOKEN_INVALID.';

CREATE OR REPLACE FUNCTION api.queue_status(p_token text)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  -- Polls write only a heartbeat (and at times an admission that the next poll or the
  -- tick would redo): not worth a WAL flush each, on the hottest call of all.
  SET LOCAL synchronous_commit = off;
  RETURN ticket.token_reply(p_token, (ticket.find_token(p_token)).id, 200);
END
$$;
COMMENT ON FUNCTION api.queue_status(text) IS 'GET /api/queue: the token''s status, position, ETA and Retry-After.';

CREATE OR REPLACE FUNCTION api.leave_queue(p_token text)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_t    ticket.queue_tokens := ticket.find_token(p_token);
  v_rank bigint;
BEGIN
  IF v_t.status = 'PRE_QUEUE' THEN
    -- Not while the opening places the pre-queue; after it, the place is in line.
    PERFORM ticket.sale_lock(v_t.concert_id, p_exclusive => false);
    v_rank := ticket.pre_queue_rank(v_t.id);
    UPDATE ticket.queue_tokens SET status = 'LEFT', ended_at = now()
    WHERE id = v_t.id AND status = 'PRE_QUEUE' AND v_rank IS NULL;
    IF found THEN
      RETURN ticket.reply(204, NULL);
    END IF;
    -- Placed at the opening but not yet a WAITING token: its rank leaves the line.
    PERFORM 1 FROM ticket.queues WHERE concert_id = v_t.concert_id FOR UPDATE;
    UPDATE ticket.queue_tokens t SET status = 'LEFT', ended_at = now(), seq = v_rank
    WHERE t.id = v_t.id AND t.status = 'PRE_QUEUE' AND v_rank IS NOT NULL
    RETURNING t.* INTO v_t;
    IF found THEN
      PERFORM ticket.queue_drop(v_t.concert_id, ARRAY[v_t.seq]);
      PERFORM ticket.admit(v_t.concert_id);
      RETURN ticket.reply(204, NULL);
    END IF;
    v_t := ticket.find_token(p_token);
  END IF;
  IF v_t.status = 'ACTIVE' THEN
    -- Lock order: token, then its holds (released: nobody could pay them any more).
    SELECT * INTO v_t FROM ticket.queue_tokens WHERE id = v_t.id FOR UPDATE;
    PERFORM ticket.release_holds(v_t.user_id, v_t.concert_id);
    PERFORM ticket.free_slot(v_t.id, v_t.concert_id, 'LEFT');
  ELSIF v_t.status = 'WAITING' THEN
    -- A place in line leaves the Fenwick tree: that takes the queue lock.
    PERFORM 1 FROM ticket.queues WHERE concert_id = v_t.concert_id FOR UPDATE;
    PERFORM ticket.end_turn(v_t.id, 'LEFT');
    PERFORM ticket.admit(v_t.concert_id);
  END IF;
  RETURN ticket.reply(204, NULL);
END
$$;
COMMENT ON FUNCTION api.leave_queue(text) IS
  'DELETE /api/queue: give up the place or the turn (idempotent), releasing the turn''s holds; the next in line is admitted.';

-- On a concert partition, which has no users, a key comes with its queue token: the
-- token's secret is the hmac of its row's nonce under the key it was issued to, so only
-- that key computes it again, and the key is the token's user's. A key that does not
-- is not refused here (the key may be good and the token another's, a 403 on one
-- database): TKP01 sends the proxy to the user's partition, whose answer is the one
-- database's.
CREATE OR REPLACE FUNCTION ticket.proven_by_token(p_api_key text, p_token text)
RETURNS ticket.queue_tokens
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  v_t ticket.queue_tokens;
BEGIN
  BEGIN
    v_t := ticket.find_token(p_token);
  EXCEPTION WHEN SQLSTATE 'T401B' THEN
    NULL;  -- unknown here: the user's partition's way decides what to answer
  END;
  IF v_t.user_id = ticket.key_user_id(p_api_key)
     AND ticket.queue_token(p_api_key, v_t.nonce, v_t.concert_id, v_t.id) = p_token THEN
    RETURN v_t;
  END IF;
  RAISE EXCEPTION USING ERRCODE = 'TKP01', MESSAGE = 'the queue token does not prove this key: ask the user''s partition';
END
$$;
COMMENT ON FUNCTION ticket.proven_by_token(text, text) IS
  'Concert partition: the token row of a key it was issued under; else TKP01 (the proxy then authenticates the key on the user''s partition).';

-- The gate of every queue-gated operation. Returns the user and the token id.
CREATE OR REPLACE FUNCTION ticket.gate(p_api_key text, p_token text, p_concert_id bigint,
                                       p_lock boolean DEFAULT false,
                                       OUT user_id bigint, OUT token_id bigint)
LANGUAGE plpgsql
AS $$
DECLARE
  v_t   ticket.queue_tokens;
  v_w   record;
  v_seq bigint;
BEGIN
  -- The proxy on a concert partition, not vouching: the token proves the key. (On one
  -- database the session's user already answers ticket.proxy_on_concerts.)
  IF ticket.proxy_on_concerts() AND NOT ticket.vouched(p_api_key) THEN
    v_t := ticket.proven_by_token(p_api_key, p_token);
    user_id := v_t.user_id;
  ELSE
    user_id := ticket.authenticate(p_api_key);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM ticket.concerts WHERE id = p_concert_id) THEN
    PERFORM ticket.fail('T404A', format('concert %s not found', p_concert_id));
  END IF;
  IF v_t.id IS NULL THEN
    v_t := ticket.find_token(p_token);
  END IF;
  IF v_t.user_id <> user_id OR v_t.concert_id <> p_concert_id THEN
    PERFORM ticket.fail('T403A', 'this queue token belongs to another user or concert');
  END IF;
  IF p_lock THEN
    -- Serialises one user's holds and payments for the concert.
    SELECT * INTO v_t FROM ticket.queue_tokens WHERE id = v_t.id FOR UPDATE;
  END IF;
  token_id := v_t.id;
  IF v_t.status = 'ACTIVE' AND v_t.expires_at > now() THEN
    RETURN;
  ELSIF v_t.status IN ('WAITING', 'PRE_QUEUE') THEN
    -- A pre-queue entry waits by its rank once the opening drew one.
    v_seq := coalesce(v_t.seq, ticket.pre_queue_rank(v_t.id));
    IF v_seq IS NULL THEN
      SELECT c.sale_opens_at INTO v_w FROM ticket.concerts c WHERE c.id = p_concert_id;
      PERFORM ticket.fail('T429A', format('in the pre-queue until the sale opens at %s', v_w.sale_opens_at),
        json_build_object('position', NULL, 'retry_after', ticket.pre_queue_retry_after(v_w.sale_opens_at)),
        'poll GET /api/queue until the status is ACTIVE');
    END IF;
    SELECT ticket.queue_position(p_concert_id, v_seq, q.admitted) AS position, c.idle_seconds
    INTO v_w
    FROM ticket.queues q JOIN ticket.concerts c ON c.id = q.concert_id WHERE q.concert_id = p_concert_id;
    PERFORM ticket.fail('T429A', format('still waiting in the queue at position %s', v_w.position),
      json_build_object('position', v_w.position, 'retry_after', ticket.retry_after(v_w.position, v_w.idle_seconds)),
      'poll GET /api/queue until the status is ACTIVE');
  END IF;
  PERFORM ticket.fail('T401C', format('the queue turn has ended (%s)',
      CASE WHEN v_t.status = 'ACTIVE' THEN 'EXPIRED' ELSE v_t.status END),
    p_hint => 'join the queue again');
END
$$;
COMMENT ON FUNCTION ticket.gate(text, text, bigint, boolean) IS
  'Check API key and queue token for a concert: 401, 403, 404 or 429 unless the token is ACTIVE.';

-- A turn ends at activated_at + active_minutes; a hold taken inside it extends it to
-- the hold's expiry, never past this cap, so holding and cancelling cannot keep a
-- turn alive while the line waits.
CREATE OR REPLACE FUNCTION ticket.turn_cap(p_activated_at timestamptz, p_active_minutes int, p_hold_minutes int)
RETURNS timestamptz
LANGUAGE sql STABLE  -- as timestamptz + interval is (see ticket.secret_hash)
AS $$ SELECT p_activated_at + make_interval(mins => p_active_minutes + p_hold_minutes) $$;
COMMENT ON FUNCTION ticket.turn_cap(timestamptz, int, int) IS 'The latest an ACTIVE turn may end: activated_at + active_minutes + hold_minutes.';

-- After a hold ends inside a turn (cancelled, released), the turn ends again when its
-- own time or its remaining holds do: a cancel pulls back what the hold had extended.
CREATE OR REPLACE FUNCTION ticket.fit_turn(p_token_id bigint)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  UPDATE ticket.queue_tokens t
  SET expires_at = greatest(t.activated_at + make_interval(mins => c.active_minutes),
                            (SELECT max(r.expires_at) FROM ticket.reservations r
                             WHERE r.user_id = t.user_id AND r.concert_id = t.concert_id
                               AND r.status = 'HELD' AND r.expires_at > now()))
  FROM ticket.concerts c
  WHERE t.id = p_token_id AND c.id = t.concert_id AND t.status = 'ACTIVE' AND t.expires_at > now();
END
$$;
COMMENT ON FUNCTION ticket.fit_turn(bigint) IS
  'Pull an ACTIVE turn''s end back to activated_at + active_minutes or its latest live hold, whichever is later.';
