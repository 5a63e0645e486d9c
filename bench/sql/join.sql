SELECT * FROM bench.join_next(:join);
