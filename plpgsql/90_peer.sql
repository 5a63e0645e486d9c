-- What the proxy of the sharded topology calls on a partition (docs/scale.md), as
-- ticket_proxy only. A concert partition has no users: for a call with an API key the
-- proxy first authenticates it on the user's partition (peer.authenticate), then runs
-- today's api.* on the concert's partition vouching for that user (ticket.vouch). A
-- gated call (with a queue token) is tried first with no user (p_user_id NULL): its
-- token proves its key (ticket.proven_by_token), or TKP01 sends the proxy the long
-- way. A payment runs as its steps (60_payment.sql), each on its side.

CREATE OR REPLACE FUNCTION peer.authenticate(p_api_key text)
RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ SELECT ticket.authenticate(p_api_key) $$;
COMMENT ON FUNCTION peer.authenticate(text) IS 'User side: the user id of an API key, or UNAUTHENTICATED.';

-- Concert side: today's calls, for the user the proxy authenticated.

CREATE OR REPLACE FUNCTION peer.issue_token(p_user_id bigint, p_api_key text, p_concert_id bigint)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ BEGIN PERFORM ticket.vouch(p_user_id); RETURN api.issue_token(p_api_key, p_concert_id); END $$;

CREATE OR REPLACE FUNCTION peer.available_dates(p_user_id bigint, p_api_key text, p_token text, p_concert_id bigint)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ BEGIN PERFORM ticket.vouch(p_user_id) WHERE p_user_id IS NOT NULL; RETURN api.available_dates(p_api_key, p_token, p_concert_id); END $$;

CREATE OR REPLACE FUNCTION peer.seat_map(p_user_id bigint, p_api_key text, p_token text, p_concert_id bigint, p_date date)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ BEGIN PERFORM ticket.vouch(p_user_id) WHERE p_user_id IS NOT NULL; RETURN api.seat_map(p_api_key, p_token, p_concert_id, p_date); END $$;

CREATE OR REPLACE FUNCTION peer.hold_seat(p_user_id bigint, p_api_key text, p_token text, p_concert_id bigint,
                                          p_date date, p_seat_nos int[])
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  PERFORM ticket.vouch(p_user_id) WHERE p_user_id IS NOT NULL;
  RETURN api.hold_seat(p_api_key, p_token, p_concert_id, p_date, p_seat_nos);
END
$$;

CREATE OR REPLACE FUNCTION peer.get_reservation(p_user_id bigint, p_api_key text, p_token text, p_reservation_id bigint)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ BEGIN PERFORM ticket.vouch(p_user_id); RETURN api.get_reservation(p_api_key, p_token, p_reservation_id); END $$;

CREATE OR REPLACE FUNCTION peer.cancel_reservation(p_user_id bigint, p_api_key text, p_token text, p_reservation_id bigint)
RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ BEGIN PERFORM ticket.vouch(p_user_id); RETURN api.cancel_reservation(p_api_key, p_token, p_reservation_id); END $$;

CREATE OR REPLACE FUNCTION peer.token_known(p_token text)
RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  PERFORM ticket.find_token(p_token);
  RETURN true;
EXCEPTION WHEN SQLSTATE 'T401B' THEN
  RETURN false;
END
$$;
COMMENT ON FUNCTION peer.token_known(text) IS
  'Concert side: whether a queue token is one of this partition''s (for the proxy''s QUEUE_TOKEN_MISMATCH).';

-- A payment's steps. The Idempotency-Key is the user's, so it is claimed and answered
-- on the user's side, around the steps.

-- A claim left unanswered by a request that was cut off would answer 409 to every retry
-- for good. The proxy's requests end within ticket_web's statement_timeout (seconds),
-- so a claim a minute old whose request left nothing to finish is given up to the retry.
CREATE OR REPLACE FUNCTION ticket.idempotency_reclaim(p_user_id bigint, p_key text)
RETURNS boolean
LANGUAGE plpgsql
AS $$
BEGIN
  UPDATE ticket.idempotency_keys SET created_at = now()
  WHERE user_id = p_user_id AND key = p_key AND status IS NULL AND created_at < now() - interval '1 minute';
  RETURN found;
END
$$;
COMMENT ON FUNCTION ticket.idempotency_reclaim(bigint, text) IS
  'Take over an Idempotency-Key''s claim left unanswered for over a minute (its request is over): true, or false while it may still run.';

