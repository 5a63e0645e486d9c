-- What DBAs and pg_cron call (admin.check_invariants and the rest of plpgsql/80_admin.sql).
BEGIN;
SELECT plan(89);
\ir fixtures.psql

-- Whatever other sessions left to the clock is settled first, so the counts below are ours.
SELECT holds_expired AS flushed FROM pg_temp.tick() \gset
SELECT charged AS charged0, paid AS paid0 FROM admin.books() \gset

-- create_concert and add_date
SELECT admin.create_concert('Admin test', 'Olympic Hall', ARRAY[now() + interval '7 days', now() + interval '14 days']) AS c \gset
SELECT results_eq(format($$SELECT title, venue, hold_minutes, max_seats_per_user, max_active, active_minutes, idle_seconds
                           FROM ticket.concerts WHERE id = %s$$, :c),
  $$VALUES ('Admin test', 'Olympic Hall', 5, 1, 100, 10, 120)$$,
  'create_concert: title, venue and the default settings (hold 5 min, 1 seat, 100 active, 10 min turns, 120 s idle)');
SELECT results_eq(format('SELECT ticket.queue_joined(concert_id), settled, admitted, turn_seconds, sold_out FROM ticket.queues WHERE concert_id = %s', :c),
  $$VALUES (0::bigint, 0::bigint, 0::bigint, 600::real, false)$$, 'create_concert: an empty queue whose first ETA assumes full turns');
SELECT results_eq(format('SELECT starts_at, (SELECT count(*) FROM ticket.seats s WHERE s.date_id = d.id) FROM ticket.concert_dates d WHERE concert_id = %s ORDER BY starts_at', :c),
  $$VALUES (now() + interval '7 days', 50::bigint), (now() + interval '14 days', 50::bigint)$$,
  'create_concert: one performance per start time, 50 seats each');
SELECT results_eq(format($$SELECT s.price, count(*), min(s.seat_no), max(s.seat_no) FROM ticket.seats s JOIN ticket.concert_dates d ON d.id = s.date_id
                           WHERE d.concert_id = %s AND d.starts_at = now() + interval '7 days' GROUP BY s.price ORDER BY min(s.seat_no)$$, :c),
  $$VALUES (150000::bigint, 17::bigint, 1, 17), (110000, 17, 18, 34), (80000, 16, 35, 50)$$,
  'create_concert: seats 1..50 in three tiers, dearest at the front');
SELECT admin.add_date(:c, ((current_date + 30)::timestamp + interval '1 hour') AT TIME ZONE 'Asia/Seoul', 4, ARRAY[90000, 40000]::bigint[]) AS d3 \gset
SELECT is((SELECT on_date FROM ticket.concert_dates WHERE id = :d3), current_date + 30,
  'add_date: the date of a performance is its calendar day in Seoul (01:00 KST is the previous day in UTC)');
SELECT results_eq(format('SELECT seat_no, price FROM ticket.seats WHERE date_id = %s ORDER BY seat_no', :d3),
  $$VALUES (1, 90000::bigint), (2, 90000), (3, 40000), (4, 40000)$$, 'add_date: p_seats seats, price tiers split evenly front to back');
SELECT throws_ok(format('SELECT admin.add_date(%s, now() + interval ''40 days'', 0)', :c), 'T400A', NULL, 'add_date: 0 seats is refused');
SELECT throws_ok(format('SELECT admin.add_date(%s, now() + interval ''40 days'', 10001)', :c), 'T400A', NULL, 'add_date: 10001 seats is refused');
SELECT throws_ok(format('SELECT admin.add_date(%s, now() + interval ''40 days'', 10, ''{}'')', :c), 'T400A', NULL, 'add_date: no price is refused');
SELECT throws_ok(format('SELECT admin.add_date(%s, now() + interval ''7 days'')', :c), '23505', NULL,
  'add_date: a second performance on the same day is refused');
SELECT throws_ok($$SELECT admin.create_concert('x', 'y', ARRAY[now() + interval '7 days'], p_hold_minutes => 0)$$, '23514', NULL,
  'create_concert: hold_minutes must be 1..60');
SELECT throws_ok($$SELECT admin.create_concert('x', 'y', ARRAY[now() + interval '7 days'], p_max_seats_per_user => 5)$$, '23514', NULL,
  'create_concert: max_seats_per_user must be 1..4');
