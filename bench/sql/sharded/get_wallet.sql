SELECT * FROM api.get_wallet(:key);
