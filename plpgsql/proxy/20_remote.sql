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

CREATE OR REPLACE FUNCTION route.list_concerts(p_status text[])
RETURNS SETOF api.reply LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON ALL; SELECT * FROM api.list_concerts(p_status); $$;

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
                                           OUT user_id bigint, OUT replay api.reply,
                                           OUT debited_ref text, OUT amount bigint)
LANGUAGE plproxy
AS $$ CLUSTER 'users'; RUN ON p_slot; SELECT * FROM peer.pay_begin(p_api_key, p_idempotency_key, p_reservation_id); $$;

CREATE OR REPLACE FUNCTION route.idempotency_reclaim(p_slot int, p_user_id bigint, p_idempotency_key text)
RETURNS boolean LANGUAGE plproxy
AS $$ CLUSTER 'users'; RUN ON p_slot; SELECT peer.idempotency_reclaim(p_user_id, p_idempotency_key); $$;

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

-- One partition at a time: recovery goes on past a concert node that is down.
CREATE OR REPLACE FUNCTION route.paying(p_slot int, p_older_than interval)
RETURNS TABLE (ref text, user_id bigint, reservation_id bigint, amount bigint) LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT * FROM peer.paying(p_older_than); $$;

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

-- A refund's steps (plpgsql/65_refund.sql), each on its side, and their recovery.

CREATE OR REPLACE FUNCTION route.refund_begin(p_slot int, p_api_key text, p_idempotency_key text, p_reservation_id bigint,
                                              OUT user_id bigint, OUT replay api.reply, OUT in_progress boolean)
LANGUAGE plproxy
AS $$ CLUSTER 'users'; RUN ON p_slot; SELECT * FROM peer.refund_begin(p_api_key, p_idempotency_key, p_reservation_id); $$;

CREATE OR REPLACE FUNCTION route.refund_of(p_slot int, p_user_id bigint, p_reservation_id bigint,
                                           OUT ref text, OUT amount bigint, OUT fee bigint)
LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT * FROM peer.refund_of(p_user_id, p_reservation_id); $$;

CREATE OR REPLACE FUNCTION route.refund_reserve(p_slot int, p_user_id bigint, p_reservation_id bigint, p_ref text,
                                                p_by text, p_reason text, p_full boolean,
                                                OUT user_id bigint, OUT amount bigint, OUT fee bigint)
LANGUAGE plproxy
AS $$
  CLUSTER 'concerts'; RUN ON p_slot;
  SELECT * FROM peer.refund_reserve(p_user_id, p_reservation_id, p_ref, p_by, p_reason, p_full);
$$;

CREATE OR REPLACE FUNCTION route.credit(p_slot int, p_user_id bigint, p_ref text, p_reservation_id bigint, p_amount bigint,
                                        OUT ledger_id bigint, OUT balance bigint)
LANGUAGE plproxy
AS $$ CLUSTER 'users'; RUN ON p_slot; SELECT * FROM peer.credit(p_user_id, p_ref, p_reservation_id, p_amount); $$;

CREATE OR REPLACE FUNCTION route.refund_confirm(p_slot int, p_ref text, p_ledger_id bigint)
RETURNS void LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT peer.refund_confirm(p_ref, p_ledger_id); $$;

CREATE OR REPLACE FUNCTION route.refunds_pending(p_slot int, p_older_than interval)
RETURNS TABLE (ref text, user_id bigint, reservation_id bigint, amount bigint) LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT * FROM peer.refunds_pending(p_older_than); $$;

CREATE OR REPLACE FUNCTION route.refunds()
RETURNS TABLE (ref text, user_id bigint, reservation_id bigint, amount bigint, ledger_id bigint) LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON ALL; SELECT * FROM peer.refunds(); $$;

CREATE OR REPLACE FUNCTION route.credits()
RETURNS TABLE (ref text, user_id bigint, reservation_id bigint, amount bigint, ledger_id bigint) LANGUAGE plproxy
AS $$ CLUSTER 'users'; RUN ON ALL; SELECT * FROM peer.credits(); $$;

