-- The sale opening (plpgsql/25_sale.sql): schedule, pre-queue, the seeded shuffle and
-- its proof, booking_opens_at, and settling the holes lock-free joins leave.
-- Time moves by moving sale_opens_at: now() is fixed in a transaction.
BEGIN;
SELECT plan(74);
\ir fixtures.psql

-- 'SQLSTATE DETAIL' of the statement's error, or 'no error' (pg_temp.error_of, one string).
CREATE FUNCTION pg_temp.fails(p_sql text) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(state || ' ' || coalesce(detail, ''), 'no error') FROM pg_temp.error_of(p_sql)
$$;
-- The order the rule of API.md gives, recomputed from the published seed and the entries.
CREATE FUNCTION pg_temp.rule_order(p_concert bigint) RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg(t.entry_id ORDER BY sha256(decode(c.shuffle_seed_hex, 'hex') || convert_to(t.entry_id, 'UTF8')))
  FROM ticket.queue_tokens t,
       (SELECT (api.shuffle_proof(p_concert)).body->>'seed' AS shuffle_seed_hex) c
  WHERE t.concert_id = p_concert AND t.seq IS NOT NULL
    AND t.seq <= ((api.shuffle_proof(p_concert)).body->>'entries')::int
$$;

-- Scheduling: the seed's commitment is public, the seed is not
SELECT admin.create_concert('Sale test', 'Hall', ARRAY[now() + interval '30 days'], p_seats => 4, p_max_active => 2,
                            p_sale_opens_at => now() + interval '2 hours', p_pre_queue_minutes => 60) AS c \gset
SELECT encode(seed, 'hex') AS seed FROM ticket.sale_seeds WHERE concert_id = :c \gset
SELECT is((api.get_concert(:c)).body->>'status', 'UPCOMING', 'get_concert: UPCOMING before the pre-queue opens');
SELECT is(((api.get_concert(:c)).body->>'pre_queue_opens_at')::timestamptz, now() + interval '1 hour',
  'get_concert: pre_queue_opens_at is sale_opens_at - pre_queue_minutes');
SELECT is((api.get_concert(:c)).body->'shuffle'->>'commitment', encode(sha256(decode(:'seed', 'hex')), 'hex'),
  'get_concert: the shuffle commitment is sha256(seed), in hex');
SELECT ok((api.get_concert(:c)).body->'shuffle'->>'seed' IS NULL, 'get_concert: no seed before the opening');
SELECT is(octet_length(decode(:'seed', 'hex')), 32, 'schedule: the seed is 32 random bytes');
SELECT ok(position(:'seed' IN (SELECT string_agg(r::text, ' ') FROM admin.queue_report(:c) r)) = 0
          AND position(:'seed' IN (api.list_concerts()).body::text) = 0
          AND position(:'seed' IN (api.shuffle_proof(:c)).body::text) = 0,
  'the seed shows nowhere (admin.queue_report, list_concerts, shuffle) before the opening');
SELECT is((SELECT commitment FROM admin.queue_report(:c)), encode(sha256(decode(:'seed', 'hex')), 'hex'),
  'admin.queue_report: shows the commitment');
SELECT is(pg_temp.fails('SELECT api.get_concert(999999)'), 'T404A ', 'get_concert: unknown concert is 404');

-- Too early to join
SELECT pg_temp.new_user('s1') AS k1, pg_temp.new_user('s2') AS k2, pg_temp.new_user('s3') AS k3,
       pg_temp.new_user('s4') AS k4, pg_temp.new_user('s5') AS k5, pg_temp.new_user('s6') AS k6 \gset
SELECT is(pg_temp.fails(format('SELECT api.issue_token(%L, %s)', :'k1', :c)),
  'T409F ' || json_build_object('pre_queue_opens_at', now() + interval '1 hour',
                                'sale_opens_at', now() + interval '2 hours')::text,
  'issue_token: QUEUE_NOT_OPEN before the pre-queue opens, with pre_queue_opens_at');

