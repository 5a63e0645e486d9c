-- POST /api/reservations: each planned hold once (rows: key token date seat_no).
local lib = dofile("wrk/lib.lua")
local holds = lib.rows("HOLDS")
local concert = os.getenv("CONCERT")
request = function()
  local h = lib.next(holds)
  return lib.post("/api/reservations", { ["Authorization"] = "Bearer " .. h[1], ["X-Queue-Token"] = h[2] },
    string.format('{"concert_id": %s, "date": "%s", "seat_nos": [%s]}', concert, h[3], h[4]))
end
