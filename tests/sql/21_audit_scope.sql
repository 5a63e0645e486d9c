-- The minute's invariant audit, admin.check_invariants(p_since): the concerts and users
-- whose rows the functions can have changed since p_since (ticket.audit_scope), and
-- nothing of a past at rest. The full audit (no argument) is tests/sql/09_admin.sql's.
BEGIN;
SELECT plan(26);
\ir fixtures.psql

SELECT holds_expired AS flushed FROM pg_temp.tick() \gset
-- What the other test files left is made twenty days older, so that this file's day is
-- its own (how much else changed today decides whether the audit looks at everyone).
UPDATE ticket.payments SET created_at = created_at - interval '20 days';
UPDATE ticket.refunds SET created_at = created_at - interval '20 days' WHERE NOT (amount > 0 AND ledger_id IS NULL);
UPDATE ticket.users SET created_at = created_at - interval '20 days';
UPDATE ticket.ledger SET created_at = created_at - interval '20 days';

-- ticket.first_id_since on a table of its own: ids and times as the tables have them.
CREATE TABLE pg_temp.rows (id bigint PRIMARY KEY, created_at timestamptz NOT NULL);
SELECT is(ticket.first_id_since('pg_temp.rows', now() - interval '1 day'), 0::bigint,
  'first_id_since: an empty table, 0 (below every id)');
INSERT INTO pg_temp.rows SELECT n, now() - interval '30 days' + make_interval(mins => n) FROM generate_series(1, 10) n;
SELECT is(ticket.first_id_since('pg_temp.rows', now() - interval '1 day'), 11::bigint,
  'first_id_since: nothing recent, past the last id');
INSERT INTO pg_temp.rows SELECT n, now() - interval '2 hours' + make_interval(secs => n) FROM generate_series(11, 2600) n;
SELECT is(ticket.first_id_since('pg_temp.rows', now() - interval '1 hour'), 11::bigint,
  'first_id_since: 2,590 rows of the last two hours (three batches), with an hour of slack: the first of them');
SELECT is(ticket.first_id_since('pg_temp.rows', now() - interval '1 day'), 11::bigint,
  'first_id_since: the first row of the window, not the oldest row');
DELETE FROM pg_temp.rows WHERE id <= 10;
SELECT is(ticket.first_id_since('pg_temp.rows', now() - interval '1 day'), 11::bigint,
  'first_id_since: every row recent, the first row');
SELECT is(ticket.first_id_since('pg_temp.rows', now() - interval '1 day', 2000), NULL,
  'first_id_since: NULL once more rows than it may walk are recent');
SELECT is(ticket.first_id_since('pg_temp.rows', now() - interval '1 day', 3000), 11::bigint,
  'first_id_since: the first row when they are fewer');

-- A concert of two weeks ago, sold, at rest; another on sale now. Each has two buyers.
SELECT admin.create_concert('Audit past', 'Hall', ARRAY[now() + interval '7 days', now() + interval '8 days', now() + interval '9 days'],
                            p_seats => 10000) AS old \gset
SELECT pg_temp.new_user('audit-old-1') AS o1, pg_temp.new_user('audit-old-2') AS o2 \gset
SELECT count(*) AS ok FROM (SELECT api.charge_wallet(k, 500000, NULL) FROM unnest(ARRAY[:'o1', :'o2']) k) x \gset
SELECT pg_temp.join_queue(:'o1', :old) AS ot1, pg_temp.join_queue(:'o2', :old) AS ot2 \gset
SELECT pg_temp.hold(:'o1', :'ot1', :old, '{1}') AS or1, pg_temp.hold(:'o2', :'ot2', :old, '{2}') AS or2 \gset
SELECT (api.pay_reservation(:'o1', :'ot1', :or1, NULL)).status AS ok \gset
SELECT (api.pay_reservation(:'o2', :'ot2', :or2, NULL)).status AS ok \gset
-- 3,000 of its line left long ago.
INSERT INTO ticket.queue_tokens (concert_id, user_id, token_hash, nonce, seq, status, ended_at)
SELECT :old, pg_temp.user_id(:'o1'), gen_random_bytes(32), gen_random_bytes(16), NULL, 'LEFT', now() FROM generate_series(1, 3000);
-- Everything it did, twenty days earlier; the tick found it sold out after its date.
UPDATE ticket.concerts SET created_at = created_at - interval '20 days', queue_changed_at = queue_changed_at - interval '20 days',
  holds_changed_at = holds_changed_at - interval '20 days' WHERE id = :old;
