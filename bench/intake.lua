-- wrk script: POST /api/v1/reports (a field inspector's report with one photo) on every request.
--
-- Each request is a multipart body: a `report` part (JSON: a category drawn from a list of
-- common event/component classes, a random point inside the demo grid, a description) and a
-- `photo` part (the file HOTLINE_PHOTO, read once per thread). Every request carries a fresh
-- Idempotency-Key. Counted and reported by bench/wrk_results.lua, as create_order.lua is.
--
-- Environment: HOTLINE_TOKEN (default demo-inspector-01), HOTLINE_PHOTO (path of the photo).

local token = os.getenv("HOTLINE_TOKEN") or "demo-inspector-01"
local photo_path = os.getenv("HOTLINE_PHOTO") or error("HOTLINE_PHOTO is not set")
local categories = { "E0101", "E0103", "E0106", "E0201", "E0402", "E0501", "C0101", "C0302" }
local boundary = "hotline-bench-7d1f0c2a"

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  created = 0
  other = {}
  sample = nil
  local f = assert(io.open(photo_path, "rb"))
  photo = f:read("*a")
  f:close()
  seq = 0
  math.randomseed(os.time() * 1000 + (id or 0))
end

function request()
  seq = seq + 1
  local lon = 101.7005 + math.random() * 0.019
  local lat = 26.5705 + math.random() * 0.019
  local cat = categories[math.random(#categories)]
  local report = string.format(
    '{"category_id":"%s","description":"bench report %d 巡查发现","longitude":%.6f,"latitude":%.6f,' ..
    '"address":"炳草岗大街 %d 号"}', cat, seq, lon, lat, seq % 500)
  local body = "--" .. boundary .. "\r\n" ..
    'Content-Disposition: form-data; name="report"\r\n' ..
    "Content-Type: application/json\r\n\r\n" .. report .. "\r\n" ..
    "--" .. boundary .. "\r\n" ..
    'Content-Disposition: form-data; name="photo"; filename="scene.jpg"\r\n' ..
    "Content-Type: image/jpeg\r\n\r\n" .. photo .. "\r\n" ..
    "--" .. boundary .. "--\r\n"
  local headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "multipart/form-data; boundary=" .. boundary,
    ["Idempotency-Key"] = string.format("bench-%d-%d-%d", id or 0, os.time(), seq),
  }
  return wrk.format("POST", "/api/v1/reports", headers, body)
end

-- The response counting and the BENCH line (bench/wrk_results.lua, beside this script).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_results.lua")
