-- What a standby may answer (plpgsql/92_standby.sql, docs/scale.md "Standby reads"),
-- on one database, which is a primary and so never lags: a seat map as the primary's;
-- the poll of a WAITING token far back in a full or sold-out room, with its heartbeat
-- fresh, as the primary's, without writing; anything else answers a reply with no
-- status and the reason (ticket.ask_primary), so that the proxy asks the primary. How far a real standby lags is tests/shard/standby.t's.
BEGIN;
SELECT plan(21);
\ir fixtures.psql

SELECT admin.create_concert('Standby', 'Hall', ARRAY[now() + interval '7 days'], p_seats => 4, p_max_active => 1) AS c \gset
SELECT on_date AS d FROM ticket.concert_dates WHERE concert_id = :c \gset
SELECT pg_temp.new_user('s1') AS k1, pg_temp.new_user('s2') AS k2, pg_temp.new_user('s3') AS k3,
       pg_temp.new_user('s4') AS k4, pg_temp.new_user('s5') AS k5 \gset
SELECT pg_temp.join_queue(:'k1', :c) AS t1 \gset
SELECT pg_temp.join_queue(:'k2', :c) AS t2 \gset
SELECT pg_temp.join_queue(:'k3', :c) AS t3 \gset
SELECT pg_temp.join_queue(:'k4', :c) AS t4 \gset
SELECT pg_temp.join_queue(:'k5', :c) AS t5 \gset
SELECT pg_temp.user_id(:'k1') AS u1 \gset
-- What a standby call answers: its refusal's reason, 'answered', or the error it raises.
CREATE FUNCTION pg_temp.refusal(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r api.reply; s text; m text;
BEGIN
  EXECUTE p_sql INTO r;
  RETURN CASE WHEN r.status IS NULL THEN 'ask the primary: ' || (r.body->>'ask_primary') ELSE 'answered' END;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT;
  RETURN s || ' ' || m;
END
$$;

SELECT results_eq(
  format($$SELECT pg_temp.row_status(t) FROM unnest(ARRAY[%L, %L, %L, %L, %L]) WITH ORDINALITY x(t, i) ORDER BY i$$,
         :'t1', :'t2', :'t3', :'t4', :'t5'),
  $$VALUES ('ACTIVE'), ('WAITING'), ('WAITING'), ('WAITING'), ('WAITING')$$,
  'max_active 1: one turn, four waiting at positions 1 to 4');
SELECT is(ticket.standby_lag(), interval '0', 'standby_lag: a primary is current');

-- Polls
SELECT (peer.standby_queue_status(:'t4', '1s')).* AS sq \gset s_
SELECT is(ROW(:s_status, :'s_body', :s_retry_after)::text,
          (SELECT ROW(status, body::text, retry_after)::text FROM api.queue_status(:'t4')),
  'far back (position 3 > 2 x max_active) in a full room: the primary''s answer, status, body and Retry-After');
SELECT is(:'s_body'::json->>'position', '3', '... at position 3');
SELECT is(pg_temp.refusal(format('SELECT * FROM peer.standby_queue_status(%L, %L)', :'t1', '1s')),
  'ask the primary: not a WAITING token here', 'an ACTIVE token: ask the primary');
SELECT is(pg_temp.refusal(format('SELECT * FROM peer.standby_queue_status(%L, %L)', :'t2', '1s')),
  'ask the primary: near the front', 'position 1: ask the primary');
SELECT is(pg_temp.refusal(format('SELECT * FROM peer.standby_queue_status(%L, %L)', :'t3', '1s')),
  'ask the primary: near the front', 'position 2 = 2 x max_active: ask the primary');
SELECT is(pg_temp.refusal(format('SELECT * FROM peer.standby_queue_status(%L, %L)', :'t4' || 'x', '1s')),
  'ask the primary: not a WAITING token here', 'a malformed token: ask the primary (its 401 is the primary''s)');
SELECT is(pg_temp.refusal(format('SELECT * FROM peer.standby_queue_status(%L, %L)', regexp_replace(:'t4', '[^.]+$', repeat('A', 43)), '1s')),
  'ask the primary: not a WAITING token here', 'a wrong secret: ask the primary');
SELECT is(pg_temp.refusal(format('SELECT * FROM peer.standby_queue_status(%L, %L)', :'t4', '-1s')),
  'ask the primary: replay lags 00:00:00, over the bound -00:00:01', 'a lag over the bound: ask the primary');

-- The heartbeat: answered while the last one is under half of idle_seconds (120) old.
UPDATE ticket.queue_tokens SET last_seen_at = now() - interval '59 seconds' WHERE id = split_part(:'t4', '.', 2)::bigint;
SELECT is((peer.standby_queue_status(:'t4', '1s')).status, 200, 'heartbeat 59 s old: answered');
UPDATE ticket.queue_tokens SET last_seen_at = now() - interval '61 seconds' WHERE id = split_part(:'t4', '.', 2)::bigint;
SELECT is(pg_temp.refusal(format('SELECT * FROM peer.standby_queue_status(%L, %L)', :'t4', '1s')),
  'ask the primary: the heartbeat is due', 'heartbeat 61 s old: ask the primary, which writes it');

-- Seat maps: the primary's, for whom the proxy vouches; any refusal is the primary's to give.
SELECT is((SELECT ROW(status, body::text, retry_after)::text FROM peer.standby_seat_map(:u1, :'k1', :'t1', :c, :'d', '1s')),
          (SELECT ROW(status, body::text, retry_after)::text FROM peer.seat_map(:u1, :'k1', :'t1', :c, :'d')),
  'seat map of an ACTIVE token: the primary''s');
SELECT is(pg_temp.refusal(format('SELECT * FROM peer.standby_seat_map(%s, %L, %L, %s, %L, %L)', :u1, :'k1', :'t1', :c, :'d', '-1s')),
  'ask the primary: replay lags 00:00:00, over the bound -00:00:01', 'seat map, a lag over the bound: ask the primary');
SELECT is(split_part(pg_temp.refusal(format('SELECT * FROM peer.standby_seat_map(%s, %L, %L, %s, %L, %L)',
                                            pg_temp.user_id(:'k2'), :'k2', :'t2', :c, :'d', '1s')), ' ', 1),
  'T429A', 'seat map of a WAITING token: the gate''s refusal, which sends the proxy to the primary');

-- A free slot: the primary's poll would admit.
SELECT pg_temp.turn_runs_out(:'t1') \gset
SELECT is(pg_temp.refusal(format('SELECT * FROM peer.standby_queue_status(%L, %L)', :'t5', '1s')),
  'ask the primary: a free slot: the poll may admit', 'a turn ran out, far back: ask the primary (it may admit)');
-- Sold out: the waiting list's answer, no admission.
UPDATE ticket.queues SET sold_out = true WHERE concert_id = :c;
SELECT (peer.standby_queue_status(:'t5', '1s')).* AS sq \gset s_
SELECT is(ROW(:s_status, :'s_body', :s_retry_after)::text,
          (SELECT ROW(status, body::text, retry_after)::text FROM api.queue_status(:'t5')),
  'sold out, far back: the primary''s answer');
SELECT is(:'s_body'::json->>'status', 'SOLD_OUT', '... on the waiting list');

-- Read-only, as on a standby: the heartbeat falls due at the same age there and on
-- the primary, so under half the idle limit neither poll writes, and past it the
-- primary's does (which no standby can run).
UPDATE ticket.queue_tokens SET last_seen_at = now() - interval '59 seconds' WHERE id = split_part(:'t5', '.', 2)::bigint;
UPDATE ticket.queue_tokens SET last_seen_at = now() - interval '61 seconds' WHERE id = split_part(:'t4', '.', 2)::bigint;
SET LOCAL transaction_read_only = on;
SELECT is((peer.standby_queue_status(:'t5', '1s')).status, 200, 'read-only, heartbeat 59 s old: the standby''s poll answers');
SELECT is((api.queue_status(:'t5')).status, 200, '... and the primary''s poll of the same token writes nothing either');
SELECT throws_ok(format('SELECT api.queue_status(%L)', :'t4'), '25006', NULL,
  'read-only, heartbeat 61 s old: the primary''s poll writes it');

SELECT * FROM finish();
ROLLBACK;