-- Rescheduling keeps the seed (and so the promised order)
SELECT commitment AS commit1 FROM admin.schedule_sale(:c, now() + interval '5 minutes', 30) \gset
SELECT is(:'commit1', encode(sha256(decode(:'seed', 'hex')), 'hex'), 'schedule_sale: returns the same commitment');
SELECT is((SELECT encode(seed, 'hex') FROM ticket.sale_seeds WHERE concert_id = :c), :'seed',
  'schedule_sale: moving the sale keeps the seed');
SELECT is((api.get_concert(:c)).body->>'status', 'PRE_QUEUE', 'get_concert: PRE_QUEUE once it opens');

-- The pre-queue
SELECT status AS s, body AS b, retry_after AS ra FROM api.issue_token(:'k1', :c) \gset
SELECT is(:s, 201, 'pre-queue join: 201');
SELECT is(:'b'::json->>'status', 'PRE_QUEUE', 'pre-queue join: status PRE_QUEUE');
SELECT ok(:'b'::json->>'position' IS NULL AND :'b'::json->>'eta_seconds' IS NULL AND :'b'::json->>'expires_at' IS NULL,
  'pre-queue join: no position, ETA or expiry');
SELECT is((:'b'::json->>'opens_at')::timestamptz, now() + interval '5 minutes', 'pre-queue join: opens_at is the opening');
SELECT ok(:ra BETWEEN 301 AND 305, 'pre-queue join: Retry-After brings it back 1-5 s after the opening');
SELECT ok((:'b'::json->>'entry_id') ~ '^[A-Za-z0-9_-]{16}$', 'pre-queue join: a 16-character entry_id');
SELECT :'b'::json->>'token' AS t1, :'b'::json->>'entry_id' AS e1 \gset
SELECT is((api.issue_token(:'k1', :c)).status, 200, 'pre-queue join again: 200 with the same token');
SELECT is((api.issue_token(:'k1', :c)).body->>'token', :'t1', '... the same token');
SELECT is((api.queue_status(:'t1')).body->>'status', 'PRE_QUEUE', 'queue_status: PRE_QUEUE before the opening');
SELECT ok((SELECT array_agg(ra) <@ ARRAY(SELECT generate_series(301, 305)) AND count(DISTINCT ra) > 1
           FROM (SELECT (api.queue_status(:'t1')).retry_after AS ra FROM generate_series(1, 40)) x),
  'queue_status: the pre-queue''s Retry-After is spread over 1-5 s after the opening');
SELECT pg_temp.join_queue(:'k2', :c) AS t2, pg_temp.join_queue(:'k3', :c) AS t3,
       pg_temp.join_queue(:'k4', :c) AS t4, pg_temp.join_queue(:'k5', :c) AS t5 \gset
SELECT is(((api.get_concert(:c)).body->'queue'->>'waiting')::int, 5, 'get_concert: 5 waiting in the pre-queue');
SELECT ok(pg_temp.fails(format('SELECT api.available_dates(%L, %L, %s)', :'k1', :'t1', :c)) LIKE 'T429A {"position" : null%',
  'gate: a pre-queue token is not admitted (429, no position)');
SELECT is((api.leave_queue(:'t5')).status, 204, 'leave_queue: a pre-queue entry can leave');
SELECT is(pg_temp.row_status(:'t5'), 'LEFT', '... and is LEFT');
SELECT is((api.shuffle_proof(:c)).body::jsonb - 'rule',
  jsonb_build_object('concert_id', :c, 'commitment', :'commit1', 'seed', NULL, 'entries', NULL),
  'shuffle_proof: commitment only before the opening');
SELECT ok(pg_temp.fails(format('SELECT api.shuffle_entries(%s, 0, 1000)', :c)) LIKE 'T409F %sale_opens_at%',
  'shuffle_entries: QUEUE_NOT_OPEN before the opening');
SELECT is(admin.open_sale(:c), false, 'admin.open_sale: nothing to do before the sale time');

