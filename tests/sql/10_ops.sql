-- Operations endpoints and the concert list (docs/api.md: GET /api/health, /api/metrics, /api/concerts).
BEGIN;
SELECT plan(37);
\ir fixtures.psql

CREATE FUNCTION pg_temp.metric(p_line_start text) RETURNS bigint LANGUAGE sql AS $$
  SELECT split_part(l, ' ', 2)::bigint
  FROM regexp_split_to_table((api.metrics()).body #>> '{}', E'\n') l
  WHERE split_part(l, ' ', 1) = p_line_start
$$;

-- health
SELECT results_eq('SELECT status, body::jsonb, retry_after FROM api.health()',
  $$VALUES (200, '{"status": "ok", "database": "ok"}'::jsonb, NULL::int)$$, 'health: 200 {"status": "ok", "database": "ok"}');

-- list_concerts
SELECT admin.create_concert('Ops test', 'Ops Hall', ARRAY[now() + interval '7 days'], p_seats => 5, p_hold_minutes => 7,
                            p_max_seats_per_user => 3, p_max_active => 1) AS c \gset
SELECT on_date AS d FROM ticket.concert_dates WHERE concert_id = :c \gset
SELECT pg_temp.new_user('ops-a') AS ka, pg_temp.new_user('ops-b') AS kb \gset
SELECT pg_temp.join_queue(:'ka', :c) AS ta \gset
SELECT pg_temp.join_queue(:'kb', :c) AS tb \gset
SELECT is((api.list_concerts()).status, 200, 'list_concerts: 200');
SELECT is(
  (SELECT x::jsonb FROM json_array_elements((api.list_concerts()).body->'concerts') x WHERE (x->>'id')::bigint = :c),
  jsonb_build_object('id', :c, 'title', 'Ops test', 'venue', 'Ops Hall', 'status', 'ON_SALE',
                     'sale_opens_at', NULL, 'pre_queue_opens_at', NULL, 'hold_minutes', 7, 'max_seats_per_user', 3,
                     'queue', jsonb_build_object('waiting', 1, 'active', 1, 'max_active', 1), 'shuffle', NULL),
  'list_concerts: id, title, venue, status, sale times, hold_minutes, max_seats_per_user, the queue figures and no shuffle');
SELECT is((SELECT array_agg((x->>'id')::bigint) = array_agg((x->>'id')::bigint ORDER BY (x->>'id')::bigint)
           FROM json_array_elements((api.list_concerts()).body->'concerts') x), true, 'list_concerts: ordered by id');

-- list_concerts(statuses): a catalogue with a past (twenty ENDED concerts: no date
-- ahead) and one concert before its pre-queue.
SELECT array_agg(admin.create_concert('Ops past ' || i, 'Ops Hall', ARRAY[now() + interval '1 day'], p_seats => 1)) AS past
FROM generate_series(1, 20) i \gset
UPDATE ticket.concert_dates SET starts_at = now() - interval '1 day' WHERE concert_id = ANY (:'past');
SELECT admin.create_concert('Ops upcoming', 'Ops Hall', ARRAY[now() + interval '30 days'],
                            p_sale_opens_at => now() + interval '10 days') AS up \gset
CREATE FUNCTION pg_temp.listed(p_statuses text[]) RETURNS TABLE (id bigint, status text) LANGUAGE sql AS $$
  SELECT (x->>'id')::bigint, x->>'status' FROM json_array_elements((api.list_concerts(p_statuses)).body->'concerts') x
$$;
SELECT is((SELECT array_agg(id ORDER BY id) FROM pg_temp.listed(NULL) WHERE id = ANY (:'past'::bigint[] || ARRAY[:c, :up])),
          (SELECT array_agg(id ORDER BY id) FROM unnest(:'past'::bigint[] || ARRAY[:c, :up]) id),
          'list_concerts(NULL): every concert, the ENDED ones too');
SELECT is((SELECT array_agg(id ORDER BY id) FROM pg_temp.listed('{UPCOMING,PRE_QUEUE,ON_SALE,SOLD_OUT}')
           WHERE id = ANY (:'past'::bigint[] || ARRAY[:c, :up])),
          ARRAY[:c, :up]::bigint[], 'list_concerts: without ENDED, no concert of the past');
SELECT is((SELECT array_agg(DISTINCT status) FROM pg_temp.listed('{UPCOMING}')), ARRAY['UPCOMING'],
          'list_concerts({UPCOMING}): only UPCOMING concerts');
SELECT is((SELECT count(*) FROM pg_temp.listed('{UPCOMING}') WHERE id = :up), 1::bigint, 'list_concerts({UPCOMING}): the one before its pre-queue');
SELECT is((SELECT array_agg(DISTINCT status) FROM pg_temp.listed('{ENDED}')), ARRAY['ENDED'],
          'list_concerts({ENDED}): only the past');
SELECT is((SELECT count(*) FROM pg_temp.listed('{ENDED}') WHERE id = ANY (:'past')), 20::bigint, 'list_concerts({ENDED}): all of it');
SELECT is((SELECT array_agg(x::jsonb ORDER BY (x->>'id')::bigint) FROM json_array_elements((api.list_concerts('{ON_SALE,ENDED}')).body->'concerts') x),
          (SELECT array_agg(x::jsonb ORDER BY (x->>'id')::bigint) FROM json_array_elements((api.list_concerts()).body->'concerts') x
           WHERE x->>'status' IN ('ON_SALE', 'ENDED')),
          'list_concerts: a concert listed by status is the concert listed without (same body, same order)');
SELECT throws_ok($$SELECT api.list_concerts('{}')$$, 'T400A', 'status must list one or more of UPCOMING, PRE_QUEUE, ON_SALE, SOLD_OUT, ENDED',
                 'list_concerts({}): 400');
SELECT throws_ok($$SELECT api.list_concerts('{on_sale}')$$, 'T400A', NULL, 'list_concerts: an unknown status is 400');
SELECT throws_ok($$SELECT api.list_concerts(ARRAY['ON_SALE', NULL])$$, 'T400A', NULL, 'list_concerts: a NULL status is 400');
-- Nor does any list lock the sequence of a concert nobody waits in: reading one locks it
-- to the end of the transaction, and a few lists of 25,000 past concerts at once filled
-- the server's lock table (out of shared memory). The past concerts' sequences were
-- created in this transaction (AccessExclusiveLock); reading one adds RowExclusiveLock.
SELECT is((SELECT count(*) FROM pg_locks l JOIN pg_class s ON s.oid = l.relation
           WHERE l.pid = pg_backend_pid() AND l.mode = 'RowExclusiveLock'
             AND s.oid IN (SELECT ticket.queue_seq(id) FROM unnest(:'past'::bigint[]) id)),
          0::bigint, 'list_concerts: no lock taken on the queue sequence of a concert nobody waits in');
SELECT is((SELECT array_agg(DISTINCT (x->'queue'->>'waiting')::int) FROM json_array_elements((api.list_concerts('{ENDED}')).body->'concerts') x
           WHERE (x->>'id')::bigint = ANY (:'past')), ARRAY[0], 'list_concerts: nobody waits in those');
-- Without ENDED only concerts with a date ahead are read, not the catalogue's past.
SET LOCAL track_functions = 'all';
SELECT count(*) FROM pg_temp.listed('{UPCOMING,PRE_QUEUE,ON_SALE,SOLD_OUT}');
SELECT is((SELECT calls FROM pg_stat_xact_user_functions WHERE funcid = 'ticket.date_ahead(bigint)'::regprocedure),
          (SELECT count(DISTINCT concert_id) FROM ticket.concert_dates WHERE starts_at > now()),
          'list_concerts: without ENDED, one status worked out per concert with a date ahead, none for the past');

-- metrics
SELECT status AS s, json_typeof(body) AS t FROM api.metrics() \gset
SELECT is(:s, 200, 'metrics: 200');
SELECT is(:'t'::text, 'string', 'metrics: the body is one JSON string (Prometheus text)');
SELECT is(
  (SELECT array_agg(l ORDER BY l) FROM regexp_split_to_table((api.metrics()).body #>> '{}', E'\n') l
   WHERE l <> '' AND l !~ '^# (HELP|TYPE) [a-z_]+ ' AND l !~ '^[a-z_]+(\{[a-z_]+="[^"\n]*"(,[a-z_]+="[^"\n]*")*\})? [0-9]+$'),
  NULL, 'metrics: every line is a HELP/TYPE comment or a sample "name{labels} value"');
SELECT is(
  (SELECT array_agg(DISTINCT m ORDER BY m) FROM regexp_split_to_table((api.metrics()).body #>> '{}', E'\n') l,
        substring(l FROM '^# TYPE ([a-z_]+)') m
   WHERE l LIKE '# TYPE %'),
  ARRAY['ticket_holds_expired_total', 'ticket_invariant_violations_total', 'ticket_payments_total',
        'ticket_payments_won_total', 'ticket_queue_active', 'ticket_queue_admitted_total',
        'ticket_queue_waiting', 'ticket_request_errors_total', 'ticket_seats'],
  'metrics: queue waiting/active/admitted, seats by status, holds expired, payments, invariant violations, request errors');
SELECT is(pg_temp.metric(format('ticket_queue_waiting{concert_id="%s"}', :c)), 1::bigint, 'metrics: waiting tokens per concert');
SELECT is(pg_temp.metric(format('ticket_queue_active{concert_id="%s"}', :c)), 1::bigint, 'metrics: active tokens per concert');
SELECT is(pg_temp.metric(format('ticket_seats{concert_id="%s",status="AVAILABLE"}', :c)), 5::bigint, 'metrics: seats by status per concert');
SELECT is((SELECT count(*) FROM regexp_split_to_table((api.metrics()).body #>> '{}', E'\n') l
           WHERE substring(l FROM 'concert_id="([0-9]+)"')::bigint = ANY (:'past')), 0::bigint,
          'metrics: no series of a concert whose last date has passed');
SET LOCAL track_functions = 'all';
SELECT coalesce((SELECT calls FROM pg_stat_xact_user_functions WHERE funcid = 'ticket.queue_waiting(bigint)'::regprocedure), 0) AS w0 \gset
SELECT length((api.metrics()).body::text) > 0 AS ok \gset
SELECT is((SELECT calls FROM pg_stat_xact_user_functions WHERE funcid = 'ticket.queue_waiting(bigint)'::regprocedure) - :w0,
          (SELECT count(DISTINCT concert_id) FROM ticket.concert_dates WHERE starts_at > now()),
          'metrics: the line counted once per concert with a date ahead, not for the catalogue''s past');
SELECT pg_temp.metric('ticket_payments_total') AS p0, pg_temp.metric('ticket_payments_won_total') AS w0,
       pg_temp.metric('ticket_holds_expired_total') AS e0 \gset
SELECT (api.charge_wallet(:'ka', 1000000, NULL)).status AS ok \gset
SELECT (api.hold_seat(:'ka', :'ta', :c, :'d', '{1,2}')).body->>'reservation_id' AS r \gset
SELECT results_eq(
  format($$SELECT pg_temp.metric('ticket_seats{concert_id="%s",status="' || st || '"}') FROM unnest(ARRAY['AVAILABLE', 'HELD']) st$$, :c),
  $$VALUES (3::bigint), (2::bigint)$$, 'metrics: held seats move from AVAILABLE to HELD');
SELECT (api.pay_reservation(:'ka', :'ta', :r, NULL)).status AS ok \gset
SELECT is(pg_temp.metric(format('ticket_seats{concert_id="%s",status="SOLD"}', :c)), 2::bigint, 'metrics: paid seats are SOLD');
SELECT is(pg_temp.metric('ticket_payments_total'), :p0 + 1::bigint, 'metrics: ticket_payments_total counts the payment');
SELECT is(pg_temp.metric('ticket_payments_won_total'), :w0 + 300000::bigint, 'metrics: ticket_payments_won_total adds its won');
SELECT is(pg_temp.metric(format('ticket_queue_active{concert_id="%s"}', :c)), 1::bigint, 'metrics: the next in line is active');
SELECT (api.hold_seat(:'kb', :'tb', :c, :'d', '{3}')).body->>'reservation_id' AS rb \gset
SELECT pg_temp.hold_runs_out(:rb);
SELECT is(pg_temp.metric('ticket_holds_expired_total'), :e0 + 1::bigint, 'metrics: a hold past its expiry counts as expired before the tick');

-- note_error
SELECT coalesce(pg_temp.metric('ticket_request_errors_total{code="TEST_OPS_CODE"}'), 0) AS n0 \gset
SELECT is(api.note_error('TEST_OPS_CODE')::text, '(204,,)', 'note_error: 204 with no body');
SELECT is(pg_temp.metric('ticket_request_errors_total{code="TEST_OPS_CODE"}'), :n0 + 1::bigint,
  'note_error: the error is counted in metrics at once (before the tick folds it)');
SELECT (api.note_error('TEST_OPS_CODE')).status AS ok \gset
SELECT (pg_temp.tick()).keys_purged AS purged \gset
SELECT (api.note_error('TEST_OPS_CODE')).status AS ok \gset
SELECT is(pg_temp.metric('ticket_request_errors_total{code="TEST_OPS_CODE"}'), :n0 + 3::bigint,
  'note_error: folded and unfolded counts add up');
SELECT count(*) AS before FROM ticket.request_errors \gset
SELECT is((SELECT count(*) FROM (SELECT api.note_error(c) FROM unnest(ARRAY['lower', 'X"} 1' || E'\nfake 2', '', NULL, repeat('A', 65)]) c) x),
  5::bigint, 'note_error: answers 204 to anything ...');
SELECT is((SELECT count(*) FROM ticket.request_errors), :before::bigint,
  'note_error: ... but records only UPPER_SNAKE codes of 1..64 characters (nothing can break the metrics text)');

SELECT * FROM finish();
ROLLBACK;
