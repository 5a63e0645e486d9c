-- The waiting room (plpgsql/20_queue.sql; docs/api.md queue endpoints).
-- Time is moved by moving a token's timestamps into the past: now() is fixed in a transaction.
BEGIN;
SELECT plan(92);
\ir fixtures.psql

-- Anything other sessions left to the clock is settled first, so tick counts are ours.
SELECT holds_expired AS flushed FROM pg_temp.tick() \gset

SELECT admin.create_concert('Queue test', 'Hall', ARRAY[now() + interval '7 days'], p_seats => 10) AS c \gset
SELECT on_date AS d FROM ticket.concert_dates WHERE concert_id = :c \gset
SELECT is(admin.set_queue(:c, p_max_active => 2), 0, 'set_queue: max_active 2 on an empty queue admits nobody');
SELECT pg_temp.new_user('q1') AS k1, pg_temp.new_user('q2') AS k2, pg_temp.new_user('q3') AS k3,
       pg_temp.new_user('q4') AS k4, pg_temp.new_user('q5') AS k5, pg_temp.new_user('q6') AS k6,
       pg_temp.new_user('q7') AS k7, pg_temp.new_user('q8') AS k8 \gset

-- issue_token: first arrivals are admitted up to max_active
SELECT status AS s, body AS b, coalesce(retry_after, -1) AS ra FROM api.issue_token(:'k1', :c) \gset
SELECT :'b'::json->>'token' AS t1 \gset
SELECT is(:s, 201, 'issue_token: 201 for a new token');
SELECT is((SELECT array_agg(k ORDER BY k) FROM json_object_keys(:'b'::json) k),
  ARRAY['concert_id', 'entry_id', 'eta_seconds', 'expires_at', 'opens_at', 'position', 'status', 'token'],
  'issue_token: body has token, entry_id, concert_id, status, position, eta_seconds, opens_at, expires_at');
SELECT is(:'b'::json->>'status', 'ACTIVE', 'issue_token: the first arrival with a free slot is ACTIVE at once');
SELECT is((:'b'::json->>'concert_id')::bigint, :c::bigint, 'issue_token: concert_id is the concert');
SELECT is((:'b'::json->>'expires_at')::timestamptz, now() + interval '10 minutes',
  'issue_token: an ACTIVE turn lasts active_minutes (10) from admission');
SELECT ok(:'b'::json->>'position' IS NULL AND :'b'::json->>'eta_seconds' IS NULL AND :ra = -1,
  'issue_token: an ACTIVE token has no position, ETA or Retry-After');
SELECT status AS s, body->>'token' AS t1_again, body->>'status' AS st FROM api.issue_token(:'k1', :c) \gset
SELECT is(:s, 200, 'issue_token: 200 when the user already has a live token for the concert');
SELECT is(:'t1_again'::text, :'t1'::text, 'issue_token: asking again returns the same token');
SELECT is(:'st'::text, 'ACTIVE', 'issue_token: ... with its status');
SELECT pg_temp.join_queue(:'k2', :c) AS t2 \gset
SELECT pg_temp.join_queue(:'k3', :c) AS t3 \gset
SELECT pg_temp.join_queue(:'k4', :c) AS t4 \gset
SELECT status AS s, body AS b, coalesce(retry_after, -1) AS ra FROM api.issue_token(:'k5', :c) \gset
SELECT :'b'::json->>'token' AS t5 \gset
SELECT results_eq(
  format($$SELECT pg_temp.row_status(t) FROM unnest(ARRAY[%L, %L, %L, %L, %L]) WITH ORDINALITY x(t, i) ORDER BY i$$,
         :'t1', :'t2', :'t3', :'t4', :'t5'),
  $$VALUES ('ACTIVE'), ('ACTIVE'), ('WAITING'), ('WAITING'), ('WAITING')$$,
  'admission: with max_active 2, the first two of five arrivals are ACTIVE and the rest WAITING');
SELECT is(:s, 201, 'issue_token: 201 for a waiting newcomer too');
SELECT is(:'b'::json->>'status', 'WAITING', 'issue_token: the fifth arrival WAITS');
SELECT is(:'b'::json->>'position', '3', 'issue_token: the fifth arrival is at position 3 (two waiting ahead)');
SELECT cmp_ok((:'b'::json->>'eta_seconds')::int, '>', 0, 'issue_token: a waiting token has an ETA > 0');
SELECT ok(:'ra'::int BETWEEN 1 AND 30, 'issue_token: a waiting token comes with Retry-After 1..30 seconds');
SELECT ok(:'b'::json->>'expires_at' IS NULL, 'issue_token: a waiting token has no expires_at');
SELECT results_eq(
  format($$SELECT pg_temp.poll(t, 'position')::int FROM unnest(ARRAY[%L, %L, %L]) WITH ORDINALITY x(t, i) ORDER BY i$$,
         :'t3', :'t4', :'t5'),
  $$VALUES (1), (2), (3)$$, 'queue_status: waiting positions are 1, 2, 3 in arrival order');
