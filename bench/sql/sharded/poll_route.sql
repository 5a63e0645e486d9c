SELECT * FROM route.queue_status(route.token_slot(:token), :token);