CREATE OR REPLACE FUNCTION peer.idempotency_reclaim(p_user_id bigint, p_idempotency_key text)
RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ SELECT ticket.idempotency_reclaim(p_user_id, p_idempotency_key) $$;
COMMENT ON FUNCTION peer.idempotency_reclaim(bigint, text) IS 'User side: ticket.idempotency_reclaim.';

CREATE OR REPLACE FUNCTION peer.pay_begin(p_api_key text, p_idempotency_key text, p_reservation_id bigint,
                                          OUT user_id bigint, OUT replay api.reply,
                                          OUT debited_ref text, OUT amount bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  user_id := ticket.authenticate(p_api_key);
  replay := ticket.idempotency_begin(user_id, p_idempotency_key, format('pay reservation %s', p_reservation_id));
EXCEPTION WHEN SQLSTATE 'T409D' THEN
  -- The key's first request has not answered. If it was cut off after its debit (a
  -- server went away), the money is taken and only the sale is left: the proxy
  -- finishes it (debit and pay_confirm repeat safely) and answers as the first would have.
  -- Cut off before, and over, it left nothing to finish: the retry pays afresh.
  SELECT d.ref, d.amount INTO debited_ref, amount
  FROM ticket.debits d
  WHERE d.user_id = pay_begin.user_id AND d.reservation_id = p_reservation_id AND d.outcome = 'DEBITED';
  IF debited_ref IS NULL AND NOT ticket.idempotency_reclaim(user_id, p_idempotency_key) THEN
    RAISE;
  END IF;
END
$$;
COMMENT ON FUNCTION peer.pay_begin(text, text, bigint) IS
  'User side, before a payment: the caller, and the answer to replay if the Idempotency-Key has one (else it is claimed); for a claim whose payment was cut off after its debit, that debit; one cut off before it, a minute old, is taken over.';

CREATE OR REPLACE FUNCTION peer.idempotency_end(p_user_id bigint, p_idempotency_key text, p_reply api.reply)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF p_reply.status IS NULL THEN
    -- The request failed: as on one database, where its claim rolls back, a retry runs again.
    DELETE FROM ticket.idempotency_keys WHERE user_id = p_user_id AND key = p_idempotency_key AND status IS NULL;
  ELSE
    PERFORM ticket.idempotency_finish(p_user_id, p_idempotency_key, p_reply);
  END IF;
END
$$;
COMMENT ON FUNCTION peer.idempotency_end(bigint, text, api.reply) IS
  'User side: store the answer of a claimed Idempotency-Key, or (a NULL status) give the claim up.';

