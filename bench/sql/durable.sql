-- D, the durable-insert ceiling: one row, committed with its WAL flush
-- (bench/run.sh runs it with synchronous_commit on), the least a join must do.
INSERT INTO bench.durable (client) VALUES (:client_id);
