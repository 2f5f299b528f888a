-- wflow lua_bridge: the `time` module (mirrors wflow/dsl/time.py). Time objects, durations and
-- the calendar live in lua/time_object.lua. In a workflow, time.sleep is a durable timer and
-- time.now the workflow clock; in a function both are real.

local B, cfg = ...

local type, setmetatable, getmetatable, ipairs = type, setmetatable, getmetatable, ipairs
local ulen = utf8.len
local ops, duration_ms, only_in_workflows = B.ops, B.duration_ms, B.only_in_workflows

-- Channel objects come from lua/channel.lua, loaded the first time a workflow needs one.
local function wrap_channel(cid)
  B.module("channel")
  return B.wrap_channel(cid)
end

local time = {
  NANOSECOND = 0.000001,
  MICROSECOND = 0.001,
  MILLISECOND = 1,
  SECOND = 1000,
  MINUTE = 60 * 1000,
  HOUR = 60 * 60 * 1000,
}

function time.sleep(d)
  ops.sleep(duration_ms(d, "time.sleep", 2), B.user_position(nil, 1))
  return true
end

function time.now()
  return B.new_time(B.clock_ns("time.now", 2))
end

function time.after(d)
  only_in_workflows("time.after", 2)
  return wrap_channel(ops.after_channel(duration_ms(d, "time.after", 2)))
end

local TimerMethods = {}
local TimerMT = { __index = TimerMethods, __name = "wflow.timer" }

function time.timer(d)
  only_in_workflows("time.timer", 2)
  local tid, cid = ops.new_timer(duration_ms(d, "time.timer", 2))
  return setmetatable({ _id = tid, _channel = wrap_channel(cid) }, TimerMT)
end

function TimerMethods.channel(t) return t._channel end
TimerMethods.response = TimerMethods.channel -- Wippy's spelling
function TimerMethods.stop(t) return ops.stop_timer(t._id) end
function TimerMethods.reset(t, d)
  return ops.reset_timer(t._id, duration_ms(d, "timer:reset", 2))
end

-- Go's layouts (time.RFC3339, DATE_ONLY, ...), months and weekdays, as Wippy names them.
for name, layout in B.rawnext, ops.time_layouts() do time[name] = layout end
local MONTHS = { "JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST",
  "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER" }
for i, name in ipairs(MONTHS) do time[name] = i end
local DAYS = { "SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY" }
for i, name in ipairs(DAYS) do time[name] = i - 1 end

time.utc = B.UTC
-- wflow decision: the local zone is UTC (a worker's own zone would make replays differ).
time.localtz = B.UTC

local LocationMT = B.LocationMT
local function check_location(loc, who)
  if loc ~= nil and getmetatable(loc) ~= LocationMT then
    error(who .. ": expected a location (time.utc, time.load_location(...))", 3)
  end
  if loc ~= nil and loc._kind == "utc" then return nil end
  return loc
end

function time.load_location(name)
  if type(name) ~= "string" or name == "" then
    return nil, B.new_error("INVALID", "time.load_location: empty location name")
  end
  if name == "UTC" or name == "Local" then return B.UTC end
  local _, kind, message = ops.zone_offset(name, 0)
  if kind ~= nil and type(kind) == "string" and message ~= nil then
    return nil, B.new_error(kind, message)
  end
  return B.new_location("zone", name, nil)
end

function time.fixed_zone(name, offset)
  if type(name) ~= "string" or math.type(offset) ~= "integer" then
    error("time.fixed_zone: expected a name and an offset in whole seconds", 2)
  end
  return B.new_location("fixed", name, offset)
end

local function int_arg(v, who, what)
  if math.type(v) ~= "integer" then error(who .. ": " .. what .. " must be a whole number", 3) end
  return v
end

function time.date(year, month, day, hour, min, sec, nsec, loc)
  local who = "time.date"
  int_arg(year, who, "year"); int_arg(month, who, "month"); int_arg(day, who, "day")
  hour, min, sec, nsec = hour or 0, min or 0, sec or 0, nsec or 0
  int_arg(hour, who, "hour"); int_arg(min, who, "minute"); int_arg(sec, who, "second")
  int_arg(nsec, who, "nanosecond")
  loc = check_location(loc, who)
  local y, m = year + (month - 1) // 12, (month - 1) % 12 + 1
  local secs = (B.days_from_civil(y, m, 1) + day - 1) * 86400 + hour * 3600 + min * 60 + sec
  return B.time_from_local(secs + nsec // 1000000000, nsec % 1000000000, loc)
end

function time.unix(sec, nsec)
  int_arg(sec, "time.unix", "sec")
  nsec = int_arg(nsec or 0, "time.unix", "nsec")
  return B.time_in(sec * 1000000000 + nsec, nil)
end

function time.parse(layout, value, loc)
  if type(layout) ~= "string" or type(value) ~= "string" then
    return nil, B.new_error("INVALID", "time.parse: expected a layout and a string")
  end
  loc = check_location(loc, "time.parse")
  local kind, name, offset = "utc", "UTC", 0
  if loc ~= nil then kind, name, offset = loc._kind, loc._name, loc._offset or 0 end
  local ns, rkind, rname, roffset = ops.time_parse(layout, value, kind, name, offset)
  if ns == nil then return nil, B.new_error(rkind, rname) end
  if rkind == "utc" then return B.time_in(ns, nil) end
  if rkind == kind and rname == name then return B.time_in(ns, loc) end
  return B.time_in(ns, B.new_location(rkind, rname, roffset))
end

-- A ticker: a channel that receives the time every `d` until :stop() (durable timers).
local TickerMethods = {}
local TickerMT = { __index = TickerMethods, __name = "wflow.ticker" }

function time.ticker(d)
  only_in_workflows("time.ticker", 2)
  local ms = duration_ms(d, "time.ticker", 2)
  if ms <= 0 then return nil, B.new_error("INVALID", "time.ticker: duration must be positive") end
  local tid, cid = ops.new_ticker(ms)
  return setmetatable({ _id = tid, _channel = wrap_channel(cid) }, TickerMT)
end

function TickerMethods.response(t) return t._channel end
TickerMethods.channel = TickerMethods.response
function TickerMethods.stop(t) return ops.stop_timer(t._id) end

function time.parse_duration(s)
  if B.is_duration(s) then return s end
  if type(s) ~= "string" and type(s) ~= "number" then
    return nil, B.new_error("INVALID", "time.parse_duration: expected a string, got " .. type(s))
  end
  if type(s) == "string" and not ulen(s) then
    return nil, B.new_error("INVALID", "time.parse_duration: text is not valid UTF-8")
  end
  local ms, err = ops.parse_duration(s)
  if ms == nil then return nil, B.new_error("INVALID", err) end
  return B.new_duration(math.floor(ms * 1000000 + 0.5))
end

return time
