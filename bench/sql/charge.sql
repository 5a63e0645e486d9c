\set u random(1, :holders + :waiting)
SELECT * FROM api.charge_wallet((SELECT key FROM bench.users WHERE n = :u), 10000,
  'bench-charge-' || nextval('bench.next_charge'));