SELECT throws_ok($$SELECT admin.create_concert('', 'y', ARRAY[now() + interval '7 days'])$$, '23514', NULL,
  'create_concert: a title is required');
SELECT lives_ok(format('SELECT admin.set_queue(%s, p_active_minutes => 3, p_idle_seconds => 60)', :c), 'set_queue: turn length and idle time');
SELECT results_eq(format('SELECT max_active, active_minutes, idle_seconds FROM ticket.concerts WHERE id = %s', :c),
  $$VALUES (100, 3, 60)$$, 'set_queue: NULL keeps a setting, the others change');
SELECT throws_ok(format('SELECT admin.set_queue(%s, p_idle_seconds => 10)', :c), '23514', NULL, 'set_queue: idle_seconds below 30 is refused');

-- seed_demo
UPDATE ticket.concerts SET title = title || ' (older)' WHERE title = 'Seoul Winter Night 2026';
SELECT admin.seed_demo() AS demo \gset
SELECT is(admin.seed_demo(), :demo::bigint, 'seed_demo: a second call returns the same concert (idempotent)');
SELECT is((SELECT count(*) FROM ticket.concerts WHERE title = 'Seoul Winter Night 2026'), 1::bigint, 'seed_demo: one demo concert');
SELECT results_eq(format($$SELECT count(DISTINCT d.id), count(*), count(*) FILTER (WHERE d.starts_at > now()) / 50
                           FROM ticket.concert_dates d JOIN ticket.seats s ON s.date_id = d.id WHERE d.concert_id = %s$$, :demo),
  $$VALUES (4::bigint, 200::bigint, 4::bigint)$$, 'seed_demo: 4 future dates x 50 seats');
SELECT results_eq(format($$SELECT (starts_at AT TIME ZONE 'Asia/Seoul')::time, on_date - lag(on_date) OVER (ORDER BY on_date)
                           FROM ticket.concert_dates WHERE concert_id = %s ORDER BY on_date$$, :demo),
  $$VALUES ('19:30'::time, NULL::int), ('19:30', 7), ('19:30', 7), ('19:30', 7)$$, 'seed_demo: 19:30 in Seoul, a week apart');
SELECT results_eq(format($$SELECT DISTINCT s.price FROM ticket.seats s JOIN ticket.concert_dates d ON d.id = s.date_id
                           WHERE d.concert_id = %s ORDER BY 1 DESC$$, :demo),
  $$VALUES (150000::bigint), (110000), (80000)$$, 'seed_demo: tiers of 150,000 / 110,000 / 80,000 won');

-- admin.tick: holds, idle waiters, admissions, old keys, error counts
SELECT admin.create_concert('Tick test', 'Hall', ARRAY[now() + interval '7 days'], p_seats => 10,
                            p_max_seats_per_user => 2, p_max_active => 1) AS k \gset
SELECT pg_temp.new_user('tick-1') AS k1, pg_temp.new_user('tick-2') AS k2, pg_temp.new_user('tick-3') AS k3 \gset
SELECT pg_temp.join_queue(:'k1', :k) AS t1 \gset
SELECT pg_temp.join_queue(:'k2', :k) AS t2 \gset
SELECT pg_temp.join_queue(:'k3', :k) AS t3 \gset
SELECT pg_temp.hold(:'k1', :'t1', :k, '{1,2}') AS rk \gset
SELECT pg_temp.hold_runs_out(:rk);
SELECT pg_temp.turn_runs_out(:'t1');
SELECT pg_temp.goes_idle(:'t2');
INSERT INTO ticket.idempotency_keys (user_id, key, request, status, body, created_at) VALUES
  (pg_temp.user_id(:'k1'), 'old', 'charge 1', 200, '{}', now() - interval '49 hours'),
  (pg_temp.user_id(:'k1'), 'recent', 'charge 1', 200, '{}', now() - interval '47 hours');
SELECT coalesce((SELECT n FROM ticket.error_counts WHERE code = 'TEST_TICK_CODE'), 0) AS n0 \gset
SELECT (api.note_error('TEST_TICK_CODE')).status AS ok \gset
SELECT (api.note_error('TEST_TICK_CODE')).status AS ok \gset
SELECT * FROM pg_temp.tick() \gset tick_
SELECT is(:tick_holds_expired, 1, 'admin.tick: holds_expired counts the one expired hold (of two seats)');
SELECT results_eq(format('SELECT status, ended_at = expires_at FROM ticket.reservations WHERE id = %s', :rk),
  $$VALUES ('EXPIRED', true)$$, 'admin.tick: the expired hold is EXPIRED, ended at its expiry');