SELECT ok(pg_temp.poll(:'t4', 'eta_seconds')::int < pg_temp.poll(:'t5', 'eta_seconds')::int,
  'queue_status: the ETA grows with the position');
SELECT is((api.issue_token(:'k3', :c)).body->>'token', :'t3'::text, 'issue_token: a waiting user asking again gets the same token');
SELECT is((api.issue_token(:'k3', :c)).body->>'position', '1', 'issue_token: ... and keeps the place');
SELECT throws_ok(format('SELECT api.issue_token(%L, %s)', :'k6', 0), 'T404A', NULL,
  'issue_token: an unknown concert is NOT_FOUND');
SELECT throws_ok(format('SELECT api.issue_token(%L, NULL)', :'k6'), 'T404A', NULL,
  'issue_token: a missing concert is NOT_FOUND');
SELECT throws_ok(format('SELECT api.issue_token(%L, %s)', 'tk_bogus', :c), 'T401A', NULL,
  'issue_token: an unknown key is UNAUTHENTICATED');
SELECT throws_ok(format('SELECT api.issue_token(NULL, %s)', :c), 'T401A', NULL,
  'issue_token: a missing key is UNAUTHENTICATED');

-- queue_status
SELECT status AS s, body AS b, coalesce(retry_after, -1) AS ra FROM api.queue_status(:'t4') \gset
SELECT is(:s, 200, 'queue_status: 200');
SELECT is(:'b'::json->>'token', :'t4'::text, 'queue_status: the body names the token');
SELECT is(:'b'::json->>'status', 'WAITING', 'queue_status: WAITING');
SELECT ok(:'ra'::int BETWEEN 1 AND 30, 'queue_status: Retry-After (1..30 s) while waiting');
-- The heartbeat is written once the last is half of idle_seconds (120) old: a page
-- polling as told (every 30 s at most) is never dropped, and far-back polls mostly read.
UPDATE ticket.queue_tokens SET last_seen_at = now() - interval '59 seconds' WHERE id = split_part(:'t4', '.', 2)::bigint;
SELECT is((api.queue_status(:'t4')).status, 200, 'queue_status: a waiter last seen 59 s ago polls');
SELECT is((SELECT last_seen_at FROM ticket.queue_tokens WHERE id = split_part(:'t4', '.', 2)::bigint), now() - interval '59 seconds',
  '... and its heartbeat is not written yet');
UPDATE ticket.queue_tokens SET last_seen_at = now() - interval '61 seconds' WHERE id = split_part(:'t4', '.', 2)::bigint;
SELECT is((api.queue_status(:'t4')).status, 200, 'queue_status: a waiter last seen 61 s ago polls');
SELECT is((SELECT last_seen_at FROM ticket.queue_tokens WHERE id = split_part(:'t4', '.', 2)::bigint), now(),
  '... and its heartbeat is written');
SELECT is(pg_temp.poll(:'t1', 'status'), 'ACTIVE', 'queue_status: ACTIVE for an admitted token');
SELECT ok((api.queue_status(:'t1')).retry_after IS NULL, 'queue_status: no Retry-After for an ACTIVE token');
SELECT throws_ok($$SELECT api.queue_status('qt_unknown')$$, 'T401B', NULL, 'queue_status: an unknown token is QUEUE_TOKEN_INVALID');
SELECT throws_ok($$SELECT api.queue_status(NULL)$$, 'T401B', NULL, 'queue_status: a missing token is QUEUE_TOKEN_INVALID');
SELECT is((api.list_concerts()).body->'concerts'->0 IS NOT NULL, true, 'list_concerts: lists concerts');
SELECT is(
  (SELECT c->'queue' FROM json_array_elements((api.list_concerts()).body->'concerts') c WHERE (c->>'id')::bigint = :c)::jsonb,
  '{"waiting": 3, "active": 2, "max_active": 2}'::jsonb, 'list_concerts: queue figures waiting 3, active 2, max_active 2');
