-- wrk script: every request ticks one exercise with a fresh UUID v4, signed in by
-- the session cookie with the CSRF header, as the PWA does. Counts the statuses.
-- wrk ... -s bench/wrk/exercise_log.lua <url> -- <cookie> <csrf> <exercise_id> <day>

local threads = {}
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_number", next_thread)
  table.insert(threads, thread)
end

local body_format = '{"id": "%s", "exercise_id": %d, "performed_on": "%s"}'
local exercise_id, performed_on
statuses = {}  -- a global: done() reads it from every thread with thread:get

function init(args)
  -- each thread has its own Lua state: seed each one differently
  math.randomseed(os.time() * 1000 + thread_number * 7919 + math.floor(os.clock() * 1e6))
  for _ = 1, 10 do math.random() end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Cookie"] = args[1]
  wrk.headers["X-CSRF-Token"] = args[2]
  exercise_id = tonumber(args[3])
  performed_on = args[4]
end

local function uuid4()
  return (string.gsub("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", "[xy]", function(c)
    local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
    return string.format("%x", v)
  end))
end

function request()
  return wrk.format(nil, nil, nil, string.format(body_format, uuid4(), exercise_id, performed_on))
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    -- thread:get returns a copy of the thread's table
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("status %d: %d\n", status, count))
  end
end
