-- PL/Proxy warns ("detected unstable connection") each time it drops a partition's
-- connection after a failure and reconnects: after a failover, every program would log
-- it. The programs need errors only; what a partition's failure was, its error says.
ALTER ROLE ticket_web SET client_min_messages = error;
