-- Shared by the wrk scripts of bench/orders.sh (create_order.lua, intake.lua): counts the
-- responses per status in each thread; done() adds them up over the threads, prints any
-- non-201 statuses, and prints one machine-readable line for bench/orders.sh:
--   BENCH created=N non201=N requests=N duration_us=N connect_err=N read_err=N write_err=N
--         timeout_err=N p50_us=N p90_us=N p99_us=N max_us=N mean_us=N
-- The including script keeps its threads in the global `threads` (from setup()) and sets
-- created = 0, other = {}, sample = nil in init().

threads = {}

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