SELECT results_eq(format('SELECT waiting, active, max_active, joined, admitted, sold_out FROM admin.queue_report(%s)', :c),
  $$VALUES (3::bigint, 2::bigint, 2, 5::bigint, 2::bigint, false)$$,
  'admin.queue_report: waiting 3, active 2, max_active 2, joined 5, admitted 2, not sold out');

-- leave_queue by someone ahead: positions behind drop by one
SELECT is(api.leave_queue(:'t3')::text, '(204,,)', 'leave_queue: 204 with no body');
SELECT is(pg_temp.row_status(:'t3'), 'LEFT', 'leave_queue: the token is LEFT');
SELECT is(pg_temp.poll(:'t3', 'status'), 'LEFT', 'queue_status: LEFT after leaving');
SELECT results_eq(
  format($$SELECT pg_temp.poll(t, 'position')::int FROM unnest(ARRAY[%L, %L]) WITH ORDINALITY x(t, i) ORDER BY i$$, :'t4', :'t5'),
  $$VALUES (1), (2)$$, 'position: when the first waiter leaves, those behind move up by one (1, 2)');
SELECT is((api.leave_queue(:'t3')).status, 204, 'leave_queue: leaving again is 204 (idempotent)');
SELECT throws_ok($$SELECT api.leave_queue('qt_unknown')$$, 'T401B', NULL, 'leave_queue: an unknown token is QUEUE_TOKEN_INVALID');

-- A waiting token that is not polled any more is dropped by the tick
SELECT pg_temp.join_queue(:'k6', :c) AS t6 \gset
SELECT is(pg_temp.poll(:'t6', 'position'), '3', 'position: a newcomer after a departure is 3rd');
SELECT pg_temp.goes_idle(:'t4');
SELECT results_eq('SELECT waiting_dropped, admitted FROM pg_temp.tick()', $$VALUES (1, 0)$$,
  'admin.tick: drops the one waiting token not polled for idle_seconds (and admits nobody: no free slot)');
SELECT is(pg_temp.row_status(:'t4'), 'EXPIRED', 'admin.tick: the idle waiter is EXPIRED');
SELECT results_eq(
  format($$SELECT pg_temp.poll(t, 'position')::int FROM unnest(ARRAY[%L, %L]) WITH ORDINALITY x(t, i) ORDER BY i$$, :'t5', :'t6'),
  $$VALUES (1), (2)$$, 'position: when a waiter ahead goes idle and is dropped, those behind move up (1, 2)');

-- An ACTIVE turn that ran out: reported EXPIRED at once, its slot re-used
SELECT pg_temp.turn_runs_out(:'t1');
SELECT is(pg_temp.poll(:'t1', 'status'), 'EXPIRED', 'queue_status: an ACTIVE token past its expiry is EXPIRED at once');
SELECT is(
  (SELECT (c->'queue'->>'active')::int FROM json_array_elements((api.list_concerts()).body->'concerts') c WHERE (c->>'id')::bigint = :c),
  1, 'list_concerts: a run-out turn no longer counts as active, before any cleanup');
SELECT is(pg_temp.poll(:'t5', 'status'), 'ACTIVE', 'admission: the first waiter polling takes the freed slot');
SELECT is(pg_temp.row_status(:'t1'), 'EXPIRED', 'admission: the run-out token row is marked EXPIRED');
SELECT is(pg_temp.poll(:'t6', 'position'), '1', 'position: the next waiter is now first');
SELECT status AS s, body->>'token' AS t1b, body->>'status' AS st FROM api.issue_token(:'k1', :c) \gset
SELECT is(:s, 201, 'issue_token: after the turn ran out the user gets a new token (201)');
SELECT isnt(:'t1b'::text, :'t1'::text, 'issue_token: ... which is a different token');
SELECT is(pg_temp.poll(:'t1b', 'position'), '2', 'issue_token: ... at the back of the line');

-- Paying ends the turn (DONE) and admits the next
SELECT (api.charge_wallet(:'k2', 1000000, NULL)).status AS ok \gset
SELECT (api.hold_seat(:'k2', :'t2', :c, :'d', '{1}')).body->>'reservation_id' AS r2 \gset
SELECT is((api.pay_reservation(:'k2', :'t2', :r2, NULL)).status, 201, 'pay_reservation: 201');
SELECT is(pg_temp.poll(:'t2', 'status'), 'DONE', 'payment: the payer''s token is DONE');
SELECT is(pg_temp.row_status(:'t6'), 'ACTIVE', 'payment: the next waiter is admitted by the payment itself');
SELECT is(pg_temp.row_status(:'t1b'), 'WAITING', 'payment: ... only one (one slot freed)');
SELECT is((api.leave_queue(:'t2')).status, 204, 'leave_queue: on a DONE token is 204 ...');
SELECT is(pg_temp.row_status(:'t2'), 'DONE', 'leave_queue: ... and leaves it DONE');

