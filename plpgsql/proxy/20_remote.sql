-- The PL/Proxy calls: each runs today's function on the partition its slot names (or on
-- all of them), through the clusters admin.set_cluster defines. Only api.* and admin.*
-- call them, and map their errors back (route.reraise).

CREATE OR REPLACE FUNCTION route.create_user(p_slot int, p_name text)
RETURNS api.reply LANGUAGE plproxy
AS $$ CLUSTER 'users'; RUN ON p_slot; SELECT * FROM api.create_user(p_name); $$;

CREATE OR REPLACE FUNCTION route.get_wallet(p_slot int, p_api_key text)
RETURNS api.reply LANGUAGE plproxy
AS $$ CLUSTER 'users'; RUN ON p_slot; SELECT * FROM api.get_wallet(p_api_key); $$;

CREATE OR REPLACE FUNCTION route.charge_wallet(p_slot int, p_api_key text, p_amount bigint, p_idempotency_key text)
RETURNS api.reply LANGUAGE plproxy
AS $$ CLUSTER 'users'; RUN ON p_slot; SELECT * FROM api.charge_wallet(p_api_key, p_amount, p_idempotency_key); $$;

CREATE OR REPLACE FUNCTION route.list_transactions(p_slot int, p_api_key text, p_limit int, p_before bigint)
RETURNS api.reply LANGUAGE plproxy
AS $$ CLUSTER 'users'; RUN ON p_slot; SELECT * FROM api.list_transactions(p_api_key, p_limit, p_before); $$;

CREATE OR REPLACE FUNCTION route.list_concerts()
RETURNS SETOF api.reply LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON ALL; SELECT * FROM api.list_concerts(); $$;

CREATE OR REPLACE FUNCTION route.get_concert(p_slot int, p_concert_id bigint)
RETURNS api.reply LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT * FROM api.get_concert(p_concert_id); $$;

CREATE OR REPLACE FUNCTION route.shuffle_proof(p_slot int, p_concert_id bigint)
RETURNS api.reply LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT * FROM api.shuffle_proof(p_concert_id); $$;

CREATE OR REPLACE FUNCTION route.shuffle_entries(p_slot int, p_concert_id bigint, p_after bigint, p_limit int)
RETURNS api.reply LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT * FROM api.shuffle_entries(p_concert_id, p_after, p_limit); $$;

CREATE OR REPLACE FUNCTION route.concerts_health()
RETURNS SETOF api.reply LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON ALL; SELECT * FROM api.health(); $$;

CREATE OR REPLACE FUNCTION route.users_health()
RETURNS SETOF api.reply LANGUAGE plproxy
AS $$ CLUSTER 'users'; RUN ON ALL; SELECT * FROM api.health(); $$;

-- Error counts are insert-only rows: any concert partition may keep them.
CREATE OR REPLACE FUNCTION route.note_error(p_code text)
RETURNS api.reply LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON ANY; SELECT * FROM api.note_error(p_code); $$;

CREATE OR REPLACE FUNCTION route.create_concert(p_slot int, p_title text, p_venue text, p_starts_at timestamptz[],
    p_seats int, p_prices bigint[], p_hold_minutes int, p_max_seats_per_user int, p_max_active int,
    p_refund_hours_before int, p_refund_fee_percent int, p_sale_opens_at timestamptz, p_pre_queue_minutes int)
RETURNS bigint LANGUAGE plproxy
AS $$
  CLUSTER 'concerts'; RUN ON p_slot;
  SELECT admin.create_concert(p_title, p_venue, p_starts_at, p_seats, p_prices, p_hold_minutes,
    p_max_seats_per_user, p_max_active, p_refund_hours_before, p_refund_fee_percent,
    p_sale_opens_at, p_pre_queue_minutes) AS create_concert;
$$;

-- Calls with an API key: authenticated on the user's partition, then run on the
-- concert's for that user (peer.*, as ticket_proxy).

CREATE OR REPLACE FUNCTION route.authenticate(p_slot int, p_api_key text)
RETURNS bigint LANGUAGE plproxy
AS $$ CLUSTER 'users'; RUN ON p_slot; SELECT peer.authenticate(p_api_key) AS authenticate; $$;

CREATE OR REPLACE FUNCTION route.issue_token(p_slot int, p_user_id bigint, p_api_key text, p_concert_id bigint)
RETURNS api.reply LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT * FROM peer.issue_token(p_user_id, p_api_key, p_concert_id); $$;

CREATE OR REPLACE FUNCTION route.queue_status(p_slot int, p_token text)
RETURNS api.reply LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT * FROM api.queue_status(p_token); $$;

CREATE OR REPLACE FUNCTION route.token_known(p_slot int, p_token text)
RETURNS boolean LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT peer.token_known(p_token) AS token_known; $$;

CREATE OR REPLACE FUNCTION route.leave_queue(p_slot int, p_token text)
RETURNS api.reply LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT * FROM api.leave_queue(p_token); $$;

CREATE OR REPLACE FUNCTION route.available_dates(p_slot int, p_user_id bigint, p_api_key text, p_token text,
                                                 p_concert_id bigint)
RETURNS api.reply LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT * FROM peer.available_dates(p_user_id, p_api_key, p_token, p_concert_id); $$;

CREATE OR REPLACE FUNCTION route.seat_map(p_slot int, p_user_id bigint, p_api_key text, p_token text,
                                          p_concert_id bigint, p_date date)
