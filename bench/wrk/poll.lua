-- GET /api/queue with a random waiting token of the bench data (one per line in
-- the file named by TOKENS), as every waiting browser polls.
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
math.randomseed(os.time())

request = function()
  local t = tokens[math.random(#tokens)]
  return wrk.format("GET", "/api/queue", { ["X-Queue-Token"] = t })
end
