-- POST /api/reservations, each request a new seat of the bench data (lines of
-- "key token date seat_no" in the file named by HOLDS), split between the threads
-- so that no two requests ask for the same seat.
local holds = {}
for line in io.lines(os.getenv("HOLDS")) do holds[#holds + 1] = line end
local concert = os.getenv("CONCERT")
local threads = {}

setup = function(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

init = function()
  nthreads = tonumber(os.getenv("WRK_THREADS") or "2")
  next_row = id + 1
end

request = function()
  local row = holds[next_row]
  next_row = next_row + nthreads
  if row == nil then row = holds[1] end  -- out of seats: 409s from here on (the bench checks)
  local key, token, date, seat = row:match("(%S+) (%S+) (%S+) (%S+)")
  local body = string.format('{"concert_id": %s, "date": "%s", "seat_nos": [%s]}', concert, date, seat)
  return wrk.format("POST", "/api/reservations", {
    ["Authorization"] = "Bearer " .. key,
    ["X-Queue-Token"] = token,
    ["Content-Type"] = "application/json",
  }, body)
end