UPDATE ticket.concert_dates SET starts_at = starts_at - interval '20 days' WHERE concert_id = :old;
UPDATE ticket.queues SET sold_out = true WHERE concert_id = :old;
UPDATE ticket.reservations SET created_at = created_at - interval '20 days', expires_at = expires_at - interval '20 days',
  ended_at = ended_at - interval '20 days' WHERE concert_id = :old;
UPDATE ticket.payments SET created_at = created_at - interval '20 days' WHERE reservation_id IN (:or1, :or2);
UPDATE ticket.queue_tokens SET created_at = created_at - interval '20 days', last_seen_at = last_seen_at - interval '20 days',
  activated_at = activated_at - interval '20 days', expires_at = expires_at - interval '20 days',
  ended_at = ended_at - interval '20 days' WHERE concert_id = :old;
UPDATE ticket.users SET created_at = created_at - interval '20 days' WHERE id IN (pg_temp.user_id(:'o1'), pg_temp.user_id(:'o2'));
UPDATE ticket.ledger SET created_at = created_at - interval '20 days' WHERE user_id IN (pg_temp.user_id(:'o1'), pg_temp.user_id(:'o2'));

SELECT admin.create_concert('Audit now', 'Hall', ARRAY[now() + interval '7 days']) AS new \gset
SELECT pg_temp.new_user('audit-new-1') AS n1, pg_temp.new_user('audit-new-2') AS n2 \gset
SELECT count(*) AS ok FROM (SELECT api.charge_wallet(k, 500000, NULL) FROM unnest(ARRAY[:'n1', :'n2']) k) x \gset
SELECT pg_temp.join_queue(:'n1', :new) AS nt1, pg_temp.join_queue(:'n2', :new) AS nt2 \gset
SELECT pg_temp.hold(:'n1', :'nt1', :new, '{1}') AS nr1, pg_temp.hold(:'n2', :'nt2', :new, '{2}') AS nr2 \gset
SELECT (api.pay_reservation(:'n1', :'nt1', :nr1, NULL)).status AS ok \gset

SELECT is(ticket.concert_at_rest(:old), true, 'the past concert is at rest: the tick has nothing left to do for it');
CREATE FUNCTION pg_temp.scope() RETURNS TABLE (concerts bigint[], users bigint[]) LANGUAGE sql AS $$
  SELECT concerts, users FROM ticket.audit_scope(now() - interval '1 day')
$$;
SELECT is((SELECT ARRAY[:new = ANY (concerts), :old = ANY (concerts)] FROM pg_temp.scope()), ARRAY[true, false],
  'audit_scope: the concert on sale, not the one at rest for two weeks');
SELECT is((SELECT ARRAY(SELECT pg_temp.user_id(k) = ANY (users) FROM unnest(ARRAY[:'n1', :'n2', :'o1', :'o2']) k) FROM pg_temp.scope()),
  ARRAY[true, true, false, false], 'audit_scope: the users who charged and paid today, not those idle for two weeks');
SELECT is((SELECT count(*) FROM admin.check_invariants(now() - interval '1 day')), 0::bigint,
  'check_invariants(since): no violation in a healthy database');

-- The same breaks on both sides: the full audit finds all; the minute's only today's.
CREATE FUNCTION pg_temp.break_all(p_concert bigint, p_key text, p_reservation bigint, p_by int) RETURNS void LANGUAGE sql AS $$
  UPDATE ticket.wallets SET balance = balance + p_by WHERE user_id = pg_temp.user_id(p_key);
  UPDATE ticket.seats SET sold = (p_by = 1), reservation_id = CASE WHEN p_by = 1 THEN p_reservation END
  WHERE seat_no = 5 AND date_id = (SELECT date_id FROM ticket.reservations WHERE id = p_reservation);
  UPDATE ticket.payments SET amount = amount + p_by WHERE reservation_id = p_reservation;
  UPDATE ticket.queues SET admitted = admitted - p_by WHERE concert_id = p_concert;