-- The opening: the first poll after sale_opens_at places everyone
UPDATE ticket.concerts SET sale_opens_at = now() - interval '1 second' WHERE id = :c;
SELECT is((api.get_concert(:c)).body->>'status', 'ON_SALE', 'get_concert: ON_SALE from sale_opens_at, by the clock');
SELECT status AS s, body AS b FROM api.queue_status(:'t3') \gset
SELECT ok(:'b'::json->>'status' IN ('WAITING', 'ACTIVE'), 'the first poll after the opening is placed');
SELECT is((SELECT opened_at IS NOT NULL AND shuffle_entries = 4 FROM ticket.concerts WHERE id = :c), true,
  'the opening placed 4 entries (the one that left is not)');
SELECT is((api.shuffle_proof(:c)).body->>'seed', :'seed', 'shuffle_proof: the seed is published');
SELECT is(((api.shuffle_proof(:c)).body->>'entries')::int, 4, 'shuffle_proof: entries 4');
SELECT is((SELECT array_agg(x->>'entry_id' ORDER BY (x->>'rank')::int)
           FROM json_array_elements((api.shuffle_entries(:c, 0, 1000)).body->'entries') x),
  pg_temp.rule_order(:c), 'shuffle_entries: ranks are ascending sha256(seed || entry_id)');
SELECT is((SELECT array_agg((x->>'rank')::int) FROM json_array_elements((api.shuffle_entries(:c, 0, 1000)).body->'entries') x),
  ARRAY[1, 2, 3, 4], 'shuffle_entries: ranks 1..4');
SELECT is((SELECT array_agg((x->>'rank')::int) FROM json_array_elements((api.shuffle_entries(:c, 1, 2)).body->'entries') x),
  ARRAY[2, 3], 'shuffle_entries: after 1, limit 2 gives ranks 2 and 3');
SELECT is((SELECT array_agg(seq ORDER BY seq) FROM ticket.queue_tokens WHERE concert_id = :c AND status = 'ACTIVE'),
  ARRAY[1, 2]::bigint[], 'the opening admitted ranks 1 and 2 (max_active 2)');
SELECT is((SELECT array_agg((api.queue_status(x.t)).body->>'position' ORDER BY r.rank)
           FROM unnest(ARRAY[:'t1', :'t2', :'t3', :'t4']) x(t)
           JOIN ticket.queue_tokens k ON k.token_hash = sha256(convert_to(x.t, 'UTF8'))
           JOIN ticket.pre_queue_ranks r ON r.token_id = k.id WHERE r.rank > 2),
  ARRAY['1', '2'], 'ranks 3 and 4 wait at positions 1 and 2');
SELECT is((SELECT count(*) FROM ticket.pre_queue_ranks WHERE concert_id = :c), 4::bigint,
  'every entry has its rank from the opening on');
SELECT is(admin.open_sale(:c), false, 'the opening happens once');
SELECT ok(pg_temp.fails(format('SELECT admin.schedule_sale(%s, now() + interval ''1 day'')', :c)) LIKE 'T400A%',
  'schedule_sale: refused once the sale has opened');
SELECT is(pg_temp.fails(format('SELECT api.issue_token(%L, %s)', :'k6', :c)), 'no error', 'a join after the opening');
SELECT is((SELECT seq FROM ticket.queue_tokens WHERE concert_id = :c AND user_id = pg_temp.user_id(:'k6')), 5::bigint,
  '... lines up behind the pre-queue (seq 5)');
SELECT is((api.issue_token(:'k6', :c)).body->>'position', '3', '... at position 3');
SELECT is((api.issue_token(:'k5', :c)).body->>'status', 'WAITING', 'who left the pre-queue joins again at the end');
SELECT is((SELECT count(*) FROM admin.check_invariants()), 0::bigint, 'invariants hold after the opening');

-- A pre-queue longer than what admission places at a time: the ranks behind the front
-- wait by their rank (as WAITING to the API), leave and go idle from there.
SELECT admin.create_concert('Sale test big', 'Hall', ARRAY[now() + interval '30 days'], p_max_active => 1,
                            p_sale_opens_at => now() + interval '10 minutes') AS b \gset
CREATE TEMP TABLE big ON COMMIT DROP AS
  SELECT n, k, pg_temp.join_queue(k, :b) AS t FROM (SELECT n, pg_temp.new_user('big' || n) AS k
                                                   FROM generate_series(1, 100) n) u;
