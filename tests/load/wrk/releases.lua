-- wrk capacity script: GET /api/releases (the first page of releases (cached by the server)) with a valid token.
--   SP_TOKEN=<access token> wrk -t2 -c64 -d30s --latency -s tests/load/wrk/releases.lua http://127.0.0.1:5000
-- scripts/load-test --scenario capacity runs it against the server and against nginx serving a
-- static file of the same size at the same path.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")
wrk.path = "/api/releases"
