-- The surge as the database saw it (psql variable :surge): one JSON object, judged by
-- bench/run.sh. The waiting list is the concert's tokens neither admitted nor ended
-- when the first refund came; the refunded seats must have gone to its first ones.
WITH ref AS (
  SELECT f.* FROM ticket.refunds f JOIN ticket.reservations r ON r.id = f.reservation_id
  WHERE r.concert_id = :surge),
pay AS (
  SELECT p.user_id, p.created_at, EXISTS (SELECT 1 FROM ticket.refunds f WHERE f.payment_id = p.id) AS refunded
  FROM ticket.payments p JOIN ticket.reservations r ON r.id = p.reservation_id
  WHERE r.concert_id = :surge),
wave AS (SELECT min(created_at) AS at FROM ref),
list AS (
  SELECT t.user_id, row_number() OVER (ORDER BY t.seq) AS place
  FROM ticket.queue_tokens t, wave
  WHERE t.concert_id = :surge AND (t.activated_at IS NULL OR t.activated_at >= wave.at)
    AND (t.ended_at IS NULL OR t.ended_at >= wave.at)),
resale AS (SELECT p.user_id FROM pay p, wave WHERE p.created_at >= wave.at AND NOT p.refunded)
SELECT json_build_object(
  'seats_sold', (SELECT count(*) FROM ticket.seats s JOIN ticket.concert_dates d ON d.id = s.date_id
                 WHERE d.concert_id = :surge AND s.sold),
  'payments', (SELECT count(*) FROM pay),
  'payments_kept', (SELECT count(*) FROM pay WHERE NOT refunded),
  'refunds', (SELECT count(*) FROM ref),
  'refunded_won', (SELECT coalesce(sum(amount), 0) FROM ref),
  'fees_won', (SELECT coalesce(sum(fee), 0) FROM ref),
  'refunded_seats_not_sold_again', (SELECT count(*) FROM ref
                                    JOIN ticket.reservation_seats rs ON rs.reservation_id = ref.reservation_id
                                    JOIN ticket.seats s ON s.id = rs.seat_id WHERE NOT s.sold),
  'waiting_list_at_first_refund', (SELECT count(*) FROM list),
  'resales', (SELECT count(*) FROM resale),
  'resales_to_first_of_list', (SELECT count(*) FROM resale JOIN list USING (user_id)
                               WHERE list.place <= (SELECT count(*) FROM ref)),
  'books', (SELECT row_to_json(b) FROM admin.books() b),
  'invariant_violations', (SELECT count(*) FROM admin.check_invariants()),
  'invariants_broken', (SELECT coalesce(json_agg(i), '[]') FROM (SELECT * FROM admin.check_invariants() LIMIT 20) i));
