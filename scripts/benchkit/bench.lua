-- wrk script for scripts/bench.py: one request kind per run, from a list of targets.
--
-- BENCH_TARGETS names a file of lines "METHOD<TAB>PATH<TAB>SESSION<TAB>FORM<TAB>HTMX"
-- (SESSION "-" for none, FORM "-" for a GET). Thread n of T takes targets n, n+T, ...
-- in turn. Run with as many threads as connections: a thread's one connection has one
-- request in flight, so each response is paired with the request that caused it.
-- A form's {TOKEN} becomes a unique token and {UUID} a unique UUID. Logged-in requests
-- carry the session cookie; POSTs carry a CSRF cookie, the same secret in X-CSRFToken
-- and an Origin, as a browser behind the TLS proxy does (X-Forwarded-Proto: https).
-- BENCH_OFFSET: where in the list thread 1 starts (past the targets earlier runs used).
-- BENCH_OUT: done() writes the run's figures there as JSON, and to BENCH_OUT .. ".writes"
-- a line "S token n" per write sent (its target: n modulo the number of targets), "A token n
-- status" per response.

-- BENCH_START and BENCH_END (CLOCK_MONOTONIC seconds, as Python's time.monotonic()):
-- the measured window. Responses before it are the warm-up; requests/s and latency are
-- of the responses inside it, each latency from its own request's sending (one
-- connection per thread), so warm-up and measurement share one set of connections.

local ffi = require("ffi")
ffi.cdef([[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *now);
]])
local timespec = ffi.new("bench_timespec")
local function monotonic()
  ffi.C.clock_gettime(1, timespec) -- CLOCK_MONOTONIC
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) / 1e9
end
local window_start = tonumber(os.getenv("BENCH_START") or "0")
local window_end = tonumber(os.getenv("BENCH_END") or "1e18")
local sent_at = 0

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local targets = {}
local csrf = "benchcsrfsecretbenchcsrfsecret01" -- 32 characters, like Django's secret
local n = 0
local sent = 0
local pending = nil
statuses = {} -- globals: done() reads them with thread:get
body_bytes = 0
responses = 0
writes = {}
sent_writes = {}
latencies = {} -- milliseconds, responses inside the window
local run = os.getenv("BENCH_RUN") or "r"
local kind = os.getenv("BENCH_KIND") or "k"
local nonce = os.getenv("BENCH_NONCE") or "000-000000000000" -- 3 + 12 hex digits, one per wrk run

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(fields, field)
  end
  return fields
end

function init(args)
  for line in io.lines(os.getenv("BENCH_TARGETS")) do
    if line ~= "" then
      table.insert(targets, split(line))
    end
  end
  threads_total = tonumber(os.getenv("BENCH_THREADS"))
  n = tonumber(os.getenv("BENCH_OFFSET") or "0") + id - 1
end

function request()
  local raw = n
  local target = targets[(raw % #targets) + 1]
  n = n + threads_total
  sent = sent + 1
  local method, path, session, form, htmx = target[1], target[2], target[3], target[4], target[5]
  local host = wrk.host .. ":" .. wrk.port
  local headers = {
    ["Host"] = host,
    ["X-Forwarded-Proto"] = "https",
    ["Accept-Encoding"] = "gzip, deflate, br, zstd",
    ["User-Agent"] = "sectstudy-bench",
  }
  local cookies = {}
  if session ~= "-" then
    table.insert(cookies, "sessionid=" .. session)
  end
  if htmx == "1" then
    headers["HX-Request"] = "true"
  end
  local body = nil
  pending = nil
  if method == "POST" then
    table.insert(cookies, "csrftoken=" .. csrf)
    headers["X-CSRFToken"] = csrf
    headers["Origin"] = "https://" .. host
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    local token = string.format("%s%s%dn%d", run, kind, id, sent)
    local uuid = string.format("%08x-%04x-4%03x-8%s", id, sent % 65536, math.floor(sent / 65536) % 4096, nonce)
    body = form:gsub("{TOKEN}", token):gsub("{UUID}", uuid)
    pending = token .. " " .. raw
    table.insert(sent_writes, pending)
  end
  if #cookies > 0 then
    headers["Cookie"] = table.concat(cookies, "; ")
  end
  sent_at = monotonic()
  return wrk.format(method, path, headers, body)
end

function response(status, headers, body)
  local now = monotonic()
  if now >= window_start and now < window_end then
    table.insert(latencies, string.format("%.3f", (now - sent_at) * 1000))
  end
  responses = responses + 1
  statuses[status] = (statuses[status] or 0) + 1
  body_bytes = body_bytes + #body
  if pending ~= nil then
    table.insert(writes, pending .. " " .. status)
    pending = nil
  end
end

function done(summary, latency, requests)
  local total_statuses = {}
  local total_bytes, total_responses = 0, 0
  local out = os.getenv("BENCH_OUT")
  local lines = io.open(out .. ".writes", "w")
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total_statuses[status] = (total_statuses[status] or 0) + count
    end
    total_bytes = total_bytes + thread:get("body_bytes")
    total_responses = total_responses + thread:get("responses")
    for _, line in ipairs(thread:get("sent_writes")) do
      lines:write("S ", line, "\n")
    end
    for _, line in ipairs(thread:get("writes")) do
      lines:write("A ", line, "\n")
    end
    for _, ms in ipairs(thread:get("latencies")) do
      lines:write("L ", ms, "\n")
    end
  end
  lines:close()
  local parts = {}
  for status, count in pairs(total_statuses) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  local file = io.open(out, "w")
  file:write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "body_bytes": %d, "responses": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, "statuses": {%s}}\n',
    summary.requests, summary.duration, summary.bytes, total_bytes, total_responses,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
    summary.errors.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, table.concat(parts, ", ")))
  file:close()
end
