-- wrk script for the BitRouter benchmark: POSTs one fixed chat request body.
--
-- The body comes from the file named by BENCH_BODY_FILE, or else from the
-- BENCH_BODY environment variable. BENCH_AUTH, when set, is sent as
-- "Authorization: Bearer <value>" (run.sh sets it only for the direct runs;
-- the router uses its own provider key upstream).
--
-- At the end, done() prints one machine-readable line with the exact
-- percentiles in microseconds (wrk's text report rounds to two decimals of
-- the unit it picks); run.sh prefers that line and falls back to the text.

local body = nil
local path = os.getenv("BENCH_BODY_FILE")
if path ~= nil and path ~= "" then
  local f, err = io.open(path, "rb")
  if f == nil then
    error("post.lua: cannot open BENCH_BODY_FILE: " .. tostring(err))
  end
  body = f:read("*a")
  f:close()
else
  body = os.getenv("BENCH_BODY")
end
if body == nil or body == "" then
  error("post.lua: set BENCH_BODY_FILE (a file) or BENCH_BODY (the body itself)")
end

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"

local auth = os.getenv("BENCH_AUTH")
if auth ~= nil and auth ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. auth
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local rps = 0
  if seconds > 0 then
    rps = summary.requests / seconds
  end
  local e = summary.errors
  io.write(string.format(
    "bench-summary p50_us=%d p99_us=%d rps=%.2f requests=%d non2xx=%d " ..
    "connect=%d read=%d write=%d timeout=%d\n",
    latency:percentile(50), latency:percentile(99), rps, summary.requests,
    e.status, e.connect, e.read, e.write, e.timeout))
end
