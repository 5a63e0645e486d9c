SELECT n, key, token, on_date, seat_no FROM bench.pay_plan WHERE n = (SELECT nextval('bench.next_pay')) \gset
SELECT bench.must(api.hold_seat(:key, :token, :concert, :on_date, ARRAY[:seat_no::int]), 201, 'hold_seat')->>'reservation_id' AS r \gset
SELECT bench.must(api.pay_reservation(:key, :token, :r, 'bench-pay-' || :n), 201, 'pay_reservation');