$$;
SELECT pg_temp.break_all(:old, :'o1', :or1, 1), pg_temp.break_all(:new, :'n1', :nr1, 1);
CREATE FUNCTION pg_temp.found(p_since timestamptz) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT invariant || ' / ' || split_part(detail, ':', 1) FROM admin.check_invariants(p_since) ORDER BY 1
$$;
CREATE FUNCTION pg_temp.expected(p_concert bigint, p_key text, p_reservation bigint) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT x FROM unnest(ARRAY[
    format('balance equals ledger sum and is >= 0 / user %s', pg_temp.user_id(p_key)),
    format('confirmed reservation has its seats sold and one payment of its amount / reservation %s', p_reservation),
    (SELECT format('payment has its debit / payment %s (%s)', id, ref) FROM ticket.payments WHERE reservation_id = p_reservation),
    format('queue counters match the tokens / concert %s', p_concert),
    (SELECT format('sold seat has one confirmed, paid reservation / seat %s (reservation %s)', s.id, p_reservation)
     FROM ticket.seats s JOIN ticket.reservations r ON r.date_id = s.date_id WHERE r.id = p_reservation AND s.seat_no = 5)]) x
$$;
SELECT set_eq('SELECT * FROM pg_temp.found(NULL)',
  format('SELECT * FROM pg_temp.expected(%s, %L, %s) UNION ALL SELECT * FROM pg_temp.expected(%s, %L, %s)',
         :old, :'o1', :or1, :new, :'n1', :nr1),
  'check_invariants(): five breaks of the past concert and its buyer, five of today''s, all found');
SELECT set_eq($$SELECT * FROM pg_temp.found(now() - interval '1 day')$$,
  format('SELECT * FROM pg_temp.expected(%s, %L, %s)', :new, :'n1', :nr1),
  'check_invariants(since): today''s five, each with the full audit''s detail, and nothing of the past at rest');

-- Rows read by the parts for today's concert and buyers (ticket.invariants_of, the
-- scope given: other files' concerts of today are in audit_scope's), not the past's
-- 3,000 tokens and 30,000 seats. With sequential scans discouraged, as the planner does
-- on a table of millions: here, with a few sold or held seats, it reads the table
-- whole and is right to.
CREATE FUNCTION pg_temp.fetched(p_table regclass) RETURNS bigint LANGUAGE sql AS $$
  SELECT coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0) FROM pg_stat_xact_user_tables WHERE relid = p_table
$$;
SELECT pg_temp.fetched('ticket.queue_tokens') AS tokens0, pg_temp.fetched('ticket.seats') AS seats0 \gset
SET LOCAL enable_seqscan = off;
SELECT count(*) FROM ticket.invariants_of(ARRAY[:new]::bigint[], ARRAY[pg_temp.user_id(:'n1'), pg_temp.user_id(:'n2')]);
RESET enable_seqscan;
SELECT pg_temp.fetched('ticket.queue_tokens') AS tokens1, pg_temp.fetched('ticket.seats') AS seats1 \gset
SELECT count(*) FROM admin.check_invariants();
SELECT pg_temp.fetched('ticket.queue_tokens') AS tokens2, pg_temp.fetched('ticket.seats') AS seats2 \gset
SELECT cmp_ok((:tokens1 - :tokens0)::bigint, '<', 3000::bigint,
  format('invariants_of(today): reads fewer tokens than the past concert''s 3,000 (%s; the full audit %s)',
         :tokens1 - :tokens0, :tokens2 - :tokens1));
SELECT cmp_ok((:seats1 - :seats0)::bigint, '<', 1000::bigint,
  format('invariants_of(today): reads fewer seats than a date of the past concert, 10,000 of its 30,000 (%s; the full audit %s)',
         :seats1 - :seats0, :seats2 - :seats1));
SELECT cmp_ok((:tokens2 - :tokens1)::bigint, '>=', 3000::bigint, 'check_invariants(): reads every token, the past''s too');

-- What brings the past back: an operator's refund (whatever the deadline) of the other
-- buyer's ticket. The concert's breaks are found again; the first buyer, idle, is not.
SELECT pg_temp.break_all(:new, :'n1', :nr1, -1);
SELECT (admin.refund(:or2, 'the show was cancelled')->>'status') AS ok \gset
SELECT is((SELECT ARRAY[:old = ANY (concerts), pg_temp.user_id(:'o2') = ANY (users), pg_temp.user_id(:'o1') = ANY (users)]
           FROM pg_temp.scope()), ARRAY[true, true, false],
  'audit_scope: a refund today brings its concert and its buyer back, not the concert''s other buyer');
