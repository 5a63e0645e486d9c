-- A concert's last date in one probe (ticket.date_ahead: has it a date ahead?), for its
-- status and the tick's rest. By (concert_id, on_date) that read every date of a
-- concert; by concert_dates_ahead, every date ahead of every concert
-- (tests/sql/15_stale_statistics.sql).
CREATE INDEX concert_dates_by_concert ON ticket.concert_dates (concert_id, starts_at);
