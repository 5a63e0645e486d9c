-- POST /api/reservations/{id}/payment: each made hold paid once
-- (rows: key token reservation_id n).
local lib = dofile("wrk/lib.lua")
local pays = lib.rows("PAYS")
request = function()
  local p = lib.next(pays)
  return lib.post("/api/reservations/" .. p[3] .. "/payment", { ["Authorization"] = "Bearer " .. p[1],
    ["X-Queue-Token"] = p[2], ["Idempotency-Key"] = "bench-pay-" .. p[4] }, "")
end
