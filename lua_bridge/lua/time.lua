-- wflow lua_bridge: the `time` module (mirrors wflow/dsl/time.py). Time objects, durations and
-- the calendar live in lua/time_object.lua. In a workflow, time.sleep is a durable timer and
-- time.now the workflow clock; in a function both are real.

local B, cfg = ...

local type, setmetatable = type, setmetatable
local ulen = utf8.len
local ops, new_error, duration_ms, only_in_workflows = B.ops, B.new_error, B.duration_ms,
  B.only_in_workflows

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
  return B.new_time(ops.now_ns())
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
function TimerMethods.stop(t) return ops.stop_timer(t._id) end
function TimerMethods.reset(t, d)
  return ops.reset_timer(t._id, duration_ms(d, "timer:reset", 2))
end

function time.parse_duration(s)
  if type(s) ~= "string" and type(s) ~= "number" then
    return nil, new_error("INVALID", "time.parse_duration: expected a string, got " .. type(s))
  end
  if type(s) == "string" and not ulen(s) then
    return nil, new_error("INVALID", "time.parse_duration: text is not valid UTF-8")
  end
  local ms, err = ops.parse_duration(s)
  if ms == nil then return nil, new_error("INVALID", err) end
  return ms
end

return time
