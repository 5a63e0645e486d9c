-- The sale that opens: :dates dates of 50 seats, 100 admitted at a time, one seat each.
SELECT bench.concert('surge', :dates, 100, 1) AS surge \gset
-- Arrivals and polls keep their turn alive on their own: the usual turn and idle limits.
SELECT admin.set_queue(:surge, p_active_minutes => 10, p_idle_seconds => 120);
-- The refund wave refunds seats of the first date too, which starts in a day: refunds
-- until an hour before (the usual 10 % fee).
SELECT admin.set_refunds(:surge, p_hours_before => 1);
