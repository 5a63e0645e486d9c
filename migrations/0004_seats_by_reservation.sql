-- Paying, cancelling and expiring a hold change its seats by reservation_id; without
-- an index each of them read every seat of every concert (found by make bench: a
-- payment took 200 ms with 100,000 seats in the database).
CREATE INDEX seats_reservation ON ticket.seats (reservation_id) WHERE reservation_id IS NOT NULL;
