-- wrk script: requests spread over many signed-in patients, as a clinic's phones
-- would send them. Each line of the sessions file is one patient:
--   cookie <TAB> csrf token <TAB> patient id <TAB> exercise id due today <TAB> today
-- wrk ... -s bench/wrk/patients.lua <base url> -- <sessions file> routine|tick|me
-- "routine" GETs each patient's routine in turn; "tick" POSTs a new tick (a fresh
-- UUID v4) of the patient's exercise; "me" GETs /api/auth/me (the signed-in floor:
-- a session looked up, nothing else read). Counts the answers' statuses.

local threads = {}
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_number", next_thread)
  table.insert(threads, thread)
end

local sessions = {}
local position = 0
local mode
statuses = {}  -- a global: done() reads it from every thread with thread:get

-- The requests are made once in init() where they can be: wrk shares the
-- machine's cores with the server, and a script that formats every request
-- takes CPU the server would otherwise use (the hello-world floor runs with
-- no script at all).
local routines = {}
local uuid_prefix
local counter = 0
local body_format = '{"id": "%s%012x", "exercise_id": %s, "performed_on": "%s"}'
-- every browser sends its languages; without them the app asks the clinic's default
local language = "en-GB,en;q=0.9"

local function prepare()
  -- a random UUID v4 prefix per thread, then a counter: unique, and cheap
  uuid_prefix = string.format("%08x-%04x-4%03x-%x%03x-",
    math.random(0, 0xffffffff), math.random(0, 0xffff), math.random(0, 0xfff),
    math.random(8, 11), math.random(0, 0xfff))
  for index, session in ipairs(sessions) do
    local path = "/api/patients/" .. session.patient .. "/routine"
    if mode == "me" then path = "/api/auth/me" end
    routines[index] = wrk.format("GET", path,
      { ["Cookie"] = session.cookie, ["Accept-Language"] = language })
  end
end

function init(args)
  -- each thread has its own Lua state: seed each one differently
  math.randomseed(os.time() * 1000 + thread_number * 7919 + math.floor(os.clock() * 1e6))
  for _ = 1, 10 do math.random() end
  for line in io.lines(args[1]) do
    local cookie, csrf, patient, exercise, today =
      line:match("^([^\t]+)\t([^\t]+)\t(%d+)\t(%d+)\t([%d-]+)$")
    table.insert(sessions, {
      cookie = cookie, csrf = csrf, patient = patient, exercise = exercise, today = today,
    })
  end
  mode = args[2]
  -- each thread starts at a patient of its own and walks through all of them
  position = math.random(#sessions)
  prepare()
end

function request()
  position = position % #sessions + 1
  if mode ~= "tick" then
    return routines[position]
  end
  local session = sessions[position]
  counter = counter + 1
  return wrk.format("POST", "/api/patients/" .. session.patient .. "/exercise-logs", {
    ["Cookie"] = session.cookie,
    ["Accept-Language"] = language,
    ["X-CSRF-Token"] = session.csrf,
    ["Content-Type"] = "application/json",
  }, string.format(body_format, uuid_prefix, counter, session.exercise, session.today))
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
