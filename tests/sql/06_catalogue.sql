-- Dates and seat maps (docs/api.md "Queue-gated endpoints"; plpgsql/50_reservation.sql: an expired hold is free at once).
BEGIN;
SELECT plan(23);
\ir fixtures.psql

-- available_dates: a concert with three future dates of 3 seats, added out of order, and a past one
SELECT admin.create_concert('Catalogue test', 'Hall',
  ARRAY[now() + interval '21 days', now() + interval '7 days', now() + interval '14 days'],
  p_seats => 3, p_max_seats_per_user => 3) AS c \gset
SELECT admin.add_date(:c, now() - interval '2 days', 3) AS past_id \gset
SELECT admin.add_date(:c, now() - interval '1 minute', 3) AS started_id \gset
SELECT on_date AS d7 FROM ticket.concert_dates WHERE concert_id = :c AND starts_at = now() + interval '7 days' \gset
SELECT on_date AS d14 FROM ticket.concert_dates WHERE concert_id = :c AND starts_at = now() + interval '14 days' \gset
SELECT on_date AS d21 FROM ticket.concert_dates WHERE concert_id = :c AND starts_at = now() + interval '21 days' \gset
SELECT pg_temp.new_user('cat-a') AS ka, pg_temp.new_user('cat-b') AS kb, pg_temp.new_user('cat-c') AS kc \gset
SELECT pg_temp.join_queue(:'ka', :c) AS ta \gset
SELECT pg_temp.join_queue(:'kb', :c) AS tb \gset
SELECT pg_temp.join_queue(:'kc', :c) AS tc \gset

SELECT status AS s, body AS b FROM api.available_dates(:'ka', :'ta', :c) \gset
SELECT is(:s, 200, 'available_dates: 200');
SELECT results_eq(format($$SELECT (x->>'date')::date, (x->>'starts_at')::timestamptz, (x->>'available_seats')::int
                           FROM json_array_elements(%L::json->'dates') x$$, :'b'),
  format($$VALUES (%L::date, now() + interval '7 days', 3), (%L, now() + interval '14 days', 3), (%L, now() + interval '21 days', 3)$$,
         :'d7', :'d14', :'d21'),
  'available_dates: future dates only, ascending, with starts_at and available_seats (past and started dates never show)');
SELECT (api.hold_seat(:'ka', :'ta', :c, :'d14', '{1,2,3}')).body->>'reservation_id' AS ra \gset
SELECT (api.hold_seat(:'kb', :'tb', :c, :'d7', '{2}')).body->>'reservation_id' AS rb \gset
SELECT results_eq(format('SELECT * FROM pg_temp.dates(%L, %L, %s)', :'ka', :'ta', :c),
  format($$VALUES (%L::date, 2), (%L::date, 3)$$, :'d7', :'d21'),
  'available_dates: a held seat is not available; a date with every seat held disappears');
SELECT (api.hold_seat(:'kc', :'tc', :c, :'d21', '{1,2,3}')).body->>'reservation_id' AS rc \gset
SELECT (api.charge_wallet(:'kc', 10000000, NULL)).status AS ok \gset
SELECT is((api.pay_reservation(:'kc', :'tc', :rc, NULL)).status, 201, 'fixture: every seat of the third date is paid');
SELECT pg_temp.join_queue(:'kc', :c) AS tc \gset
SELECT results_eq(format('SELECT * FROM pg_temp.dates(%L, %L, %s)', :'kc', :'tc', :c),
  format($$VALUES (%L::date, 2)$$, :'d7'),
  'available_dates: a date with every seat sold disappears');
SELECT pg_temp.hold_runs_out(:ra);
SELECT results_eq(format('SELECT * FROM pg_temp.dates(%L, %L, %s)', :'ka', :'ta', :c),
  format($$VALUES (%L::date, 2), (%L::date, 3)$$, :'d7', :'d14'),
  'available_dates: seats of an expired hold are available at once, before any cleanup');
SELECT (api.cancel_reservation(:'kb', :'tb', :rb)).status AS ok \gset
SELECT results_eq(format('SELECT * FROM pg_temp.dates(%L, %L, %s)', :'ka', :'ta', :c),
  format($$VALUES (%L::date, 3), (%L::date, 3)$$, :'d7', :'d14'),
  'available_dates: seats of a cancelled hold are available at once');
SELECT admin.create_concert('Catalogue past', 'Hall', ARRAY[now() - interval '2 days'], p_seats => 3) AS cp \gset
SELECT pg_temp.join_queue(:'ka', :cp) AS tap \gset
SELECT is((api.available_dates(:'ka', :'tap', :cp)).body::jsonb, '{"dates": []}'::jsonb,
  'available_dates: a concert with no future date has an empty list');

-- seat_map: 50 seats in three tiers
SELECT admin.create_concert('Seat map test', 'Hall', ARRAY[now() + interval '7 days'], p_max_seats_per_user => 2) AS m \gset
SELECT on_date AS md FROM ticket.concert_dates WHERE concert_id = :m \gset
SELECT pg_temp.join_queue(:'ka', :m) AS ma \gset
SELECT pg_temp.join_queue(:'kb', :m) AS mb \gset
SELECT pg_temp.join_queue(:'kc', :m) AS mc \gset
SELECT status AS s, body AS b FROM api.seat_map(:'ka', :'ma', :m, :'md') \gset
SELECT is(:s, 200, 'seat_map: 200');
SELECT is((:'b'::json->>'date')::date, :'md'::date, 'seat_map: the body names the date');
SELECT is((SELECT array_agg(k ORDER BY k) FROM json_object_keys(:'b'::json->'seats'->0) k), ARRAY['price', 'seat_no', 'status'],
  'seat_map: each seat has seat_no, price and status');
