-- On the proxy only: api.queue_status's wrapper taken apart, to see where a routed
-- poll's time goes (bench/sharded.sh, "where the hop goes"). Same body as the real one
-- (plpgsql/proxy/30_api.sql) without its EXCEPTION block (a subtransaction per call),
-- then without SECURITY DEFINER and SET search_path too; route.queue_status alone is
-- PL/Proxy with nothing around it.
SET client_min_messages = warning;
CREATE FUNCTION bench.queue_status_noexc(p_token text) RETURNS api.reply
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  RETURN route.queue_status(route.token_slot(p_token), p_token);
END
$$;
CREATE FUNCTION bench.queue_status_plain(p_token text) RETURNS api.reply
LANGUAGE plpgsql
AS $$
BEGIN
  RETURN route.queue_status(route.token_slot(p_token), p_token);
END
$$;
