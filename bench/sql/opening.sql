-- The sale with a pre-queue (psql variables :dates, :lead seconds): like the surge's
-- concert, but its sale opens :lead seconds from now; the pre-queue is open already.
SELECT bench.concert('opening', :dates, 100, 1) AS opening \gset
SELECT admin.set_queue(:opening, p_active_minutes => 10, p_idle_seconds => 120);
SELECT admin.schedule_sale(:opening, now() + make_interval(secs => :lead), 60);
