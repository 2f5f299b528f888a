-- wflow lua_bridge: duration objects (trusted code, loaded the first
-- time a run reads one of their B fields: `time.parse_duration`, duration arithmetic, time
-- objects; durations given as numbers or strings need none of it: B.duration_ms, sandbox.lua).

local B, cfg = ...

local type, error, setmetatable, getmetatable, tostring = type, error, setmetatable,
  getmetatable, tostring

-- Duration objects (Wippy's `time.parse_duration`, `t:sub(u)`): integer nanoseconds. They
-- cross to JSON as milliseconds, the number form durations have everywhere else in wflow.
local DurationMethods = {}
local DurationMT = { __index = DurationMethods, __name = "wflow.duration" }
local function new_duration(ns) return setmetatable({ _ns = ns }, DurationMT) end
local function is_duration(v) return type(v) == "table" and getmetatable(v) == DurationMT end
B.new_duration, B.is_duration, B.DurationMT = new_duration, is_duration, DurationMT

-- A duration operand in nanoseconds: a Duration, or a number of milliseconds.
local function operand_ns(v, who)
  if is_duration(v) then return v._ns end
  if type(v) == "number" then return math.floor(v * 1000000 + 0.5) end
  error(who .. ": expected a duration or a number of milliseconds", 3)
end
function DurationMethods.nanoseconds(d) return d._ns end
function DurationMethods.microseconds(d) return d._ns // 1000 end
function DurationMethods.milliseconds(d) return d._ns // 1000000 end
function DurationMethods.seconds(d) return d._ns / 1e9 end
function DurationMethods.minutes(d) return d._ns / 6e10 end
function DurationMethods.hours(d) return d._ns / 3.6e12 end
DurationMT.__add = function(a, b) return new_duration(operand_ns(a, "+") + operand_ns(b, "+")) end
DurationMT.__sub = function(a, b) return new_duration(operand_ns(a, "-") - operand_ns(b, "-")) end
DurationMT.__unm = function(a) return new_duration(-a._ns) end
DurationMT.__mul = function(a, b)
  if is_duration(a) and type(b) == "number" then return new_duration(math.floor(a._ns * b + 0.5)) end
  if is_duration(b) and type(a) == "number" then return new_duration(math.floor(b._ns * a + 0.5)) end
  error("*: a duration multiplies by a number", 2)
end
DurationMT.__div = function(a, b)
  if is_duration(a) and type(b) == "number" then return new_duration(math.floor(a._ns / b + 0.5)) end
  if is_duration(a) and is_duration(b) then return a._ns / b._ns end
  error("/: a duration divides by a number or a duration", 2)
end
DurationMT.__eq = function(a, b) return is_duration(a) and is_duration(b) and a._ns == b._ns end
DurationMT.__lt = function(a, b) return operand_ns(a, "<") < operand_ns(b, "<") end
DurationMT.__le = function(a, b) return operand_ns(a, "<=") <= operand_ns(b, "<=") end
DurationMT.__tostring = function(d)
  local ns = d._ns
  if ns % 1000000 == 0 then return tostring(ns // 1000000) .. "ms" end
  return tostring(ns) .. "ns"
end
