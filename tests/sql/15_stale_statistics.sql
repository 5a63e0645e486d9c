-- The hot calls read what they need, not every row of others, whatever the planner's
-- statistics say: a sale's line grows from nothing in minutes, long before the next
-- ANALYZE. Counted in tuples fetched (pg_stat_xact_user_tables), not timed.
BEGIN;
SELECT plan(21);
\ir fixtures.psql

-- Statistics taken while another concert had a line and this one had none, then a
-- line of 20,000 here.
SELECT admin.create_concert('Earlier sale', 'Hall', ARRAY[now() + interval '7 days']) AS e \gset
SELECT admin.create_concert('Stale statistics', 'Hall', ARRAY[now() + interval '7 days']) AS c \gset
INSERT INTO ticket.queue_tokens (concert_id, user_id, token_hash, nonce, seq, status)
SELECT :e, n, gen_random_bytes(32), gen_random_bytes(16), n, 'WAITING' FROM generate_series(1, 20000) n;
ANALYZE ticket.queue_tokens;
INSERT INTO ticket.queue_tokens (id, concert_id, user_id, token_hash, nonce, seq, status)
OVERRIDING SYSTEM VALUE
SELECT x.id, :c, x.id, sha256(convert_to(ticket.queue_token('tk_stale', x.nonce, :c, x.id), 'UTF8')), x.nonce, x.n, 'WAITING'
FROM (SELECT n, nextval('ticket.queue_tokens_id_seq') AS id, gen_random_bytes(16) AS nonce
      FROM generate_series(1, 20000) n) x;
SELECT setval(ticket.queue_seq(:c), 20000) AS joined \gset
-- A full room (100 admitted ahead), so that the poll only reads.
UPDATE ticket.queue_tokens SET status = 'ACTIVE', activated_at = now(), expires_at = now() + interval '10 minutes'
WHERE concert_id = :c AND seq <= 100;
UPDATE ticket.queues SET settled = 20000, admitted = 100 WHERE concert_id = :c;
SELECT ticket.queue_token('tk_stale', nonce, concert_id, id) AS token
FROM ticket.queue_tokens WHERE concert_id = :c AND seq = 15000 \gset

CREATE FUNCTION pg_temp.fetched(p_table regclass DEFAULT 'ticket.queue_tokens') RETURNS bigint LANGUAGE sql AS $$
  SELECT coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0)
  FROM pg_stat_xact_user_tables WHERE relid = p_table
$$;
-- A catalogue with a long past (statistics: few dates ahead), then two concerts of 2,000
-- dates: a concert's status reads its last date, not every date ahead of every concert.
SELECT admin.create_concert('Long past', 'Hall', ARRAY(SELECT now() + make_interval(days => d) FROM generate_series(1, 20000) d),
                            p_seats => 1) AS lp \gset
SELECT array_agg(admin.create_concert('Past ' || i, 'Hall', ARRAY[now() + interval '1 day'], p_seats => 1)) AS past
FROM generate_series(1, 5) i \gset
UPDATE ticket.concert_dates SET starts_at = starts_at - interval '100 years' WHERE concert_id = ANY (:'past'::bigint[] || :lp);
ANALYZE ticket.concert_dates;
SELECT admin.create_concert('Long run', 'Hall', ARRAY(SELECT now() + make_interval(days => 30 + d) FROM generate_series(1, 2000) d),
                            p_seats => 1) AS lr \gset
SELECT admin.create_concert('Longer run', 'Hall', ARRAY(SELECT now() + make_interval(days => 3000 + d) FROM generate_series(1, 2000) d),
                            p_seats => 1) AS lr2 \gset
SELECT pg_temp.fetched('ticket.concert_dates') AS before \gset
SELECT is((SELECT array_agg(DISTINCT ticket.concert_status(id)) FROM unnest(:'past'::bigint[]) id), ARRAY['ENDED'],
          'the status of five past concerts, 4,000 dates ahead of others');
SELECT cmp_ok(pg_temp.fetched('ticket.concert_dates') - :before, '<', 10::bigint,
              '... reads their own dates, not the dates ahead of every concert');
