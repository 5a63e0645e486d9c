-- POST /api/concerts/{id}/queue: each bench user joins once (rows: key).
local lib = dofile("wrk/lib.lua")
local users = lib.rows("JOINERS")
local path = "/api/concerts/" .. os.getenv("CONCERT") .. "/queue"
request = function()
  local u = lib.next(users)
  return lib.post(path, { ["Authorization"] = "Bearer " .. u[1] }, "")
end
