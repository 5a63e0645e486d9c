\set u random(1, :holders)
\set d random(1, :dates)
SELECT * FROM api.seat_map((SELECT key FROM bench.users WHERE n = :u),
  (SELECT token FROM bench.tokens WHERE concert_id = :hold AND n = :u), :hold,
  (SELECT on_date FROM bench.dates WHERE n = :d));