SELECT set_eq($$SELECT * FROM pg_temp.found(now() - interval '1 day')$$,
  format('SELECT * FROM pg_temp.expected(%s, %L, %s) EXCEPT SELECT format(''balance equals ledger sum and is >= 0 / user %%s'', %s)',
         :old, :'o1', :or1, pg_temp.user_id(:'o1')),
  'check_invariants(since): the concert''s four breaks are found again, the idle buyer''s balance is left to the nightly audit');
SELECT pg_temp.break_all(:old, :'o1', :or1, -1);
SELECT is((SELECT count(*) FROM admin.check_invariants()), 0::bigint, 'check_invariants(): healthy once the breaks are undone');

-- A payment PAYING (its recovery pending) keeps its concert and user in scope; so does
-- a change of the concert's settings, or a date added to it.
SELECT admin.create_concert('Audit past 2', 'Hall', ARRAY[now() + interval '7 days']) AS old2 \gset
UPDATE ticket.concerts SET created_at = created_at - interval '20 days', queue_changed_at = queue_changed_at - interval '20 days',
  holds_changed_at = holds_changed_at - interval '20 days' WHERE id = :old2;
UPDATE ticket.concert_dates SET starts_at = starts_at - interval '20 days' WHERE concert_id = :old2;
UPDATE ticket.queues SET sold_out = true WHERE concert_id = :old2;
SELECT is((SELECT :old2 = ANY (concerts) FROM pg_temp.scope()), false, 'audit_scope: a second past concert, at rest, is not');
SELECT admin.set_queue(:old2, p_max_active => 10) AS ok \gset
SELECT is((SELECT :old2 = ANY (concerts) FROM pg_temp.scope()), true, 'audit_scope: its queue settings changed today, it is');
UPDATE ticket.concerts SET queue_changed_at = queue_changed_at - interval '20 days' WHERE id = :old2;
SELECT admin.add_date(:old2, now() + interval '30 days') AS ok \gset
SELECT is((SELECT :old2 = ANY (concerts) FROM pg_temp.scope()), true, 'audit_scope: a date added ahead, it is');
UPDATE ticket.reservations SET status = 'PAYING', paying_since = now() - interval '20 days', payment_ref = 'audit-paying', ended_at = NULL
WHERE id = :or1;
SELECT is((SELECT ARRAY[:old = ANY (concerts), pg_temp.user_id(:'o1') = ANY (users)] FROM pg_temp.scope()), ARRAY[true, true],
  'audit_scope: a payment PAYING, whatever its age, keeps its concert and its user');

-- A day when a twentieth of the wallets (a thousand at least) changed: every user is
-- looked at, in one pass, the idle buyer's balance too.
UPDATE ticket.reservations SET status = 'CONFIRMED', paying_since = NULL, ended_at = now() - interval '20 days',
  payment_ref = (SELECT ref FROM ticket.payments WHERE reservation_id = :or1) WHERE id = :or1;
SELECT pg_temp.break_all(:old, :'o1', :or1, 1);
SELECT ok(format('balance equals ledger sum and is >= 0 / user %s', pg_temp.user_id(:'o1')) NOT IN (SELECT * FROM pg_temp.found(now() - interval '1 day')),
  'check_invariants(since): on a quiet day the idle buyer''s balance is left to the nightly audit');
ANALYZE ticket.wallets;
SELECT count(pg_temp.new_user('audit-crowd-' || i)) AS ok FROM generate_series(1, greatest(1001, (SELECT count(*) FROM ticket.wallets) / 20 + 1)) i \gset
SELECT is((SELECT users FROM pg_temp.scope()), NULL, 'audit_scope: a thousand or more users since, every user (NULL)');
SELECT ok(format('balance equals ledger sum and is >= 0 / user %s', pg_temp.user_id(:'o1')) IN (SELECT * FROM pg_temp.found(now() - interval '1 day')),
  'check_invariants(since): with every user looked at, the idle buyer''s balance is found');
SELECT pg_temp.break_all(:old, :'o1', :or1, -1);

SELECT * FROM finish();
ROLLBACK;
