-- GET /api/concerts/{id}/dates/{date}/seats: a random admitted user, a random date
-- (rows: key token; dates: date).
local lib = dofile("wrk/lib.lua")
local holders = lib.rows("HOLDERS")
local dates = lib.rows("DATES")
local prefix = "/api/concerts/" .. os.getenv("CONCERT") .. "/dates/"
request = function()
  local h = lib.random(holders)
  return wrk.format("GET", prefix .. lib.random(dates)[1] .. "/seats",
    { ["Authorization"] = "Bearer " .. h[1], ["X-Queue-Token"] = h[2] })
end
