-- GET /api/queue with a random waiting token, as every waiting browser polls (rows: token).
local lib = dofile("wrk/lib.lua")
local tokens = lib.rows("TOKENS")
request = function()
  return wrk.format("GET", "/api/queue", { ["X-Queue-Token"] = lib.random(tokens)[1] })
end