SELECT pg_temp.fetched('ticket.concert_dates') AS before \gset
SELECT is(ticket.concert_status(:lr), 'ON_SALE', 'the status of a concert of 2,000 dates, 2,000 more of another after them');
SELECT cmp_ok(pg_temp.fetched('ticket.concert_dates') - :before, '<', 5::bigint, '... reads its last date, not the 2,000 nor the others''');

SELECT pg_temp.fetched() AS before \gset
SELECT is((api.queue_status(:'token')).body->>'position', '14900',
  'a poll in a line of 20,000 the statistics have not seen (100 admitted ahead)');
SELECT cmp_ok(pg_temp.fetched() - :before, '<', 10::bigint,
  '... reads its own token row and the head of the line: not the line, nor the 100 admitted (no free slot reaches it)');

-- Settling the last 60 seqs of that line, once its joins are done: reads those 60, not
-- the line, also with the generic plan a session takes after five calls.
CREATE FUNCTION pg_temp.settle_last_60(p_concert_id bigint) RETURNS bigint LANGUAGE sql AS $$
  UPDATE ticket.queues SET settled = 19940, pending_upto = 20000, pending_joins = '{}' WHERE concert_id = p_concert_id;
  SELECT ticket.settle(p_concert_id);
$$;
SELECT pg_temp.settle_last_60(:c) FROM generate_series(1, 6);
SELECT pg_temp.fetched() AS before \gset
SELECT is(pg_temp.settle_last_60(:c), 20000::bigint, 'settle: the last 60 seqs of the line had no hole');
SELECT cmp_ok(pg_temp.fetched() - :before, '<', 200::bigint, '... and it read those, not the line of 20,000');

SELECT pg_temp.new_user('stale') AS k \gset
SELECT pg_temp.fetched() AS before \gset
SELECT is((api.issue_token(:'k', :c)).body->>'position', '19901', 'a join behind that line');
SELECT is((api.issue_token(:'k', :c)).status, 200, '... and the same user joining again');
SELECT cmp_ok(pg_temp.fetched() - :before, '<', 400::bigint,
  '... read the user''s own token and the admitted ones, not the line');

-- A hold counts the user's own seats held, being paid and bought (the per-person
-- limit) by an index, however many reservations other users have.
SELECT admin.create_concert('Busy sale', 'Hall',
  ARRAY(SELECT now() + make_interval(days => 7 + d) FROM generate_series(0, 20) d), p_seats => 100) AS b \gset
-- 2,000 other buyers, each with one seat of the later dates held, being paid or bought.
WITH others AS (
  INSERT INTO ticket.users (name, api_key_hash) SELECT 'other', gen_random_bytes(32) FROM generate_series(1, 2000)
  RETURNING id),
seat AS (
  SELECT s.id AS seat_id, s.date_id, row_number() OVER (ORDER BY s.id) AS n
  FROM ticket.seats s JOIN ticket.concert_dates d ON d.id = s.date_id
  WHERE d.concert_id = :b AND d.on_date > (SELECT min(on_date) FROM ticket.concert_dates WHERE concert_id = :b)),
mine AS (
  SELECT o.id AS user_id, seat.seat_id, seat.date_id, (ARRAY['HELD', 'PAYING', 'CONFIRMED'])[1 + seat.n % 3] AS status
  FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM others) o JOIN seat USING (n)),
r AS (
  INSERT INTO ticket.reservations (user_id, concert_id, date_id, status, amount, expires_at, ended_at, payment_ref, paying_since)
  SELECT user_id, :b, date_id, status, 80000, now() + interval '5 minutes',
         CASE WHEN status = 'CONFIRMED' THEN now() END,
         CASE WHEN status = 'PAYING' THEN 'ref-' || user_id END, CASE WHEN status = 'PAYING' THEN now() END
  FROM mine RETURNING id, user_id)
INSERT INTO ticket.reservation_seats (reservation_id, seat_id, claim)
SELECT r.id, mine.seat_id, tstzrange(now(), now() + interval '5 minutes') FROM r JOIN mine USING (user_id);
ANALYZE ticket.reservations;
SELECT pg_temp.new_user('busy') AS kb \gset
UPDATE ticket.concerts SET max_active = 1000 WHERE id = :b;
SELECT pg_temp.join_queue(:'kb', :b) AS tb \gset
SELECT is(pg_temp.row_status(:'tb'), 'ACTIVE', 'a buyer admitted to a sale with 2,000 reservations of others');
SELECT pg_temp.fetched('ticket.reservations') AS before \gset
SELECT isnt(pg_temp.hold(:'kb', :'tb', :b, '{7}'), NULL, '... holds a seat');
SELECT cmp_ok(pg_temp.fetched('ticket.reservations') - :before, '<', 50::bigint,
  '... reading its own reservations, not the others'' (HELD, PAYING and CONFIRMED alike)');

