SELECT * FROM bench.hold_next(:hold);
