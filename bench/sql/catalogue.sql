-- Section 6: the catalogue's past, :past concerts of 50 seats whose dates have gone by,
-- found sold out long ago. Loaded last, as the minute's audit reads them too.
SELECT count(admin.create_concert('Past ' || i, 'Bench hall', ARRAY[now() + interval '1 day']))
FROM generate_series(1, :past) i;
UPDATE ticket.concert_dates d SET starts_at = now() - interval '30 days'
FROM ticket.concerts c WHERE c.id = d.concert_id AND c.title LIKE 'Past %';
UPDATE ticket.queues q SET sold_out = true
FROM ticket.concerts c WHERE c.id = q.concert_id AND c.title LIKE 'Past %';
ANALYZE ticket.concerts, ticket.concert_dates, ticket.queues, ticket.seats;  -- as autovacuum would
