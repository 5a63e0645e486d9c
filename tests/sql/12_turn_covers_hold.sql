-- A hold is payable until it runs out (plpgsql/50_reservation.sql, 60_payment.sql): a hold taken
-- late in a queue turn stretches the turn to the hold's expiry, never shortens it.
BEGIN;
SELECT plan(4);

SELECT admin.create_concert('Late hold', 'Hall', ARRAY[now() + interval '7 days']) AS c \gset
SELECT (api.create_user('late')).body->>'api_key' AS key \gset
SELECT (api.charge_wallet(:'key', 1000000, NULL)).status AS charged \gset
SELECT (api.issue_token(:'key', :c)).body->>'token' AS token \gset
-- Two minutes of the turn left, a five-minute hold.
UPDATE ticket.queue_tokens SET expires_at = now() + interval '2 minutes'
WHERE token_hash = sha256(convert_to(:'token', 'UTF8'));
SELECT (api.hold_seat(:'key', :'token', :c, (SELECT on_date FROM ticket.concert_dates WHERE concert_id = :c), '{3}')).body AS hold \gset

SELECT is((SELECT expires_at FROM ticket.queue_tokens WHERE token_hash = sha256(convert_to(:'token', 'UTF8'))),
          (:'hold'::json->>'expires_at')::timestamptz,
          'a hold near the end of a turn stretches the turn to the hold''s expiry');
-- Three minutes later (every time moved back: now() is fixed in a transaction): past
-- the turn's old end, still inside the hold.
UPDATE ticket.queue_tokens SET expires_at = expires_at - interval '3 minutes', activated_at = activated_at - interval '3 minutes'
WHERE token_hash = sha256(convert_to(:'token', 'UTF8'));
UPDATE ticket.reservations SET created_at = created_at - interval '3 minutes', expires_at = expires_at - interval '3 minutes'
WHERE id = (:'hold'::json->>'reservation_id')::bigint;
UPDATE ticket.seats SET held_until = held_until - interval '3 minutes'
WHERE reservation_id = (:'hold'::json->>'reservation_id')::bigint;
UPDATE ticket.reservation_seats SET claim = tstzrange(lower(claim) - interval '3 minutes', upper(claim) - interval '3 minutes')
WHERE reservation_id = (:'hold'::json->>'reservation_id')::bigint;
SELECT is((api.pay_reservation(:'key', :'token', (:'hold'::json->>'reservation_id')::bigint, NULL)).status, 201,
          'the hold is paid while it lasts');

-- A hold early in a turn leaves the turn's end where it was.
SELECT (api.create_user('early')).body->>'api_key' AS key2 \gset
SELECT (api.issue_token(:'key2', :c)).body->>'token' AS token2 \gset
SELECT expires_at AS turn_end FROM ticket.queue_tokens WHERE token_hash = sha256(convert_to(:'token2', 'UTF8')) \gset
SELECT is((api.hold_seat(:'key2', :'token2', :c, (SELECT on_date FROM ticket.concert_dates WHERE concert_id = :c), '{4}')).status, 201, 'an early hold');
SELECT is((SELECT expires_at FROM ticket.queue_tokens WHERE token_hash = sha256(convert_to(:'token2', 'UTF8'))),
          :'turn_end'::timestamptz, 'an early hold does not shorten or stretch the turn');

SELECT * FROM finish();
ROLLBACK;
