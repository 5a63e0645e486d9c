SELECT * FROM bench.queue_status_noexc(:token);
