-- A hold counts the user's seats held, being paid (PAYING) and bought against the
-- per-person limit. The index it reads by had no PAYING rows, so that count read the
-- whole table: every hold, one row per reservation of every user (make bench: HTTP
-- holds at half their rate; tests/sql/15_stale_statistics.sql).
DROP INDEX ticket.reservations_user_concert;
CREATE INDEX reservations_user_concert ON ticket.reservations (user_id, concert_id)
  WHERE status IN ('HELD', 'PAYING', 'CONFIRMED');
