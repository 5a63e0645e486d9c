\set n random(1, :admitted)
SELECT * FROM api.seat_map((SELECT key FROM bench.users WHERE n = :n),
  (SELECT token FROM bench.tokens WHERE concert = 'seats' AND n = :n), :concert, :on_date);
