-- route.list_concerts takes the statuses asked for (plpgsql/proxy/20_remote.sql).
DROP FUNCTION IF EXISTS route.list_concerts();
