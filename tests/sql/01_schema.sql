-- Schema: schemas and tables exist, and the constraints that hold even if a function
-- were wrong (migrations/0002_tables.sql: no seat held or sold twice, no negative balance).
BEGIN;
SELECT plan(36);

-- Fixture: a concert with one date of 4 seats, a user admitted to its queue holding seat 1.
SELECT admin.create_concert('Schema test', 'Hall', ARRAY[now() + interval '7 days'], p_seats => 4) AS c \gset
SELECT id AS d_id, on_date AS d FROM ticket.concert_dates WHERE concert_id = :c \gset
SELECT (api.create_user('schema-a')).body->>'api_key' AS a \gset
SELECT (api.create_user('schema-b')).body->>'api_key' AS b \gset
SELECT id AS a_id FROM ticket.users WHERE api_key_hash = sha256(convert_to(:'a', 'UTF8')) \gset
SELECT id AS b_id FROM ticket.users WHERE api_key_hash = sha256(convert_to(:'b', 'UTF8')) \gset
SELECT (api.issue_token(:'a', :c)).body->>'token' AS a_t \gset
SELECT (api.hold_seat(:'a', :'a_t', :c, :'d', '{1}')).body->>'reservation_id' AS r1 \gset
SELECT id AS seat1 FROM ticket.seats WHERE date_id = :d_id AND seat_no = 1 \gset
SELECT id AS seat2 FROM ticket.seats WHERE date_id = :d_id AND seat_no = 2 \gset
-- A second reservation row written directly, as a wrong function might.
INSERT INTO ticket.reservations (user_id, concert_id, date_id, status, amount, expires_at)
VALUES (:b_id, :c, :d_id, 'HELD', 150000, now() + interval '5 minutes') RETURNING id AS r2 \gset

-- Schemas and tables
SELECT has_schema('ticket', 'schema ticket holds the private tables');
SELECT has_schema('api', 'schema api holds the HTTP functions');
SELECT has_schema('admin', 'schema admin holds the DBA functions');
SELECT has_type('api', 'reply', 'api.reply is the composite every api.* function returns');
SELECT columns_are('api', 'reply', ARRAY['status', 'body', 'retry_after'],
  'api.reply has status, body and retry_after');
SELECT tables_are('ticket', ARRAY['users', 'wallets', 'concerts', 'queues', 'queue_drops', 'queue_tokens',
                                  'concert_dates', 'reservations', 'seats', 'reservation_seats', 'ledger',
                                  'payments', 'debits', 'refunds', 'credits', 'idempotency_keys', 'request_errors', 'error_counts',
                                  'invariant_violations', 'sale_seeds', 'pre_queue_ranks', 'node', 'schema_migrations'],
  'schema ticket has exactly the service tables (and schema_migrations)');
SELECT tables_are('api', ARRAY[]::name[], 'schema api has no tables');
SELECT tables_are('admin', ARRAY[]::name[], 'schema admin has no tables');

-- Exclusion constraint on live claims
SELECT throws_ok(
  format($$INSERT INTO ticket.reservation_seats (reservation_id, seat_id, claim)
           VALUES (%s, %s, tstzrange(now(), now() + interval '5 minutes'))$$, :r2, :seat1),
  '23P01', NULL,
  'one_claim_per_seat: a second live claim of a held seat is refused even when inserted directly');
SELECT throws_ok(
  format($$INSERT INTO ticket.reservation_seats (reservation_id, seat_id, claim)
           VALUES (%s, %s, tstzrange(now() + interval '1 minute', NULL))$$, :r2, :seat1),
  '23P01', NULL,
  'one_claim_per_seat: an open-ended (sale) claim overlapping a live hold is refused');
SELECT lives_ok(
  format($$INSERT INTO ticket.reservation_seats (reservation_id, seat_id, claim)
           SELECT %s, %s, tstzrange(upper(claim), upper(claim) + interval '5 minutes')
           FROM ticket.reservation_seats WHERE reservation_id = %s$$, :r2, :seat1, :r1),
  'one_claim_per_seat: a claim starting when the hold ends does not overlap it');
SELECT lives_ok(
  format($$INSERT INTO ticket.reservation_seats (reservation_id, seat_id, claim)
           VALUES (%s, %s, tstzrange(now(), NULL))$$, :r2, :seat2),
  'one_claim_per_seat: a claim on a free seat is accepted');
SELECT throws_ok(
  format($$INSERT INTO ticket.reservation_seats (reservation_id, seat_id, claim)
           VALUES (%s, %s, tstzrange(now() + interval '1 year', now() + interval '2 years'))$$, :r1, :seat2),
  '23P01', NULL,
  'one_claim_per_seat: nothing can claim a sold seat (open-ended claim) at any later time');