SELECT results_eq(format($$SELECT (x->>'seat_no')::int, (x->>'price')::bigint, x->>'status'
                           FROM json_array_elements(%L::json->'seats') x$$, :'b'),
  $$SELECT n, CASE WHEN n <= 17 THEN 150000 WHEN n <= 34 THEN 110000 ELSE 80000 END::bigint, 'AVAILABLE'
    FROM generate_series(1, 50) n$$,
  'seat_map: every seat 1..50 ascending, three price tiers front to back (17 x 150,000, 17 x 110,000, 16 x 80,000), all AVAILABLE');
SELECT (api.hold_seat(:'ka', :'ma', :m, :'md', '{7,8}')).body->>'reservation_id' AS mra \gset
SELECT (api.hold_seat(:'kb', :'mb', :m, :'md', '{20}')).body->>'reservation_id' AS mrb \gset
SELECT (api.charge_wallet(:'kb', 1000000, NULL)).status AS ok \gset
SELECT (api.pay_reservation(:'kb', :'mb', :mrb, NULL)).status AS ok \gset
SELECT (api.hold_seat(:'kc', :'mc', :m, :'md', '{40}')).body->>'reservation_id' AS mrc \gset
CREATE FUNCTION pg_temp.seat_statuses(p_key text, p_token text, p_concert bigint, p_date date)
RETURNS TABLE (seat_no int, status text) LANGUAGE sql AS $$
  SELECT (x->>'seat_no')::int, x->>'status'
  FROM json_array_elements((api.seat_map(p_key, p_token, p_concert, p_date)).body->'seats') x
  WHERE x->>'status' <> 'AVAILABLE' OR (x->>'seat_no')::int IN (7, 8, 20, 40)
$$;
SELECT results_eq(format('SELECT * FROM pg_temp.seat_statuses(%L, %L, %s, %L)', :'kc', :'mc', :m, :'md'),
  $$VALUES (7, 'HELD'), (8, 'HELD'), (20, 'SOLD'), (40, 'HELD')$$,
  'seat_map: held seats are HELD and the paid one SOLD, for everyone');
SELECT pg_temp.hold_runs_out(:mrc);
SELECT results_eq(format('SELECT * FROM pg_temp.seat_statuses(%L, %L, %s, %L)', :'ka', :'ma', :m, :'md'),
  $$VALUES (7, 'HELD'), (8, 'HELD'), (20, 'SOLD'), (40, 'AVAILABLE')$$,
  'seat_map: a hold past its expiry shows AVAILABLE at once, before any cleanup');
SELECT is((SELECT status FROM ticket.reservations WHERE id = :mrc), 'HELD',
  'seat_map: (the expired reservation row is still HELD: nothing was cleaned up)');
SELECT (api.cancel_reservation(:'ka', :'ma', :mra)).status AS ok \gset
SELECT results_eq(format('SELECT * FROM pg_temp.seat_statuses(%L, %L, %s, %L)', :'ka', :'ma', :m, :'md'),
  $$VALUES (7, 'AVAILABLE'), (8, 'AVAILABLE'), (20, 'SOLD'), (40, 'AVAILABLE')$$,
  'seat_map: the seats of a cancelled hold show AVAILABLE at once');
SELECT pg_temp.join_queue(:'kb', :m) AS mb \gset
SELECT is((api.seat_map(:'kb', :'mb', :m, :'md')).body->'seats'->19->>'status', 'SOLD',
  'seat_map: a sold seat stays SOLD');
SELECT throws_ok(format('SELECT api.seat_map(%L, %L, %s, %L)', :'ka', :'ma', :m, (:'md'::date + 1)::text), 'T404A', NULL,
  'seat_map: a date without a performance is NOT_FOUND');
SELECT throws_ok(format('SELECT api.seat_map(%L, %L, %s, NULL)', :'ka', :'ma', :m), 'T404A', NULL,
  'seat_map: a missing date is NOT_FOUND');
SELECT throws_ok(format('SELECT api.seat_map(%L, %L, %s, %L)', :'ka', :'ma', :m, :'d14'), 'T404A', NULL,
  'seat_map: a date of another concert is NOT_FOUND');
SELECT is(json_array_length((api.seat_map(:'ka', :'ta', :c, :'d21')).body->'seats'), 3,
  'seat_map: a date of 3 seats lists 3 seats');
SELECT is(
  (SELECT array_agg(x->>'status') FROM json_array_elements((api.seat_map(:'ka', :'ta', :c, :'d21')).body->'seats') x),
  ARRAY['SOLD', 'SOLD', 'SOLD'], 'seat_map: every seat of a sold-out date is SOLD');
SELECT is((SELECT count(*) FROM ticket.concert_dates WHERE id IN (:past_id, :started_id)), 2::bigint,
  'fixture: the past and the just-started dates exist');

SELECT * FROM finish();
ROLLBACK;
