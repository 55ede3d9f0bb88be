-- wrk script: POST /api/v1/work-orders (create a work order) on every request.
--
-- The responses are counted and reported by bench/wrk_results.lua (the BENCH line that
-- bench/orders.sh reads).
--
-- Environment (read at load time): HOTLINE_TOKEN (default demo-agent-1001), HOTLINE_BODY (the
-- JSON body; default below).

local token = os.getenv("HOTLINE_TOKEN") or "demo-agent-1001"
local body = os.getenv("HOTLINE_BODY") or
  '{"request_type":"complaint","description":"路灯不亮 street light out",' ..
  '"caller_number":"13800000000","category_id":"C0101","grid_cell":"510402001001001",' ..
  '"address":"炳草岗大街 1 号"}'

wrk.method = "POST"
wrk.path = "/api/v1/work-orders"
wrk.body = body
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  created = 0
  other = {}        -- status -> count, for statuses other than 201
  sample = nil      -- the body of the first non-201 response, for the report
end

-- The response counting and the BENCH line (bench/wrk_results.lua, beside this script).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_results.lua")
