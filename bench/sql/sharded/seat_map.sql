SELECT * FROM api.seat_map(:key, :token, :concert, :on_date);