CREATE OR REPLACE FUNCTION peer.pay_reserve(p_user_id bigint, p_api_key text, p_token text,
                                            p_reservation_id bigint, p_ref text, OUT amount bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  PERFORM ticket.vouch(p_user_id);
  amount := (ticket.pay_reserve(p_user_id, p_api_key, p_token, p_reservation_id, p_ref)).amount;
END
$$;
COMMENT ON FUNCTION peer.pay_reserve(bigint, text, text, bigint, text) IS
  'Concert side, step 1: the caller''s HELD reservation becomes PAYING under the reference; its amount.';

CREATE OR REPLACE FUNCTION peer.debit(p_user_id bigint, p_ref text, p_reservation_id bigint, p_amount bigint,
                                      OUT outcome text, OUT ledger_id bigint, OUT balance bigint)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ SELECT * FROM ticket.debit(p_user_id, p_ref, p_reservation_id, p_amount) $$;
COMMENT ON FUNCTION peer.debit(bigint, text, bigint, bigint) IS 'User side, step 2: ticket.debit.';

CREATE OR REPLACE FUNCTION peer.pay_confirm(p_ref text, p_ledger_id bigint)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  -- The lock order of every seat path: the turn's token, then the reservation and the
  -- seats. On one database the payment's first step holds the token until the sale; here
  -- the sale is a transaction of its own, which locks the user's other holds and their
  -- seats (to release them) before it ends the turn: locked only then, the token
  -- deadlocked with a cancel of one of those holds (40P01 in tests/concurrency/race.t
  -- on the sharded topology).
  PERFORM 1 FROM ticket.queue_tokens t
  WHERE (t.user_id, t.concert_id) = (SELECT r.user_id, r.concert_id FROM ticket.reservations r WHERE r.payment_ref = p_ref)
    AND t.status = 'ACTIVE'
  FOR UPDATE;
  RETURN ticket.pay_confirm(p_ref, p_ledger_id);
END
$$;
COMMENT ON FUNCTION peer.pay_confirm(text, bigint) IS 'Concert side, step 3: ticket.pay_confirm; the payment id.';

CREATE OR REPLACE FUNCTION peer.pay_release(p_ref text)
RETURNS text
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ SELECT (ticket.pay_release(p_ref)).status $$;
COMMENT ON FUNCTION peer.pay_release(text) IS 'Concert side, step 3 without money: ticket.pay_release; the status after.';

-- Recovery, run by the proxy: the payments left PAYING, and the user side's answer.

CREATE OR REPLACE FUNCTION peer.paying(p_older_than interval)
RETURNS TABLE (ref text, user_id bigint, reservation_id bigint, amount bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT payment_ref, user_id, id, amount FROM ticket.reservations
  WHERE status = 'PAYING' AND paying_since <= now() - p_older_than ORDER BY id
$$;
COMMENT ON FUNCTION peer.paying(interval) IS 'Concert side: the payments PAYING for longer than p_older_than.';

CREATE OR REPLACE FUNCTION peer.abort_debit(p_user_id bigint, p_ref text, p_reservation_id bigint, p_amount bigint,
                                            OUT outcome text, OUT ledger_id bigint)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ SELECT d.outcome, d.ledger_id FROM ticket.abort_debit(p_user_id, p_ref, p_reservation_id, p_amount) d $$;
COMMENT ON FUNCTION peer.abort_debit(bigint, text, bigint, bigint) IS 'User side, recovery: ticket.abort_debit.';

-- The proxy's admin.check_invariants: each side's half of every payment.

CREATE OR REPLACE FUNCTION peer.payments()
RETURNS TABLE (ref text, user_id bigint, reservation_id bigint, amount bigint, ledger_id bigint, status text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT p.ref, p.user_id, p.reservation_id, p.amount, p.ledger_id, 'PAID' FROM ticket.payments p
  UNION ALL
  SELECT r.payment_ref, r.user_id, r.id, r.amount, NULL, 'PAYING' FROM ticket.reservations r WHERE r.status = 'PAYING'
$$;
COMMENT ON FUNCTION peer.payments() IS 'Concert side: every payment made (PAID) or going on (PAYING).';

CREATE OR REPLACE FUNCTION peer.debits()
RETURNS TABLE (ref text, user_id bigint, reservation_id bigint, amount bigint, ledger_id bigint, outcome text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ SELECT d.ref, d.user_id, d.reservation_id, d.amount, d.ledger_id, d.outcome FROM ticket.debits d $$;
COMMENT ON FUNCTION peer.debits() IS 'User side: every debit by its reference.';

CREATE OR REPLACE FUNCTION peer.check_invariants()
RETURNS TABLE (invariant text, detail text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ SELECT * FROM admin.check_invariants() $$;
COMMENT ON FUNCTION peer.check_invariants() IS 'This partition''s own invariants (those of one side).';

-- A refund's steps (plpgsql/65_refund.sql). A credit cannot be refused, so nothing is
-- undone: a refund cut off after its first step is credited by recovery.

CREATE OR REPLACE FUNCTION peer.refund_begin(p_api_key text, p_idempotency_key text, p_reservation_id bigint,
                                             OUT user_id bigint, OUT replay api.reply, OUT in_progress boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  user_id := ticket.authenticate(p_api_key);
  in_progress := false;
  replay := ticket.idempotency_begin(user_id, p_idempotency_key, format('refund reservation %s', p_reservation_id));
EXCEPTION WHEN SQLSTATE 'T409D' THEN
  -- The key's first request has not answered. If it was cut off after its first step
  -- (a server went away), the refund is done but for the money: the proxy looks on the
  -- concert's side (peer.refund_of) and finishes it, or answers 409 as here.
  in_progress := true;
END
$$;
COMMENT ON FUNCTION peer.refund_begin(text, text, bigint) IS
  'User side, before a refund: the caller, and the answer to replay if the Idempotency-Key has one (else it is claimed); in_progress when its first request has not answered.';

CREATE OR REPLACE FUNCTION peer.refund_reserve(p_user_id bigint, p_reservation_id bigint, p_ref text,
                                               p_by text, p_reason text, p_full boolean,
                                               OUT user_id bigint, OUT amount bigint, OUT fee bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_rf ticket.refunds := ticket.refund_reserve(p_user_id, p_reservation_id, p_ref, p_by, p_reason, p_full);
BEGIN
  user_id := (SELECT r.user_id FROM ticket.reservations r WHERE r.id = v_rf.reservation_id);
  amount := v_rf.amount;
  fee := v_rf.fee;
END
$$;
COMMENT ON FUNCTION peer.refund_reserve(bigint, bigint, text, text, text, boolean) IS
  'Concert side, step 1: seats back on sale, REFUNDED, the refund recorded (credit pending), the waiting list admitted; whose it was, what is paid back and kept.';

CREATE OR REPLACE FUNCTION peer.refund_of(p_user_id bigint, p_reservation_id bigint,
                                          OUT ref text, OUT amount bigint, OUT fee bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT rf.ref, rf.amount, rf.fee
  FROM ticket.refunds rf JOIN ticket.reservations r ON r.id = rf.reservation_id
  WHERE rf.reservation_id = p_reservation_id AND r.user_id = p_user_id AND rf.refunded_by = 'user'
$$;
COMMENT ON FUNCTION peer.refund_of(bigint, bigint) IS
  'Concert side: the user''s own refund of the reservation (its reference, amount paid back, fee kept), if step 1 was done; else no row.';

CREATE OR REPLACE FUNCTION peer.credit(p_user_id bigint, p_ref text, p_reservation_id bigint, p_amount bigint,
                                       OUT ledger_id bigint, OUT balance bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF p_amount = 0 THEN  -- nothing to pay back: the balance as it is
    SELECT w.balance INTO balance FROM ticket.wallets w WHERE w.user_id = p_user_id;
  ELSE
    SELECT c.ledger_id, c.balance INTO ledger_id, balance FROM ticket.credit(p_user_id, p_ref, p_reservation_id, p_amount) c;
  END IF;
END
$$;
COMMENT ON FUNCTION peer.credit(bigint, text, bigint, bigint) IS 'User side, step 2: ticket.credit (the balance alone for nothing to pay back).';

CREATE OR REPLACE FUNCTION peer.refund_confirm(p_ref text, p_ledger_id bigint)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ SELECT ticket.refund_confirm(p_ref, p_ledger_id) $$;
COMMENT ON FUNCTION peer.refund_confirm(text, bigint) IS 'Concert side, step 3: ticket.refund_confirm.';

CREATE OR REPLACE FUNCTION peer.refunds_pending(p_older_than interval)
RETURNS TABLE (ref text, user_id bigint, reservation_id bigint, amount bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT rf.ref, r.user_id, rf.reservation_id, rf.amount
  FROM ticket.refunds rf JOIN ticket.reservations r ON r.id = rf.reservation_id
  WHERE rf.amount > 0 AND rf.ledger_id IS NULL AND rf.created_at <= now() - p_older_than ORDER BY rf.id
$$;
COMMENT ON FUNCTION peer.refunds_pending(interval) IS 'Concert side: the refunds whose credit is pending for longer than p_older_than.';

CREATE OR REPLACE FUNCTION peer.refunds()
RETURNS TABLE (ref text, user_id bigint, reservation_id bigint, amount bigint, ledger_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT rf.ref, r.user_id, rf.reservation_id, rf.amount, rf.ledger_id
  FROM ticket.refunds rf JOIN ticket.reservations r ON r.id = rf.reservation_id WHERE rf.amount > 0
$$;
COMMENT ON FUNCTION peer.refunds() IS 'Concert side: every refund that pays something back, credited (ledger_id) or pending.';

CREATE OR REPLACE FUNCTION peer.credits()
RETURNS TABLE (ref text, user_id bigint, reservation_id bigint, amount bigint, ledger_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ SELECT c.ref, c.user_id, c.reservation_id, c.amount, c.ledger_id FROM ticket.credits c $$;
COMMENT ON FUNCTION peer.credits() IS 'User side: every credit by its reference.';