SELECT is((SELECT count(*) FROM ticket.seats WHERE reservation_id = :rk OR (reservation_id IS NULL AND held_until IS NOT NULL)),
  0::bigint, 'admin.tick: its seats are freed (no reservation, no held_until)');
SELECT is(:tick_waiting_dropped, 1, 'admin.tick: drops the waiter not polled for idle_seconds');
SELECT is(pg_temp.row_status(:'t2'), 'EXPIRED', 'admin.tick: the idle waiter is EXPIRED');
SELECT is(:tick_admitted, 1, 'admin.tick: admits the next in line into the run-out turn''s slot');
SELECT results_eq(format('SELECT pg_temp.row_status(t) FROM unnest(ARRAY[%L, %L]) WITH ORDINALITY x(t, i) ORDER BY i', :'t1', :'t3'),
  $$VALUES ('EXPIRED'), ('ACTIVE')$$, 'admin.tick: the run-out turn is EXPIRED, the fresh waiter ACTIVE');
SELECT is(:tick_sold_out, 0, 'admin.tick: no queue sold out');
SELECT is(:tick_keys_purged, 1, 'admin.tick: purges idempotency keys older than 48 hours');
SELECT is((SELECT array_agg(key ORDER BY key) FROM ticket.idempotency_keys WHERE user_id = pg_temp.user_id(:'k1')), ARRAY['recent'],
  'admin.tick: keeps keys younger than that (kept at least 24 hours)');
SELECT is((SELECT n FROM ticket.error_counts WHERE code = 'TEST_TICK_CODE'), :n0 + 2::bigint,
  'admin.tick: folds the error log into error_counts');
SELECT is((SELECT count(*) FROM ticket.request_errors), 0::bigint, 'admin.tick: ... and empties the log');
SELECT results_eq('SELECT holds_expired, waiting_dropped, sold_out, admitted, keys_purged FROM pg_temp.tick()',
  $$VALUES (0, 0, 0, 0, 0)$$, 'admin.tick: a second run finds nothing to do');

-- A scripted sale: some pay, some cancel, some let the hold run out
SELECT admin.create_concert('Sale test', 'Hall', ARRAY[now() + interval '7 days'], p_seats => 10, p_max_seats_per_user => 2) AS s \gset
SELECT pg_temp.new_user('sale-1') AS u1, pg_temp.new_user('sale-2') AS u2, pg_temp.new_user('sale-3') AS u3,
       pg_temp.new_user('sale-4') AS u4, pg_temp.new_user('sale-5') AS u5, pg_temp.new_user('sale-6') AS u6 \gset
SELECT count(*) AS ok FROM (SELECT api.charge_wallet(k, 1000000, NULL) FROM unnest(ARRAY[:'u1', :'u2', :'u3', :'u4', :'u5', :'u6']) k) x \gset
SELECT pg_temp.join_queue(:'u1', :s) AS s1, pg_temp.join_queue(:'u2', :s) AS s2, pg_temp.join_queue(:'u3', :s) AS s3,
       pg_temp.join_queue(:'u4', :s) AS s4, pg_temp.join_queue(:'u5', :s) AS s5, pg_temp.join_queue(:'u6', :s) AS s6 \gset
SELECT pg_temp.hold(:'u1', :'s1', :s, '{1,2}') AS r1, pg_temp.hold(:'u2', :'s2', :s, '{3}') AS r2,
       pg_temp.hold(:'u3', :'s3', :s, '{4}') AS r3, pg_temp.hold(:'u4', :'s4', :s, '{5,6}') AS r4,
       pg_temp.hold(:'u5', :'s5', :s, '{7}') AS r5 \gset