RETURNS api.reply LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT * FROM peer.seat_map(p_user_id, p_api_key, p_token, p_concert_id, p_date); $$;

CREATE OR REPLACE FUNCTION route.hold_seat(p_slot int, p_user_id bigint, p_api_key text, p_token text,
                                           p_concert_id bigint, p_date date, p_seat_nos int[])
RETURNS api.reply LANGUAGE plproxy
AS $$
  CLUSTER 'concerts'; RUN ON p_slot;
  SELECT * FROM peer.hold_seat(p_user_id, p_api_key, p_token, p_concert_id, p_date, p_seat_nos);
$$;

CREATE OR REPLACE FUNCTION route.get_reservation(p_slot int, p_user_id bigint, p_api_key text, p_token text,
                                                 p_reservation_id bigint)
RETURNS api.reply LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT * FROM peer.get_reservation(p_user_id, p_api_key, p_token, p_reservation_id); $$;

CREATE OR REPLACE FUNCTION route.cancel_reservation(p_slot int, p_user_id bigint, p_api_key text, p_token text,
                                                    p_reservation_id bigint)
RETURNS api.reply LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT * FROM peer.cancel_reservation(p_user_id, p_api_key, p_token, p_reservation_id); $$;

CREATE OR REPLACE FUNCTION route.metrics()
RETURNS SETOF api.reply LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON ALL; SELECT * FROM api.metrics(); $$;

-- A payment's steps (plpgsql/60_payment.sql), each on its side.

CREATE OR REPLACE FUNCTION route.pay_begin(p_slot int, p_api_key text, p_idempotency_key text, p_reservation_id bigint,
                                           OUT user_id bigint, OUT replay api.reply)
LANGUAGE plproxy
AS $$ CLUSTER 'users'; RUN ON p_slot; SELECT * FROM peer.pay_begin(p_api_key, p_idempotency_key, p_reservation_id); $$;

CREATE OR REPLACE FUNCTION route.idempotency_end(p_slot int, p_user_id bigint, p_idempotency_key text, p_reply api.reply)
RETURNS void LANGUAGE plproxy
AS $$ CLUSTER 'users'; RUN ON p_slot; SELECT peer.idempotency_end(p_user_id, p_idempotency_key, p_reply); $$;

CREATE OR REPLACE FUNCTION route.pay_reserve(p_slot int, p_user_id bigint, p_api_key text, p_token text,
                                             p_reservation_id bigint, p_ref text)
RETURNS bigint LANGUAGE plproxy
AS $$
  CLUSTER 'concerts'; RUN ON p_slot;
  SELECT amount FROM peer.pay_reserve(p_user_id, p_api_key, p_token, p_reservation_id, p_ref);
$$;

CREATE OR REPLACE FUNCTION route.debit(p_slot int, p_user_id bigint, p_ref text, p_reservation_id bigint, p_amount bigint,
                                       OUT outcome text, OUT ledger_id bigint, OUT balance bigint)
LANGUAGE plproxy
AS $$ CLUSTER 'users'; RUN ON p_slot; SELECT * FROM peer.debit(p_user_id, p_ref, p_reservation_id, p_amount); $$;

CREATE OR REPLACE FUNCTION route.pay_confirm(p_slot int, p_ref text, p_ledger_id bigint)
RETURNS bigint LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT peer.pay_confirm(p_ref, p_ledger_id) AS pay_confirm; $$;

CREATE OR REPLACE FUNCTION route.pay_release(p_slot int, p_ref text)
RETURNS text LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT peer.pay_release(p_ref) AS pay_release; $$;

CREATE OR REPLACE FUNCTION route.paying(p_older_than interval)
RETURNS TABLE (ref text, user_id bigint, reservation_id bigint, amount bigint) LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON ALL; SELECT * FROM peer.paying(p_older_than); $$;

CREATE OR REPLACE FUNCTION route.abort_debit(p_slot int, p_user_id bigint, p_ref text, p_reservation_id bigint,
                                             p_amount bigint, OUT outcome text, OUT ledger_id bigint)
LANGUAGE plproxy
AS $$ CLUSTER 'users'; RUN ON p_slot; SELECT * FROM peer.abort_debit(p_user_id, p_ref, p_reservation_id, p_amount); $$;

-- The proxy's admin.check_invariants and admin.recover_payments: every partition.

CREATE OR REPLACE FUNCTION route.payments()
RETURNS TABLE (ref text, user_id bigint, reservation_id bigint, amount bigint, ledger_id bigint, status text)
LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON ALL; SELECT * FROM peer.payments(); $$;

CREATE OR REPLACE FUNCTION route.debits()
RETURNS TABLE (ref text, user_id bigint, reservation_id bigint, amount bigint, ledger_id bigint, outcome text)
LANGUAGE plproxy
AS $$ CLUSTER 'users'; RUN ON ALL; SELECT * FROM peer.debits(); $$;

CREATE OR REPLACE FUNCTION route.concerts_invariants()
RETURNS TABLE (invariant text, detail text) LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON ALL; SELECT * FROM peer.check_invariants(); $$;

CREATE OR REPLACE FUNCTION route.users_invariants()
RETURNS TABLE (invariant text, detail text) LANGUAGE plproxy
AS $$ CLUSTER 'users'; RUN ON ALL; SELECT * FROM peer.check_invariants(); $$;
