-- The hot calls read what they need whatever the planner's statistics say: a sale's
-- line grows from nothing in minutes, long before the next ANALYZE. Counted in tuples
-- fetched (pg_stat_xact_user_tables), not timed.
BEGIN;
SELECT plan(5);
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

CREATE FUNCTION pg_temp.fetched() RETURNS bigint LANGUAGE sql AS $$
  SELECT coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0)
  FROM pg_stat_xact_user_tables WHERE relid = 'ticket.queue_tokens'::regclass
$$;
SELECT pg_temp.fetched() AS before \gset
SELECT is((api.queue_status(:'token')).body->>'position', '14900',
  'a poll in a line of 20,000 the statistics have not seen (100 admitted ahead)');
SELECT cmp_ok(pg_temp.fetched() - :before, '<', 200::bigint,
  '... reads its own token row and the admitted ones, not the line');

SELECT pg_temp.new_user('stale') AS k \gset
SELECT pg_temp.fetched() AS before \gset
SELECT is((api.issue_token(:'k', :c)).body->>'position', '19901', 'a join behind that line');
SELECT is((api.issue_token(:'k', :c)).status, 200, '... and the same user joining again');
SELECT cmp_ok(pg_temp.fetched() - :before, '<', 400::bigint,
  '... read the user''s own token and the admitted ones, not the line');

SELECT * FROM finish();
ROLLBACK;