SELECT (api.pay_reservation(:'u1', :'s1', :r1, NULL)).status AS ok \gset
SELECT (api.pay_reservation(:'u2', :'s2', :r2, 'sale-2')).status AS ok \gset
SELECT (api.cancel_reservation(:'u3', :'s3', :r3)).status AS ok \gset
SELECT pg_temp.hold_runs_out(:r4);
SELECT pg_temp.hold_runs_out(:r5);
SELECT pg_temp.hold(:'u6', :'s6', :s, '{7}') AS r6 \gset
SELECT (api.pay_reservation(:'u6', :'s6', :r6, NULL)).status AS ok \gset
SELECT pg_temp.hold(:'u3', :'s3', :s, '{4}') AS r3b \gset
SELECT is((SELECT count(*) FROM admin.check_invariants()), 0::bigint,
  'check_invariants: no violation after a scripted sale (paid, cancelled, expired and re-held), before the tick');
SELECT results_eq(format('SELECT seats, sold, held, available, revenue FROM admin.sales_report(%s)', :s),
  $$VALUES (10::bigint, 4::bigint, 1::bigint, 5::bigint, 560000::bigint)$$,
  'sales_report: 10 seats, 4 sold, 1 held, 5 available, revenue 3 x 150,000 + 110,000');
SELECT is((SELECT holds_expired FROM pg_temp.tick()), 2, 'admin.tick: the two run-out holds of the sale are expired');
SELECT results_eq(format('SELECT id, status FROM ticket.reservations WHERE concert_id = %s ORDER BY id', :s),
  format($$VALUES (%s::bigint, 'CONFIRMED'), (%s, 'CONFIRMED'), (%s, 'CANCELLED'), (%s, 'EXPIRED'), (%s, 'EXPIRED'), (%s, 'CONFIRMED'), (%s, 'HELD')$$,
         :r1, :r2, :r3, :r4, :r5, :r6, :r3b),
  'admin.tick: the sale''s reservations end CONFIRMED, CANCELLED, EXPIRED or stay HELD');
SELECT results_eq(format($$SELECT s.seat_no, s.sold, s.reservation_id FROM ticket.seats s JOIN ticket.concert_dates d ON d.id = s.date_id
                           WHERE d.concert_id = %s AND s.seat_no = 7$$, :s),
  format($$VALUES (7, true, %s::bigint)$$, :r6), 'admin.tick: expiring a hold leaves a seat re-sold to another alone');
SELECT is((SELECT count(*) FROM admin.check_invariants()), 0::bigint, 'check_invariants: no violation after the tick');
SELECT results_eq(format('SELECT seats, sold, held, available, revenue FROM admin.sales_report(%s)', :s),
  $$VALUES (10::bigint, 4::bigint, 1::bigint, 5::bigint, 560000::bigint)$$, 'sales_report: the same after the tick');
SELECT results_eq(format('SELECT on_date, seats, sold FROM admin.sales_report(%s)', :c),
  $$SELECT on_date, count(*), 0::bigint FROM ticket.concert_dates d JOIN ticket.seats s ON s.date_id = d.id
    WHERE d.concert_id = $$ || :c || $$ GROUP BY on_date ORDER BY on_date$$,
  'sales_report: one row per date, ascending');
SELECT results_eq('SELECT difference, charged - ' || :charged0 || ', paid - ' || :paid0 || ' FROM admin.books()',
  $$VALUES (0::bigint, 6000000::bigint, 560000::bigint)$$,
  'admin.books: charged - paid = balances (difference 0); this file charged 6,000,000 and sold 560,000');

-- Broken on purpose, one invariant at a time
UPDATE ticket.wallets SET balance = balance + 1 WHERE user_id = pg_temp.user_id(:'u4');
SELECT results_eq('SELECT invariant, split_part(detail, '':'', 1) FROM admin.check_invariants()',
  format($$VALUES ('balance equals ledger sum and is >= 0', 'user %s')$$, pg_temp.user_id(:'u4')),
  'check_invariants: a balance changed without a ledger row is one ''balance equals ledger sum'' row naming the user');
SELECT is((SELECT difference FROM admin.books()), -1::bigint, 'admin.books: ... and the books are 1 won off');
SELECT is(admin.record_invariants(), 1, 'record_invariants: stores and counts the one violation');
SELECT results_eq(format('SELECT invariant, checked_at FROM admin.violations() WHERE detail LIKE %L', format('user %s:%%', pg_temp.user_id(:'u4'))),
  $$VALUES ('balance equals ledger sum and is >= 0', now())$$, 'admin.violations: lists the recorded violation');