-- A pre-queue's ranks come in one opening, 5,000 here, into a table that was empty
-- when this session planned its polls (six of them, so the plan is the generic one).
SELECT admin.create_concert('Opening', 'Hall', ARRAY[now() + interval '7 days'],
                            p_sale_opens_at => now() + interval '10 minutes') AS o \gset
INSERT INTO ticket.queue_tokens (id, concert_id, user_id, token_hash, nonce, status)
OVERRIDING SYSTEM VALUE
SELECT x.id, :o, x.id, sha256(convert_to(ticket.queue_token('tk_pq', x.nonce, :o, x.id), 'UTF8')), x.nonce, 'PRE_QUEUE'
FROM (SELECT nextval('ticket.queue_tokens_id_seq') AS id, gen_random_bytes(16) AS nonce
      FROM generate_series(1, 5000)) x;
ANALYZE ticket.pre_queue_ranks;
SELECT ticket.queue_token('tk_pq', nonce, concert_id, id) AS pq FROM ticket.queue_tokens
WHERE concert_id = :o ORDER BY id DESC LIMIT 1 \gset
SELECT (api.queue_status(:'pq')).status FROM generate_series(1, 5);
SELECT is((api.queue_status(:'pq')).body->>'status', 'PRE_QUEUE', 'a pre-queue of 5,000, polled before the opening');
UPDATE ticket.concerts SET sale_opens_at = now() - interval '1 second' WHERE id = :o;
SELECT is(admin.open_sale(:o), true, '... opens');
-- The last rank: no free slot reaches it.
SELECT ticket.queue_token('tk_pq', t.nonce, t.concert_id, t.id) AS pq
FROM ticket.queue_tokens t JOIN ticket.pre_queue_ranks r ON r.token_id = t.id WHERE r.concert_id = :o AND r.rank = 5000 \gset
SELECT pg_temp.fetched('ticket.pre_queue_ranks') AS before, pg_temp.fetched() AS before_tokens \gset
SELECT (api.queue_status(:'pq')).status FROM generate_series(1, 3);
SELECT cmp_ok(pg_temp.fetched('ticket.pre_queue_ranks') - :before, '<', 30::bigint,
  '... and three polls of the last rank read its rank, not all 5,000');
SELECT cmp_ok(pg_temp.fetched() - :before_tokens, '<', 30::bigint,
  '... and their own token rows: the front, which the first poll in reach admits, is not theirs to place and admit');

-- A catalogue of many concerts, the newest on sale: its polls read its own queue and
-- concert rows, not those of every concert before it (statistics taken while the
-- older concerts had the lines).
SELECT count(admin.create_concert('Catalogue ' || i, 'Hall', ARRAY[now() + interval '7 days'])) FROM generate_series(1, 300) i;
SELECT admin.create_concert('Newest', 'Hall', ARRAY[now() + interval '7 days']) AS n \gset
ANALYZE ticket.queues;
ANALYZE ticket.concerts;
SELECT pg_temp.join_queue(pg_temp.new_user('newest-' || i), :n) FROM generate_series(1, 150) i OFFSET 149 \gset newest_
SELECT pg_temp.fetched('ticket.queues') AS before_q, pg_temp.fetched('ticket.concerts') AS before_c \gset
SELECT is((api.queue_status(:'newest_join_queue')).body->>'position', '50', 'a poll in the newest of 300 concerts (100 admitted ahead)');
SELECT cmp_ok(pg_temp.fetched('ticket.queues') - :before_q, '<', 5::bigint, '... reads its concert''s queue row, not 300');
SELECT cmp_ok(pg_temp.fetched('ticket.concerts') - :before_c, '<', 5::bigint, '... and its concert''s row');

SELECT * FROM finish();
ROLLBACK;
