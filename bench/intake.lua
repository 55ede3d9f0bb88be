-- wrk script: POST /api/v1/reports (a field inspector's report with one photo) on every request.
--
-- Each request is a multipart body: a `report` part (JSON: a category drawn from a list of
-- common event/component classes, a random point inside the demo grid, a description) and a
-- `photo` part (the file HOTLINE_PHOTO, read once per thread). Every request carries a fresh
-- Idempotency-Key. Prints the same BENCH line as create_order.lua (bench/orders.sh reads it).
--
-- Environment: HOTLINE_TOKEN (default demo-inspector-01), HOTLINE_PHOTO (path of the photo).

local token = os.getenv("HOTLINE_TOKEN") or "demo-inspector-01"
local photo_path = os.getenv("HOTLINE_PHOTO") or error("HOTLINE_PHOTO is not set")
local categories = { "E0101", "E0103", "E0106", "E0201", "E0402", "E0501", "C0101", "C0302" }
local boundary = "hotline-bench-7d1f0c2a"

local threads = {}

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

function response(status, headers, resp_body)
  if status == 201 then
    created = created + 1
  else
    other[status] = (other[status] or 0) + 1
    if sample == nil then
      sample = resp_body
    end
  end
end

function done(summary, latency, requests)
  local total_created, total_other, statuses, first_sample = 0, 0, {}, nil
  for _, t in ipairs(threads) do
    total_created = total_created + (t:get("created") or 0)
    local o = t:get("other") or {}
    for status, n in pairs(o) do
      statuses[status] = (statuses[status] or 0) + n
      total_other = total_other + n
    end
    if first_sample == nil then
      first_sample = t:get("sample")
    end
  end
  if total_other > 0 then
    io.write("non-201 responses:\n")
    for status, n in pairs(statuses) do
      io.write(string.format("  %d: %d\n", status, n))
    end
    if first_sample then
      io.write("  first non-201 body: " .. string.sub(first_sample, 1, 300) .. "\n")
    end
  else
    io.write("non-201 responses: none\n")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH created=%d non201=%d requests=%d duration_us=%d connect_err=%d read_err=%d " ..
    "write_err=%d timeout_err=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%d\n",
    total_created, total_other, summary.requests, summary.duration, e.connect, e.read,
    e.write, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