SELECT throws_ok(
  format($$UPDATE ticket.seats SET sold = true WHERE id = %s$$, :seat1),
  '23514', NULL, 'seats: a seat cannot be sold and held at once (held_until must be NULL when sold)');
SELECT throws_ok(
  format($$UPDATE ticket.seats SET reservation_id = NULL WHERE id = %s$$, :seat1),
  '23514', NULL, 'seats: a held seat must name its reservation');
SELECT throws_ok(
  format($$INSERT INTO ticket.seats (date_id, seat_no, price) VALUES (%s, 1, 1000)$$, :d_id),
  '23505', NULL, 'seats: a seat number exists once per date');

-- Wallet and ledger
SELECT throws_ok(
  format($$UPDATE ticket.wallets SET balance = -1 WHERE user_id = %s$$, :a_id),
  '23514', NULL, 'wallets.balance >= 0: a balance can never go negative');
SELECT throws_ok(
  format($$SELECT ticket.post_ledger(%s, 'PAYMENT', 1)$$, :a_id),
  '23514', NULL, 'ticket.post_ledger: a payment above the balance is refused by the balance check');
SELECT throws_ok(
  format($$INSERT INTO ticket.ledger (user_id, type, amount, balance_after) VALUES (%s, 'CHARGE', 0, 0)$$, :a_id),
  '23514', NULL, 'ledger.amount > 0: a ledger row moves a positive amount');
SELECT throws_ok(
  format($$INSERT INTO ticket.ledger (user_id, type, amount, balance_after) VALUES (%s, 'PAYMENT', 5, 0)$$, :a_id),
  '23514', NULL, 'ledger: a PAYMENT row must name its reservation (only CHARGE has none)');

-- Payments: one per reservation
SELECT col_is_unique('ticket', 'payments', 'reservation_id', 'payments.reservation_id is unique: a reservation is paid at most once');
SELECT col_is_unique('ticket', 'payments', 'ledger_id', 'payments.ledger_id is unique: one payment per ledger row');
INSERT INTO ticket.ledger (user_id, type, amount, balance_after) VALUES (:a_id, 'CHARGE', 300000, 300000);
UPDATE ticket.wallets SET balance = 300000 WHERE user_id = :a_id;
INSERT INTO ticket.ledger (user_id, type, amount, balance_after, reservation_id)
VALUES (:a_id, 'PAYMENT', 150000, 150000, :r1) RETURNING id AS l1 \gset
INSERT INTO ticket.ledger (user_id, type, amount, balance_after, reservation_id)
VALUES (:a_id, 'PAYMENT', 150000, 0, :r1) RETURNING id AS l2 \gset
SELECT lives_ok(
  format($$INSERT INTO ticket.payments (reservation_id, user_id, amount, ledger_id, ref) VALUES (%s, %s, 150000, %s, 'p1')$$,
         :r1, :a_id, :l1),
  'payments: the first payment of a reservation is accepted');
SELECT throws_ok(
  format($$INSERT INTO ticket.payments (reservation_id, user_id, amount, ledger_id, ref) VALUES (%s, %s, 150000, %s, 'p2')$$,
         :r1, :a_id, :l2),
  '23505', NULL, 'payments.reservation_id unique: a second payment of the same reservation is refused');

-- Queue tokens: one live token per (user, concert)
SELECT throws_ok(
  format($$INSERT INTO ticket.queue_tokens (concert_id, user_id, token_hash, nonce, seq, status)
           VALUES (%s, %s, sha256('x'::bytea), gen_random_bytes(16), 1000, 'WAITING')$$, :c, :a_id),
  '23505', NULL, 'queue_tokens_one_live: a user cannot have a second live token for a concert');
SELECT lives_ok(
  format($$INSERT INTO ticket.queue_tokens (concert_id, user_id, token_hash, nonce, seq, status, ended_at)
           VALUES (%s, %s, sha256('y'::bytea), gen_random_bytes(16), 1001, 'LEFT', now())$$, :c, :a_id),
  'queue_tokens_one_live: ended tokens of the same user and concert may exist beside the live one');
SELECT throws_ok(
  format($$INSERT INTO ticket.queue_tokens (concert_id, user_id, token_hash, nonce, seq, status)
           VALUES (%s, %s, sha256('z'::bytea), gen_random_bytes(16), 1, 'WAITING')$$, :c, :b_id),
  '23505', NULL, 'queue_tokens: arrival numbers (seq) are unique per concert');
SELECT throws_ok(
  format($$INSERT INTO ticket.queue_tokens (concert_id, user_id, token_hash, nonce, seq, status)
           VALUES (%s, %s, sha256('w'::bytea), gen_random_bytes(16), 1002, 'ACTIVE')$$, :c, :b_id),
  '23514', NULL, 'queue_tokens: an ACTIVE token must have activated_at and expires_at');

