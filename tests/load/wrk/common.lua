-- common.lua: shared by the wrk capacity scripts of this directory (loaded with dofile).
-- Environment:
--   SP_TOKEN   access token sent as "Authorization: Bearer <token>" (required by the API)
-- At the end wrk prints one line "WRK_JSON {...}" with requests, errors and latency
-- percentiles (microseconds); scripts/load-test reads it.

local token = os.getenv("SP_TOKEN")
if token == nil or token == "" then
  io.stderr:write("wrk script: SP_TOKEN is not set; the API will answer 401\n")
else
  wrk.headers["Authorization"] = "Bearer " .. token
end
wrk.headers["Accept"] = "application/json"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"stdev":%.1f,' ..
    '"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max, latency.stdev,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
