-- route.refund_begin also says whether the key's first request is still in progress,
-- so that a retry can finish a refund cut off after its first step (plpgsql/proxy).
DROP FUNCTION IF EXISTS route.refund_begin(int, text, text, bigint);