-- queue_tokens' rules are one function (migration 0015): it must pass exactly the rows
-- the nine CHECKs it replaced passed, written here as they were, on every combination
-- of the values each rule looks at.
CREATE TEMP TABLE token_rows AS
SELECT st, sq, act, exp, ended, eid, nonce, hash
FROM unnest(ARRAY['PRE_QUEUE', 'WAITING', 'ACTIVE', 'DONE', 'EXPIRED', 'LEFT', 'SOLD_OUT', 'waiting', NULL]) st,
     unnest(ARRAY[NULL, -1, 0, 1, 7]::bigint[]) sq,
     unnest(ARRAY[NULL, now()]) act, unnest(ARRAY[NULL, now()]) exp, unnest(ARRAY[NULL, now()]) ended,
     unnest(ARRAY['AbCdEfGh_-012345', 'AbCdEfGh_-01234', 'AbCdEfGh_-0123456', 'AbCdEfGh+-012345', NULL]) eid,
     unnest(ARRAY[gen_random_bytes(16), gen_random_bytes(15), NULL]) nonce,
     unnest(ARRAY[sha256('a'), '\x00'::bytea, NULL]) hash;
SELECT is((SELECT count(*) FROM token_rows
           WHERE ticket.queue_token_valid(st, sq, act, exp, ended, eid, nonce, hash) IS NOT FALSE
                 IS DISTINCT FROM (
                   (st IN ('PRE_QUEUE', 'WAITING', 'ACTIVE', 'DONE', 'EXPIRED', 'LEFT', 'SOLD_OUT')) IS NOT FALSE
               AND ((st IN ('PRE_QUEUE', 'WAITING', 'ACTIVE')) = (ended IS NULL)) IS NOT FALSE
               AND ((act IS NULL) = (exp IS NULL)) IS NOT FALSE
               AND (st <> 'ACTIVE' OR act IS NOT NULL) IS NOT FALSE
               AND (sq > 0) IS NOT FALSE
               AND (sq IS NOT NULL OR (st IN ('PRE_QUEUE', 'LEFT') AND act IS NULL)) IS NOT FALSE
               AND (eid ~ '^[A-Za-z0-9_-]+$' AND length(eid) = 16) IS NOT FALSE
               AND (octet_length(nonce) = 16) IS NOT FALSE
               AND (octet_length(hash) = 32) IS NOT FALSE)), 0::bigint,
  'queue_tokens_rules: passes exactly the rows the nine CHECKs passed, on every combination');
SELECT ok((SELECT count(DISTINCT ticket.queue_token_valid(st, sq, act, exp, ended, eid, nonce, hash) IS NOT FALSE) = 2 FROM token_rows),
  'queue_tokens_rules: ... of which some pass and some do not');
SELECT is((SELECT array_agg(pg_get_constraintdef(oid)) FROM pg_constraint
           WHERE conrelid = 'ticket.queue_tokens'::regclass AND contype = 'c'),
  ARRAY['CHECK (ticket.queue_token_valid(status, seq, activated_at, expires_at, ended_at, entry_id, nonce, token_hash))'],
  'queue_tokens: its one CHECK is the rules function of the whole row');

-- Users: only a 32-byte hash is stored
SELECT throws_ok(
  $$INSERT INTO ticket.users (name, api_key_hash) VALUES ('x', 'tk_plain'::bytea)$$,
  '23514', NULL, 'users.api_key_hash holds a 32-byte hash, not a raw key');
SELECT throws_ok(
  format($$INSERT INTO ticket.idempotency_keys (user_id, key, request) VALUES (%s, E'bad\nkey', 'x')$$, :a_id),
  '23514', NULL, 'idempotency_keys.key is 1 to 255 printable ASCII characters');

-- Every table and function carries a COMMENT (\dt+ and \df+ are the DBA's manual)
SELECT is(
  (SELECT array_agg(c.relname::text ORDER BY c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'ticket' AND c.relkind IN ('r', 'p') AND obj_description(c.oid, 'pg_class') IS NULL),
  NULL, 'every table of schema ticket has a COMMENT (lists those without)');
SELECT is(
  (SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname IN ('api', 'admin', 'ticket') AND obj_description(p.oid, 'pg_proc') IS NULL),
  NULL, 'every function of schemas api, admin and ticket has a COMMENT (lists those without)');
SELECT is(
  (SELECT array_agg(nspname::text ORDER BY 1) FROM pg_namespace
   WHERE nspname IN ('api', 'admin', 'ticket') AND obj_description(oid, 'pg_namespace') IS NULL),
  NULL, 'schemas api, admin and ticket have a COMMENT');

SELECT * FROM finish();
ROLLBACK;