-- The operators' admin.* of one database (plpgsql/proxy/45_admin_routed.sql), run as
-- the owner: about one concert on its partition, the reports and the books on all.

CREATE OR REPLACE FUNCTION route.add_date(p_slot int, p_concert_id bigint, p_starts_at timestamptz, p_seats int,
                                          p_prices bigint[], p_booking_opens_at timestamptz)
RETURNS bigint LANGUAGE plproxy
AS $$
  CLUSTER 'concerts'; RUN ON p_slot;
  SELECT admin.add_date(p_concert_id, p_starts_at, p_seats, p_prices, p_booking_opens_at) AS add_date;
$$;

CREATE OR REPLACE FUNCTION route.schedule_sale(p_slot int, p_concert_id bigint, p_sale_opens_at timestamptz,
                                               p_pre_queue_minutes int)
RETURNS TABLE (concert_id bigint, sale_opens_at timestamptz, pre_queue_opens_at timestamptz, commitment text)
LANGUAGE plproxy
AS $$
  CLUSTER 'concerts'; RUN ON p_slot;
  SELECT * FROM admin.schedule_sale(p_concert_id, p_sale_opens_at, p_pre_queue_minutes);
$$;

CREATE OR REPLACE FUNCTION route.open_sale(p_slot int, p_concert_id bigint)
RETURNS boolean LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT admin.open_sale(p_concert_id) AS open_sale; $$;

CREATE OR REPLACE FUNCTION route.set_queue(p_slot int, p_concert_id bigint, p_max_active int, p_active_minutes int,
                                           p_idle_seconds int)
RETURNS int LANGUAGE plproxy
AS $$
  CLUSTER 'concerts'; RUN ON p_slot;
  SELECT admin.set_queue(p_concert_id, p_max_active, p_active_minutes, p_idle_seconds) AS set_queue;
$$;

CREATE OR REPLACE FUNCTION route.set_holds(p_slot int, p_concert_id bigint, p_hold_minutes int, p_max_seats_per_user int)
RETURNS void LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT admin.set_holds(p_concert_id, p_hold_minutes, p_max_seats_per_user); $$;

CREATE OR REPLACE FUNCTION route.set_refunds(p_slot int, p_concert_id bigint, p_hours_before int, p_fee_percent int)
RETURNS void LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT admin.set_refunds(p_concert_id, p_hours_before, p_fee_percent); $$;

CREATE OR REPLACE FUNCTION route.tick_concert(p_slot int, p_concert_id bigint, OUT holds_expired int,
                                              OUT waiting_dropped int, OUT sold_out int, OUT admitted int,
                                              OUT skipped boolean)
LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT * FROM admin.tick_concert(p_concert_id); $$;

CREATE OR REPLACE FUNCTION route.sales_report(p_slot int, p_concert_id bigint)
RETURNS TABLE (concert_id bigint, title text, on_date date, starts_at timestamptz, seats bigint, sold bigint,
               held bigint, available bigint, revenue bigint, refunded bigint, fees bigint)
LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT * FROM admin.sales_report(p_concert_id); $$;

CREATE OR REPLACE FUNCTION route.sales_reports()
RETURNS TABLE (concert_id bigint, title text, on_date date, starts_at timestamptz, seats bigint, sold bigint,
               held bigint, available bigint, revenue bigint, refunded bigint, fees bigint)
LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON ALL; SELECT * FROM admin.sales_report(NULL); $$;

CREATE OR REPLACE FUNCTION route.queue_report(p_slot int, p_concert_id bigint)
RETURNS TABLE (concert_id bigint, title text, status text, waiting bigint, active bigint, max_active int,
               joined bigint, settled bigint, admitted bigint, turn_seconds real, sold_out boolean,
               sale_opens_at timestamptz, opened_at timestamptz, shuffle_entries int, shuffle_ms real,
               commitment text)
LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON p_slot; SELECT * FROM admin.queue_report(p_concert_id); $$;

CREATE OR REPLACE FUNCTION route.queue_reports()
RETURNS TABLE (concert_id bigint, title text, status text, waiting bigint, active bigint, max_active int,
               joined bigint, settled bigint, admitted bigint, turn_seconds real, sold_out boolean,
               sale_opens_at timestamptz, opened_at timestamptz, shuffle_entries int, shuffle_ms real,
               commitment text)
LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON ALL; SELECT * FROM admin.queue_report(NULL); $$;

CREATE OR REPLACE FUNCTION route.concert_ids()
RETURNS SETOF bigint LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON ALL; SELECT admin.concert_ids() AS concert_ids; $$;

CREATE OR REPLACE FUNCTION route.concerts_violations(p_since timestamptz)
RETURNS TABLE (id bigint, checked_at timestamptz, invariant text, detail text) LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON ALL; SELECT * FROM admin.violations(p_since); $$;

CREATE OR REPLACE FUNCTION route.users_violations(p_since timestamptz)
RETURNS TABLE (id bigint, checked_at timestamptz, invariant text, detail text) LANGUAGE plproxy
AS $$ CLUSTER 'users'; RUN ON ALL; SELECT * FROM admin.violations(p_since); $$;

-- Each partition's books cover the rows it holds (the ledger and wallets on a user
-- partition, refunds on a concert partition): their sums are one database's.
CREATE OR REPLACE FUNCTION route.concerts_books(OUT charged bigint, OUT paid bigint, OUT refunded bigint,
                                                OUT fees_kept bigint, OUT balances bigint, OUT difference bigint)
RETURNS SETOF record LANGUAGE plproxy
AS $$ CLUSTER 'concerts'; RUN ON ALL; SELECT * FROM admin.books(); $$;

CREATE OR REPLACE FUNCTION route.users_books(OUT charged bigint, OUT paid bigint, OUT refunded bigint,
                                             OUT fees_kept bigint, OUT balances bigint, OUT difference bigint)
RETURNS SETOF record LANGUAGE plproxy
AS $$ CLUSTER 'users'; RUN ON ALL; SELECT * FROM admin.books(); $$;

-- Standby reads (docs/scale.md): the same partitions' streaming standbys, as the cluster
-- concerts_standby. Each call refuses (a reply without a status; an error counts the
-- same) unless its node has replayed everything its primary had flushed p_max_lag ago
-- and the read is one a standby may give; api.* then call the primary.

CREATE OR REPLACE FUNCTION route.standby_max_lag()
RETURNS interval
LANGUAGE sql STABLE
-- The proxy's setting ticket.standby_max_lag (postgresql.conf, then a reload); 0 turns
-- standby reads off.
AS $$ SELECT coalesce(nullif(current_setting('ticket.standby_max_lag', true), ''), '2s')::interval $$;
COMMENT ON FUNCTION route.standby_max_lag() IS
  'The staleness bound of standby reads: ticket.standby_max_lag, 2 s when unset, 0 for none.';

CREATE OR REPLACE FUNCTION route.standby_seat_map(p_slot int, p_user_id bigint, p_api_key text, p_token text,
                                                  p_concert_id bigint, p_date date, p_max_lag interval)
RETURNS api.reply LANGUAGE plproxy
AS $$
  CLUSTER 'concerts_standby'; RUN ON p_slot;
  SELECT * FROM peer.standby_seat_map(p_user_id, p_api_key, p_token, p_concert_id, p_date, p_max_lag);
$$;

CREATE OR REPLACE FUNCTION route.standby_queue_status(p_slot int, p_token text, p_max_lag interval)
RETURNS api.reply LANGUAGE plproxy
AS $$ CLUSTER 'concerts_standby'; RUN ON p_slot; SELECT * FROM peer.standby_queue_status(p_token, p_max_lag); $$;