UPDATE ticket.wallets SET balance = balance - 1 WHERE user_id = pg_temp.user_id(:'u4');
UPDATE ticket.ledger SET balance_after = balance_after + 1
WHERE id = (SELECT max(id) FROM ticket.ledger WHERE user_id = pg_temp.user_id(:'u4'));
SELECT results_eq('SELECT invariant, split_part(detail, '':'', 1) FROM admin.check_invariants()',
  format($$VALUES ('balance equals ledger sum and is >= 0', 'user %s')$$, pg_temp.user_id(:'u4')),
  'check_invariants: a last ledger row whose balance_after is not the balance is a ''balance equals ledger sum'' row');
UPDATE ticket.ledger SET balance_after = balance_after - 1
WHERE id = (SELECT max(id) FROM ticket.ledger WHERE user_id = pg_temp.user_id(:'u4'));
SELECT pg_temp.new_user('audit-no-ledger') AS nl \gset
UPDATE ticket.wallets SET balance = 5 WHERE user_id = pg_temp.user_id(:'nl');
SELECT results_eq('SELECT invariant, detail FROM admin.check_invariants()',
  format($$VALUES ('balance equals ledger sum and is >= 0', 'user %s: balance 5, ledger sum 0, last balance_after ')$$, pg_temp.user_id(:'nl')),
  'check_invariants: a balance without any ledger row is a ''balance equals ledger sum'' row');
UPDATE ticket.wallets SET balance = 0 WHERE user_id = pg_temp.user_id(:'nl');
UPDATE ticket.seats SET sold = true, reservation_id = :r4
WHERE seat_no = 8 AND date_id = (SELECT date_id FROM ticket.reservations WHERE id = :r4);
SELECT is((SELECT array_agg(invariant) FROM admin.check_invariants()), ARRAY['sold seat has one confirmed, paid reservation'],
  'check_invariants: a seat marked sold without a payment is a ''sold seat'' row');
UPDATE ticket.seats SET sold = false, reservation_id = NULL
WHERE seat_no = 8 AND date_id = (SELECT date_id FROM ticket.reservations WHERE id = :r4);
UPDATE ticket.payments SET amount = amount + 1 WHERE reservation_id = :r2;
SELECT is((SELECT array_agg(invariant ORDER BY invariant) FROM admin.check_invariants()),
  ARRAY['confirmed reservation has its seats sold and one payment of its amount', 'payment has its debit'],
  'check_invariants: a payment not of the reservation''s amount (nor its debit''s) is a ''confirmed reservation'' and a ''payment has its debit'' row');
UPDATE ticket.payments SET amount = amount - 1 WHERE reservation_id = :r2;
UPDATE ticket.seats SET reservation_id = :r3, held_until = now() + interval '1 minute'
WHERE seat_no = 9 AND date_id = (SELECT date_id FROM ticket.reservations WHERE id = :r3);
SELECT is((SELECT array_agg(invariant) FROM admin.check_invariants()), ARRAY['held seat belongs to a live hold'],
  'check_invariants: a seat held for a cancelled reservation is a ''held seat'' row');
UPDATE ticket.seats SET reservation_id = NULL, held_until = NULL
WHERE seat_no = 9 AND date_id = (SELECT date_id FROM ticket.reservations WHERE id = :r3);
UPDATE ticket.queues SET admitted = admitted - 1 WHERE concert_id = :s;
SELECT is((SELECT array_agg(invariant) FROM admin.check_invariants()), ARRAY['queue counters match the tokens'],
  'check_invariants: a queue counter off by one is a ''queue counters'' row');
UPDATE ticket.queues SET admitted = admitted + 1 WHERE concert_id = :s;
SELECT admin.create_concert('Audit line', 'Hall', ARRAY[now() + interval '7 days'], p_max_active => 1) AS al \gset
SELECT count(pg_temp.join_queue(pg_temp.new_user('audit-line-' || i), :al)) FROM generate_series(1, 3) i;
SELECT (pg_temp.tick()).holds_expired AS ok \gset
SELECT is((SELECT count(*) FROM admin.check_invariants()), 0::bigint, 'check_invariants: one turn and two in line, settled, are healthy');
UPDATE ticket.queue_tokens SET status = 'LEFT', ended_at = now()
WHERE id = (SELECT min(id) FROM ticket.queue_tokens WHERE concert_id = :al AND status = 'WAITING');
SELECT results_eq('SELECT invariant, detail FROM admin.check_invariants()',
  format($$VALUES ('queue counters match the tokens',
                   'concert %s: 2 waiting up to seq 3 by counters, 1 by rows; 1 admitted by counter, 1 by rows')$$, :al),
  'check_invariants: a token gone from the line without a drop is a ''queue counters'' row, counted from the rows');
