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