-- Leaving an ACTIVE turn admits the next
SELECT is((api.leave_queue(:'t5')).status, 204, 'leave_queue: an ACTIVE user gives up the turn');
SELECT is(pg_temp.row_status(:'t1b'), 'ACTIVE', 'leave_queue: the next waiter is admitted at once');

-- Raising max_active admits more
SELECT pg_temp.join_queue(:'k7', :c) AS t7 \gset
SELECT pg_temp.join_queue(:'k8', :c) AS t8 \gset
SELECT is(admin.set_queue(:c, p_max_active => 4), 2, 'set_queue: raising max_active from 2 to 4 admits two more at once');
SELECT results_eq(
  format($$SELECT pg_temp.row_status(t) FROM unnest(ARRAY[%L, %L]) WITH ORDINALITY x(t, i) ORDER BY i$$, :'t7', :'t8'),
  $$VALUES ('ACTIVE'), ('ACTIVE')$$, 'set_queue: the two waiters are ACTIVE');
SELECT throws_ok('SELECT admin.set_queue(0, p_max_active => 5)', 'T404A', NULL, 'set_queue: an unknown concert is NOT_FOUND');
SELECT is(
  (SELECT count(*) FROM admin.check_invariants() WHERE detail LIKE format('concert %s:%%', :c)),
  0::bigint, 'check_invariants: the queue counters of this concert match its tokens after all that');

-- Sold out: the last seat paid ends the waiting
SELECT admin.create_concert('Queue sold out', 'Hall', ARRAY[now() + interval '8 days'], p_seats => 1, p_max_active => 1) AS s \gset
SELECT on_date AS sd FROM ticket.concert_dates WHERE concert_id = :s \gset
SELECT pg_temp.join_queue(:'k1', :s) AS sa, pg_temp.join_queue(:'k2', :s) AS sb \gset
SELECT pg_temp.join_queue(:'k3', :s) AS sc \gset
SELECT (api.charge_wallet(:'k1', 1000000, NULL)).status AS ok \gset
SELECT (api.hold_seat(:'k1', :'sa', :s, :'sd', '{1}')).body->>'reservation_id' AS sr \gset
SELECT is(pg_temp.poll(:'sb', 'status'), 'WAITING', 'sold out: a held last seat may come back, so waiters keep WAITING');
SELECT is((api.pay_reservation(:'k1', :'sa', :sr, NULL)).status, 201, 'sold out: the last seat is paid');
SELECT is((SELECT sold_out FROM admin.queue_report(:s)), true, 'sold out: the queue is marked sold out by the payment');
SELECT is(pg_temp.poll(:'sb', 'status'), 'SOLD_OUT', 'queue_status: a waiting token says SOLD_OUT once nothing is left');
SELECT is(pg_temp.poll(:'sb', 'position'), '1', 'queue_status: ... with its place on the waiting list');
SELECT ok((api.queue_status(:'sb')).retry_after BETWEEN 5 AND 60, 'queue_status: the waiting list polls slowly (Retry-After 5 to 60 s)');
SELECT is(pg_temp.row_status(:'sb'), 'WAITING', 'queue_status: ... and the token stays in line (the waiting list)');
SELECT is(pg_temp.poll(:'sc', 'position'), '2', 'sold out: the next waiter is second on the waiting list');
SELECT is((SELECT sold_out FROM pg_temp.tick()), 0, 'admin.tick: the payment had marked the concert sold out already');
SELECT is(pg_temp.row_status(:'sc'), 'WAITING', 'admin.tick: ... and the tick ends none of the waiting list');
SELECT results_eq(format('SELECT status, body->>''status'', body->>''position'' FROM api.issue_token(%L, %s)', :'k4', :s),
  $$VALUES (201, 'SOLD_OUT', '3')$$, 'issue_token: a newcomer to a sold-out concert joins the end of the waiting list');
SELECT is(
  (SELECT (c->'queue')::jsonb FROM json_array_elements((api.list_concerts()).body->'concerts') c WHERE (c->>'id')::bigint = :s),
  '{"waiting": 3, "active": 0, "max_active": 1}'::jsonb, 'list_concerts: a sold-out concert counts its waiting list');
