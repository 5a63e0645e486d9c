SELECT * FROM bench.queue_status_plain(:token);
