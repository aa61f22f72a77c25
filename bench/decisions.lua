-- wrk script used by bench/decisions.py: POSTs decisions drawn at random from a prepared file.
--
--   wrk -t2 -c8 -d30s --latency -s bench/decisions.lua http://127.0.0.1:PORT/api/v1/decisions -- FILE
--
-- Each line of FILE is "<bearer token>\t<json body>". Every response is classified (permit, deny,
-- non-200) and done() prints one machine-readable line starting with BENCH_JSON.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

function init(args)
  prepared = {}
  for line in io.lines(args[1]) do
    local token, body = line:match("^([^\t]+)\t(.+)$")
    if token then
      prepared[#prepared + 1] = wrk.format("POST", nil, {
        ["Authorization"] = "Bearer " .. token,
        ["Content-Type"] = "application/json",
      }, body)
    end
  end
  permits, denies, failures = 0, 0, 0
  math.randomseed(os.time() * 100 + (thread_no or 0))
end

function request()
  return prepared[math.random(#prepared)]
end

function response(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
  elseif body:find('"decision":"permit"', 1, true) then
    permits = permits + 1
  else
    denies = denies + 1
  end
end

function done(summary, latency, requests)
  local permit_total, deny_total, failure_total = 0, 0, 0
  for _, thread in ipairs(threads) do
    permit_total = permit_total + thread:get("permits")
    deny_total = deny_total + thread:get("denies")
    failure_total = failure_total + thread:get("failures")
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,'
      .. '"mean_us":%.1f,"permits":%d,"denies":%d,"non_200":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, permit_total, deny_total, failure_total,
    errors.connect + errors.read + errors.write + errors.timeout
  ))
end
