-- Shared by the wrk scripts (bench/run.sh runs wrk from bench/): rows of the
-- bench data from files it wrote, taken at random or each once, in order, split
-- between wrk's threads so that no two requests use the same row.
local lib = {}
local threads = {}

function lib.rows(env)
  local rows = {}
  for line in io.lines(os.getenv(env)) do
    local f = {}
    for w in line:gmatch("%S+") do f[#f + 1] = w end
    rows[#rows + 1] = f
  end
  return rows
end

-- wrk calls setup once per thread in the main state; init then runs in the thread.
function setup(thread)
  thread:set("thread_id", #threads)
  threads[#threads + 1] = thread
end

local nthreads, next_row
function init()
  nthreads = tonumber(os.getenv("WRK_THREADS") or "2")
  next_row = thread_id + 1
end

-- The next unused row (thread k takes rows k+1, k+1+n, ...); past the end it
-- repeats the last, which the server refuses: run.sh counts the refusals.
function lib.next(rows)
  local row = rows[next_row] or rows[#rows]
  next_row = next_row + nthreads
  return row
end

function lib.random(rows)
  return rows[math.random(#rows)]
end

function lib.post(path, headers, body)
  headers["Content-Type"] = body ~= "" and "application/json" or nil
  return wrk.format("POST", path, headers, body)
end

math.randomseed(os.time())
return lib