SELECT results_eq(format('SELECT waiting, active, joined, admitted, sold_out FROM admin.queue_report(%s)', :s),
  $$VALUES (3::bigint, 0::bigint, 4::bigint, 1::bigint, true)$$,
  'admin.queue_report: sold out, 4 joined, 1 admitted, 3 on the waiting list');

-- A waiter comes back after its token went idle, before the tick dropped it, and asks
-- to join again while a slot is free: it must get a live token (docs/api.md: 201 a new token,
-- or 200 its live token), not an ended one it has to throw away.
SELECT admin.create_concert('Queue return', 'Hall', ARRAY[now() + interval '9 days'], p_max_active => 1) AS rc \gset
SELECT pg_temp.join_queue(:'k1', :rc) AS ra \gset
SELECT pg_temp.join_queue(:'k2', :rc) AS rb \gset
SELECT pg_temp.turn_runs_out(:'ra');
SELECT pg_temp.goes_idle(:'rb');
SELECT status AS s, body->>'status' AS st FROM api.issue_token(:'k2', :rc) \gset
SELECT ok(:'st' IN ('WAITING', 'ACTIVE'),
  format('issue_token: a returning user whose waiting token went idle gets a live token (got %s %s)', :s, :'st'));
SELECT is((SELECT count(*) FROM ticket.queue_tokens t JOIN ticket.users u ON u.id = t.user_id
           WHERE t.concert_id = :rc AND u.name = 'q2' AND t.status IN ('WAITING', 'ACTIVE')), 1::bigint,
  'issue_token: ... and then has exactly one live token for the concert');

-- Tokens name their row (qt_<concert>.<id>.<secret>): a made-up secret for a real row
-- is refused. A token issued in the old form (qt_<secret>) still works until its user
-- joins again, who gets it in the new form.
SELECT admin.create_concert('Queue forms', 'Hall', ARRAY[now() + interval '9 days'], p_max_active => 1) AS fc \gset
SELECT pg_temp.join_queue(:'k1', :fc) AS fa \gset
SELECT throws_ok(format('SELECT api.queue_status(%L)', regexp_replace(:'fa', '[^.]*$', repeat('A', 43))), 'T401B', NULL,
  'queue_status: the right concert and row with a made-up secret is QUEUE_TOKEN_INVALID');
UPDATE ticket.queue_tokens SET token_hash = sha256(convert_to('qt_' || repeat('L', 43), 'UTF8')), legacy_token = true
WHERE token_hash = sha256(convert_to(:'fa', 'UTF8'));
SELECT is((api.queue_status('qt_' || repeat('L', 43))).body->>'status', 'ACTIVE', 'queue_status: a token of the old form still works');
SELECT is((api.issue_token(:'k1', :fc)).body->>'token', :'fa', 'issue_token: joining again gives it in the new form');
SELECT throws_ok(format('SELECT api.queue_status(%L)', 'qt_' || repeat('L', 43)), 'T401B', NULL,
  'queue_status: ... after which the old form is QUEUE_TOKEN_INVALID');
SELECT is((api.queue_status(:'fa')).body->>'status', 'ACTIVE', 'queue_status: ... and the new form works');

-- A join reads a lower bound of the line with the concert (seqs handed out, less the
-- admitted and every drop) and counts the room only below max_active: a line emptied
-- by leaves must not look long, or the next join would wait for a free room.
SELECT admin.create_concert('Queue emptied', 'Hall', ARRAY[now() + interval '9 days'], p_max_active => 1) AS ec \gset
SELECT pg_temp.join_queue(:'k1', :ec) AS ea \gset
SELECT pg_temp.join_queue(:'k2', :ec) AS eb \gset
SELECT pg_temp.join_queue(:'k3', :ec) AS ec2 \gset
SELECT pg_temp.join_queue(:'k4', :ec) AS ed \gset
SELECT (api.leave_queue(:'eb')).status, (api.leave_queue(:'ec2')).status, (api.leave_queue(:'ed')).status, (api.leave_queue(:'ea')).status;
SELECT is(ticket.queue_waiting(:ec), 0::bigint, 'leave_queue: a line whose every place left waits for nobody');
SELECT is((api.issue_token(:'k5', :ec)).body->>'status', 'ACTIVE',
  'issue_token: the next join after a line emptied by leaves is ACTIVE at once (4 seqs, 1 admitted, 3 dropped)');

SELECT * FROM finish();
ROLLBACK;
