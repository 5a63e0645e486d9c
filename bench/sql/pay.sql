SELECT * FROM bench.pay_next(:pay);
