-- POST /api/wallet/charge: a random user adds 10,000 won under a new
-- Idempotency-Key (rows: key token).
local lib = dofile("wrk/lib.lua")
local users = lib.rows("HOLDERS")
local tag = os.getenv("RUN_TAG")
local n = 0
request = function()
  n = n + 1
  return lib.post("/api/wallet/charge", { ["Authorization"] = "Bearer " .. lib.random(users)[1],
    ["Idempotency-Key"] = string.format("bench-charge-%s-%d-%d", tag, thread_id, n) }, '{"amount": 10000}')
end