UPDATE ticket.queue_tokens SET status = 'WAITING', ended_at = NULL
WHERE id = (SELECT min(id) FROM ticket.queue_tokens WHERE concert_id = :al AND status = 'LEFT');
INSERT INTO ticket.queue_tokens (concert_id, user_id, token_hash, nonce, seq, status, ended_at)
SELECT concert_id, -1, sha256('audit-orphan'), nonce, NULL, 'LEFT', now()
FROM ticket.queue_tokens WHERE concert_id = :al LIMIT 1 RETURNING id AS orphan \gset
SELECT results_eq('SELECT invariant, detail FROM admin.check_invariants()',
  format($$VALUES ('a queue token has its concert and user', 'token %s')$$, :orphan),
  'check_invariants: a token of no user is an ''a queue token has its concert and user'' row');
DELETE FROM ticket.queue_tokens WHERE id = :orphan;
-- Turns admitted after the last settings change (moved back: now() is fixed in this transaction).
UPDATE ticket.concerts SET max_active = 1, queue_changed_at = now() - interval '1 minute' WHERE id = :s;
SELECT is((SELECT array_agg(invariant) FROM admin.check_invariants()), ARRAY['active tokens <= max_active'],
  'check_invariants: more active turns than max_active, admitted under that limit, is an ''active tokens'' row');
UPDATE ticket.concerts SET max_active = 100 WHERE id = :s;
SELECT is((SELECT count(*) FROM admin.check_invariants()), 0::bigint, 'check_invariants: healthy again once each break is undone');
SELECT is(admin.record_invariants(), 0, 'record_invariants: 0 when healthy');
SELECT is(admin.set_queue(:s, p_max_active => 1), 0, 'set_queue: an operator lowers max_active below the turns under way ...');
SELECT is((SELECT array_agg(invariant) FROM admin.check_invariants()), NULL,
  '... which is no invariant violation: nobody was admitted beyond max_active');

-- pg_cron
SELECT is((SELECT string_agg(format('%s | %s | %s | %s', jobname, schedule, command, database), E'\n' ORDER BY jobname)
           FROM cron.job WHERE jobname LIKE 'ticket-%') COLLATE "default",
  format(E'ticket-invariants | * * * * * | SELECT admin.record_invariants(now() - interval ''1 day'') | %1$s\nticket-invariants-all | 17 19 * * * | SELECT admin.record_invariants() | %1$s\nticket-recover-payments | * * * * * | SELECT admin.recover_payments() | %1$s\nticket-recover-refunds | * * * * * | SELECT admin.recover_refunds() | %1$s\nticket-tick | * * * * * | CALL admin.tick() | %1$s',
         current_database()),
  'pg_cron: ticket-tick, ticket-invariants (the last day), ticket-recover-payments and ticket-recover-refunds run every minute in this database, ticket-invariants-all nightly');
SELECT is((SELECT bool_and(active) FROM cron.job WHERE jobname LIKE 'ticket-%'), true, 'pg_cron: every job is active');
SELECT is((SELECT 'jit=off' = ANY (proconfig) FROM pg_proc WHERE oid = 'admin.check_invariants(timestamptz)'::regprocedure), true,
  'check_invariants: never JIT-compiled (compiling the audit cost a core for seconds each minute of a surge)');
SELECT is((SELECT 'max_parallel_workers_per_gather=0' = ANY (proconfig) FROM pg_proc WHERE oid = 'admin.check_invariants(timestamptz)'::regprocedure), true,
  'check_invariants: no parallel workers (on two cores they took the other core from the sale)');
-- The node's side is read once per query of the audit, not once per row it looks at.
SELECT admin.create_concert('Audit rows', 'Hall', ARRAY[now() + interval '7 days']) AS ac \gset
SELECT count(pg_temp.join_queue(pg_temp.new_user('audit-' || i), :ac)) FROM generate_series(1, 40) i;
SET LOCAL track_functions = 'all';
SELECT count(*) FROM admin.check_invariants();
SELECT cmp_ok((SELECT calls FROM pg_stat_xact_user_functions WHERE funcid = 'ticket.node_side()'::regprocedure), '<=', 7::bigint,
  'check_invariants: reads the node''s side at most once in each of its 7 queries, whatever the rows (40 tokens here)');

