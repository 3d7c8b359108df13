-- wrk capacity script: a mix of the main read endpoints with a valid token, in the proportions
-- of the plan's user (dashboard 5, releases 4, rules 2) plus release detail pages.
--   SP_TOKEN=<access token> [SP_WRK_MAX_ID=100000] wrk -t2 -c64 -d30s --latency \
--     -s tests/load/wrk/mixed.lua http://127.0.0.1:5000
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

local max_id = tonumber(os.getenv("SP_WRK_MAX_ID") or "") or 1000
local paths = {}
for _ = 1, 5 do paths[#paths + 1] = "/api/dashboard/stats" end
for _ = 1, 4 do paths[#paths + 1] = "/api/releases" end
for _ = 1, 2 do paths[#paths + 1] = "/api/rules" end
paths[#paths + 1] = "detail"

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed((seed or 1) * 7919 + os.time())
end

function request()
  local p = paths[math.random(#paths)]
  if p == "detail" then
    p = "/api/releases/" .. math.random(max_id)
  end
  return wrk.format("GET", p)
end