UPDATE ticket.concerts SET sale_opens_at = now() - interval '1 second' WHERE id = :b;
SELECT is(admin.open_sale(:b), true, 'a pre-queue of 100 opens');
SELECT ok((SELECT placed FROM ticket.queues WHERE concert_id = :b) < 100,
  '... and only its front is placed as WAITING tokens (ticket.place)');
SELECT t AS last_t FROM big b JOIN ticket.queue_tokens k ON k.token_hash = sha256(convert_to(b.t, 'UTF8'))
  JOIN ticket.pre_queue_ranks r ON r.token_id = k.id WHERE r.rank = 100 \gset
UPDATE ticket.queue_tokens SET last_seen_at = now() - interval '1 hour' WHERE token_hash = sha256(convert_to(:'last_t', 'UTF8'));
SELECT is((api.queue_status(:'last_t')).body::jsonb - 'token' - 'entry_id' - 'eta_seconds',
  jsonb_build_object('concert_id', :b, 'status', 'WAITING', 'position', 99, 'opens_at', NULL, 'expires_at', NULL),
  'an unplaced rank 100 is WAITING at position 99 (rank 1 has the turn)');
SELECT is((SELECT last_seen_at FROM ticket.queue_tokens WHERE token_hash = sha256(convert_to(:'last_t', 'UTF8'))),
  now() - interval '1 hour', '... and its first poll after the opening (joined an hour before) writes no heartbeat: it counts as seen then');
UPDATE ticket.queue_tokens SET last_seen_at = now() WHERE token_hash = sha256(convert_to(:'last_t', 'UTF8'));
SELECT t AS mid_t FROM big b JOIN ticket.queue_tokens k ON k.token_hash = sha256(convert_to(b.t, 'UTF8'))
  JOIN ticket.pre_queue_ranks r ON r.token_id = k.id WHERE r.rank = 90 \gset
SELECT ok(pg_temp.fails(format('SELECT api.available_dates(k, %L, %s) FROM big WHERE t = %L', :'mid_t', :b, :'mid_t'))
          LIKE 'T429A {"position" : 89%', 'gate: an unplaced rank waits at its position (429)');
SELECT is((api.leave_queue(:'mid_t')).status, 204, 'an unplaced rank (90) leaves');
SELECT is((api.queue_status(:'last_t')).body->>'position', '98', '... and the ranks behind move up (99 -> 98)');
UPDATE ticket.queue_tokens SET last_seen_at = now() - interval '1 hour'
WHERE concert_id = :b AND status = 'PRE_QUEUE'
  AND id IN (SELECT token_id FROM ticket.pre_queue_ranks WHERE concert_id = :b AND rank BETWEEN 95 AND 98);
UPDATE ticket.concerts SET opened_at = now() - interval '1 hour' WHERE id = :b;
SELECT is((SELECT waiting_dropped FROM admin.tick_concert(:b)), 4, 'the tick drops unplaced ranks that went idle');
SELECT is((api.queue_status(:'last_t')).body->>'position', '94', '... and the ranks behind move up (98 -> 94)');
SELECT is((SELECT count(*) FROM admin.check_invariants()), 0::bigint, 'invariants hold with an unplaced pre-queue');

-- The tick opens a due sale nobody asked about
SELECT admin.create_concert('Sale test 2', 'Hall', ARRAY[now() + interval '30 days'],
                            p_sale_opens_at => now() + interval '10 minutes') AS c2 \gset
SELECT pg_temp.join_queue(:'k1', :c2) AS u1 \gset
UPDATE ticket.concerts SET sale_opens_at = now() - interval '1 second' WHERE id = :c2;
SELECT admitted AS flushed FROM pg_temp.tick() \gset
SELECT is((SELECT shuffle_entries FROM ticket.concerts WHERE id = :c2), 1, 'the tick opened a due sale');
SELECT is(pg_temp.row_status(:'u1'), 'ACTIVE', '... and admitted its only entry');