-- A past concert with nothing left to do is at rest: the tick does not walk it (a
-- catalogue keeps every past concert: 25,000 of them were 0.9 s a minute), and
-- tick_concert given one takes no lock (each was a WAL flush a minute). At each step
-- below, the concerts the tick walks are exactly those not at rest, none missed.
CREATE FUNCTION pg_temp.walk_differs() RETURNS bigint[] LANGUAGE sql AS $$
  SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM (
    (SELECT admin.concerts_to_tick() AS id EXCEPT SELECT id FROM ticket.concerts WHERE NOT ticket.concert_at_rest(id))
    UNION ALL
    (SELECT id FROM ticket.concerts WHERE NOT ticket.concert_at_rest(id) EXCEPT SELECT admin.concerts_to_tick())) x
$$;
SELECT admin.create_concert('At rest', 'Hall', ARRAY[now() + interval '7 days'], p_seats => 2) AS rc \gset
SELECT is(ticket.concert_at_rest(:rc), false, 'concert_at_rest: not while a date is ahead');
SELECT is(pg_temp.walk_differs(), '{}', 'concerts_to_tick: every concert not at rest, and only those (one with a date ahead)');
UPDATE ticket.concert_dates SET starts_at = now() - interval '1 day' WHERE concert_id = :rc;
SELECT is(ticket.concert_at_rest(:rc), false, 'concert_at_rest: not before a tick has found the past concert sold out');
SELECT is(pg_temp.walk_differs(), '{}', 'concerts_to_tick: ... a past one not yet found sold out');
SAVEPOINT found;
SELECT sold_out AS rs FROM admin.tick_concert(:rc) \gset
SELECT is(:rs, 1, 'tick_concert: a concert with no date ahead is found sold out');
ROLLBACK TO found;  -- and its queue row locked: found sold out again below, unlocked
UPDATE ticket.queues SET sold_out = true WHERE concert_id = :rc;
SELECT is(ticket.concert_at_rest(:rc), true, 'concert_at_rest: a past concert found sold out, with nobody in its queue and no hold');
SELECT is((SELECT count(*) FROM admin.concerts_to_tick() i WHERE i = :rc), 0::bigint, 'concerts_to_tick: not the concert at rest');
SELECT is(pg_temp.walk_differs(), '{}', 'concerts_to_tick: ... nor any other at rest');
SELECT * FROM admin.tick_concert(:rc);
SELECT is((SELECT xmax FROM ticket.queues WHERE concert_id = :rc), '0'::xid, 'tick_concert: ... whose queue row it leaves unlocked');
SELECT pg_temp.join_queue(pg_temp.new_user('rest-' || s), :rc) FROM unnest(ARRAY['a', 'b']) s;
UPDATE ticket.queue_tokens SET status = 'PRE_QUEUE', seq = NULL, activated_at = NULL, expires_at = NULL
WHERE id = (SELECT min(id) FROM ticket.queue_tokens WHERE concert_id = :rc);
SELECT results_eq(format($$SELECT status, ticket.concert_at_rest(%1$s) FROM (VALUES ('PRE_QUEUE'), ('WAITING'), ('ACTIVE')) s(status)
                            WHERE EXISTS (SELECT 1 FROM ticket.queue_tokens WHERE concert_id = %1$s AND status = s.status)$$, :rc),
  $$VALUES ('PRE_QUEUE', false), ('WAITING', false)$$,
  'concert_at_rest: not with anyone in its pre-queue or line');
