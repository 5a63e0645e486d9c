SELECT * FROM api.queue_status(:token);