-- A concert on sale from its creation
SELECT admin.create_concert('Plain', 'Hall', ARRAY[now() + interval '30 days']) AS p \gset
SELECT is((api.get_concert(:p)).body::jsonb->'shuffle', 'null'::jsonb, 'no sale time: shuffle is null');
SELECT ok(pg_temp.fails(format('SELECT api.shuffle_proof(%s)', :p)) LIKE 'T404A%', 'no sale time: shuffle_proof 404');
SELECT ok(pg_temp.fails('SELECT api.shuffle_entries(999999, 0, 10)') LIKE 'T404A%', 'unknown concert: shuffle_entries 404');
SELECT admin.create_concert('Past', 'Hall', ARRAY[now() - interval '1 day']) AS old \gset
SELECT is((api.get_concert(:old)).body->>'status', 'ENDED', 'a concert with no date ahead is ENDED');

-- booking_opens_at: listed, and no hold before it
SELECT admin.add_date(:p, now() + interval '40 days', 4, p_booking_opens_at => now() + interval '1 day') AS late \gset
SELECT pg_temp.join_queue(:'k1', :p) AS pt \gset
SELECT is((SELECT (x->>'booking_opens_at')::timestamptz FROM json_array_elements((api.available_dates(:'k1', :'pt', :p)).body->'dates') x
           WHERE (x->>'date')::date = (SELECT on_date FROM ticket.concert_dates WHERE id = :late)),
  now() + interval '1 day', 'available_dates: a date shows its booking_opens_at');
SELECT ok(pg_temp.fails(format('SELECT api.hold_seat(%L, %L, %s, %L, ARRAY[1])', :'k1', :'pt', :p,
                               (SELECT on_date FROM ticket.concert_dates WHERE id = :late))) LIKE 'T409G %booking_opens_at%',
  'hold_seat: SALE_NOT_OPEN before the date''s booking opens');
UPDATE ticket.concert_dates SET booking_opens_at = now() - interval '1 second' WHERE id = :late;
SELECT is(pg_temp.fails(format('SELECT api.hold_seat(%L, %L, %s, %L, ARRAY[1])', :'k1', :'pt', :p,
                               (SELECT on_date FROM ticket.concert_dates WHERE id = :late))), 'no error',
  'hold_seat: allowed once it opened');

-- Holes: a seq taken by a join that rolled back overstates the positions behind it
-- until it settles, and admission never passes it meanwhile. Here the hole's join is
-- this transaction itself, which no snapshot lists: the first admission notes what runs
-- (pending), the next finds it all ended and records the hole.
SELECT admin.create_concert('Holes', 'Hall', ARRAY[now() + interval '30 days'], p_max_active => 2) AS h \gset
SELECT pg_temp.join_queue(:'k1', :h) AS h1 \gset
SELECT nextval(ticket.queue_seq(:h)) AS hole \gset
SELECT pg_temp.join_queue(:'k2', :h) AS h2 \gset
SELECT is(pg_temp.row_status(:'h2'), 'WAITING', 'a free slot is not given past a seq whose join may still commit');
SELECT is((SELECT (settled, pending_upto) FROM ticket.queues WHERE concert_id = :h), (1::bigint, 3::bigint),
  '... settled stops before the hole, and notes the joins that could fill it');
SELECT is((api.queue_status(:'h2')).body->>'status', 'ACTIVE', 'the next poll settles the hole and admits');
SELECT pg_temp.join_queue(:'k3', :h) AS h3 \gset
SELECT is((api.queue_status(:'h3')).body->>'position', '1', 'the position behind the hole is exact once settled');
SELECT is((SELECT settled FROM ticket.queues WHERE concert_id = :h), 3::bigint, 'settled is past the hole');
SELECT is(ticket.queue_drops_before(:h, 4), 1::bigint, 'the hole is recorded as a drop');
SELECT is((SELECT count(*) FROM admin.check_invariants()), 0::bigint, 'invariants hold with a settled hole');

SELECT ok(NOT has_table_privilege('ticket_app', 'ticket.concerts', 'DELETE')
          AND NOT has_table_privilege('ticket_app', 'ticket.users', 'DELETE'),
  'concerts and users are never deleted (queue tokens point at them without a foreign key)');

SELECT * FROM finish();
ROLLBACK;
