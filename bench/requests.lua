-- wrk script for bench/inbound.py: cycles through pre-generated webhook posts, one slice per wrk thread.
-- BENCH_REQUESTS: file of lines  path \t header name \t header value \t content type \t body
-- BENCH_RATE: when set, the requests per second to aim at (all threads together); otherwise as fast as possible.
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } bench_timespec; int clock_gettime(int, bench_timespec *); ]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function init(args)
  local total = tonumber(os.getenv("BENCH_THREADS") or "1")
  local file = assert(io.open(os.getenv("BENCH_REQUESTS"), "r"))
  requests = {}
  local i = 0
  for line in file:lines() do
    if i % total == id then
      local path, name, value, kind, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {["Content-Type"] = kind}
      headers[name] = value
      table.insert(requests, wrk.format("POST", path, headers, body))
    end
    i = i + 1
  end
  file:close()
  index = 0
  wrapped = 0
  local rate = tonumber(os.getenv("BENCH_RATE") or "0")
  interval = rate > 0 and (1000.0 * total / rate) or 0
  next_at = nil
end

function request()
  index = index + 1
  if index > #requests then
    index = 1
    wrapped = wrapped + 1
  end
  return requests[index]
end

if tonumber(os.getenv("BENCH_RATE") or "0") > 0 then
  -- Each request takes the next slot of this thread's timetable (open loop, as far as wrk allows).
  function delay()
    local now = now_ms()
    if next_at == nil or next_at < now - 50 then next_at = now end
    local wait = next_at - now
    next_at = next_at + interval
    return math.floor(wait)
  end
end

function done(summary, latency, requests)
  local wraps = 0
  for _, thread in ipairs(threads) do wraps = wraps + (thread:get("wrapped") or 0) end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, ' ..
    '"timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "wrapped": %d}\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, wraps))
end