SELECT is(pg_temp.walk_differs(), '{}', 'concerts_to_tick: ... the past one with a pre-queue entry and a waiting token');
UPDATE ticket.queue_tokens SET status = 'ACTIVE', activated_at = now(), expires_at = now() + interval '1 minute'
WHERE concert_id = :rc AND status = 'WAITING';
UPDATE ticket.queue_tokens SET status = 'LEFT', ended_at = now() WHERE concert_id = :rc AND status = 'PRE_QUEUE';
SELECT is(ticket.concert_at_rest(:rc), false, 'concert_at_rest: not with an ACTIVE turn');
SELECT is(pg_temp.walk_differs(), '{}', 'concerts_to_tick: ... with an ACTIVE turn');
UPDATE ticket.queue_tokens SET status = 'DONE', ended_at = now() WHERE concert_id = :rc AND status = 'ACTIVE';
SELECT is(ticket.concert_at_rest(:rc), true, 'concert_at_rest: ... again once every token has ended');
SELECT is(pg_temp.walk_differs(), '{}', 'concerts_to_tick: ... again without it once every token has ended');
UPDATE ticket.concerts SET sale_opens_at = now() - interval '2 days', shuffle_commitment = sha256('x') WHERE id = :rc;
SELECT is(ticket.concert_at_rest(:rc), false, 'concert_at_rest: not with a sale time never opened');
SELECT is(pg_temp.walk_differs(), '{}', 'concerts_to_tick: ... with it');
UPDATE ticket.concerts SET sale_opens_at = NULL, shuffle_commitment = NULL WHERE id = :rc;
INSERT INTO ticket.reservations (user_id, concert_id, date_id, status, amount, expires_at)
SELECT t.user_id, :rc, d.id, 'HELD', 1000, now() + interval '1 minute'
FROM ticket.queue_tokens t, ticket.concert_dates d WHERE t.concert_id = :rc AND d.concert_id = :rc LIMIT 1;
SELECT is(ticket.concert_at_rest(:rc), false, 'concert_at_rest: not with a hold to expire');
SELECT is(pg_temp.walk_differs(), '{}', 'concerts_to_tick: ... with a hold to expire');

-- admin.queue_report reads the sequence of no concert at rest: reading one locks it to
-- the end of the transaction, and six reports of 25,000 past concerts at once filled the
-- server's lock table (out of shared memory). Twenty past concerts at rest here, whose
-- sequences were created in this transaction (AccessExclusiveLock); reading one would
-- add RowExclusiveLock.
SELECT array_agg(admin.create_concert('Report past ' || i, 'Hall', ARRAY[now() + interval '1 day'], p_seats => 1)) AS rp
FROM generate_series(1, 20) i \gset
SELECT (:'rp'::bigint[])[1] AS rq \gset
-- The first had three joins and a fourth that rolled back (a hole), then its last tick.
SELECT pg_temp.join_queue(pg_temp.new_user('report-' || i), :rq) FROM generate_series(1, 3) i;
SELECT nextval(ticket.queue_seq(:rq));
UPDATE ticket.concert_dates SET starts_at = now() - interval '1 day' WHERE concert_id = ANY (:'rp');
UPDATE ticket.queue_tokens SET status = 'DONE', ended_at = now() WHERE concert_id = :rq AND status = 'ACTIVE';
UPDATE ticket.queue_tokens SET status = 'LEFT', ended_at = now() WHERE concert_id = :rq AND status = 'WAITING';
SELECT sold_out AS rs FROM admin.tick_concert(:rq) \gset
UPDATE ticket.queues SET sold_out = true WHERE concert_id = ANY (:'rp');
SELECT is((SELECT count(*) FROM unnest(:'rp'::bigint[]) id WHERE ticket.concert_at_rest(id)), 20::bigint,
  'queue_report: twenty past concerts at rest');
SELECT count(*) FROM admin.queue_report();
SELECT is((SELECT count(*) FROM pg_locks l
           WHERE l.pid = pg_backend_pid() AND l.mode = 'RowExclusiveLock' AND l.locktype = 'relation'
             AND l.relation IN (SELECT ticket.queue_seq(id) FROM unnest((:'rp'::bigint[])[2:]) id)),
          0::bigint, 'queue_report(): no lock taken on the queue sequence of a concert at rest');
SELECT results_eq(format('SELECT joined, settled, admitted FROM admin.queue_report(%s)', :rq),
  format('VALUES (%s::bigint, 3::bigint, %s::bigint)', pg_sequence_last_value(ticket.queue_seq(:rq)),
         (SELECT admitted FROM ticket.queues WHERE concert_id = :rq)),
  'queue_report: a concert at rest counts every seq its sequence handed out, the hole its last tick saw too (4)');
SELECT is((SELECT array_agg(DISTINCT joined) FROM admin.queue_report() WHERE concert_id = ANY ((:'rp'::bigint[])[2:])),
  ARRAY[0::bigint], 'queue_report: ... and none for a concert nobody joined');

SELECT * FROM finish();
ROLLBACK;
