SELECT * FROM api.get_concert(:concert);
