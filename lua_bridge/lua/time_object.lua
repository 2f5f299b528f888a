-- wflow lua_bridge: time objects (UTC; integer nanoseconds since the Unix epoch), and the civil
-- calendar and strftime that os.date shares (trusted code, loaded the first time a run reads
-- one of their B fields: `time.now`, `os.date`, the driver's times for `time.after` and timers).

local B, cfg = ...

local type, error, pcall, setmetatable, getmetatable, tostring = type, error, pcall,
  setmetatable, getmetatable, tostring
local huge = math.huge
local sfmt, sgsub, sfind = B.raw_format, string.gsub, string.find
local ulen = utf8.len
local ops = B.ops

local function civil_from_days(z)
  z = z + 719468
  local era = z // 146097
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local d = doy - (153 * mp + 2) // 5 + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return y, m, d
end

local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = y // 400
  local yoe = y - era * 400
  local mp = m > 2 and m - 3 or m + 9
  local doy = (153 * mp + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end
B.days_from_civil = days_from_civil

-- The `os.date("*t")` table of a Unix time in seconds (UTC).
local function date_table(secs)
  local days = secs // 86400
  local rem = secs - days * 86400
  local y, m, d = civil_from_days(days)
  return {
    year = y, month = m, day = d,
    hour = rem // 3600, min = (rem % 3600) // 60, sec = rem % 60,
    wday = (days + 4) % 7 + 1,
    yday = days - days_from_civil(y, 1, 1) + 1,
    isdst = false,
  }
end
B.date_table = date_table

local DAY_NAMES = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" }
local MONTH_NAMES = { "January", "February", "March", "April", "May", "June", "July", "August",
  "September", "October", "November", "December" }

local strftime
local CONVERSIONS = {
  a = function(t) return DAY_NAMES[t.wday]:sub(1, 3) end,
  A = function(t) return DAY_NAMES[t.wday] end,
  b = function(t) return MONTH_NAMES[t.month]:sub(1, 3) end,
  B = function(t) return MONTH_NAMES[t.month] end,
  c = function(t) return strftime("%a %b %e %H:%M:%S %Y", t) end,
  C = function(t) return sfmt("%02d", t.year // 100) end,
  d = function(t) return sfmt("%02d", t.day) end,
  D = function(t) return strftime("%m/%d/%y", t) end,
  e = function(t) return sfmt("%2d", t.day) end,
  F = function(t) return strftime("%Y-%m-%d", t) end,
  h = function(t) return MONTH_NAMES[t.month]:sub(1, 3) end,
  H = function(t) return sfmt("%02d", t.hour) end,
  I = function(t) return sfmt("%02d", (t.hour + 11) % 12 + 1) end,
  j = function(t) return sfmt("%03d", t.yday) end,
  m = function(t) return sfmt("%02d", t.month) end,
  M = function(t) return sfmt("%02d", t.min) end,
  n = function() return "\n" end,
  p = function(t) return t.hour < 12 and "AM" or "PM" end,
  r = function(t) return strftime("%I:%M:%S %p", t) end,
  R = function(t) return strftime("%H:%M", t) end,
  S = function(t) return sfmt("%02d", t.sec) end,
  t = function() return "\t" end,
  T = function(t) return strftime("%H:%M:%S", t) end,
  u = function(t) return tostring((t.wday + 5) % 7 + 1) end,
  w = function(t) return tostring(t.wday - 1) end,
  x = function(t) return strftime("%m/%d/%y", t) end,
  X = function(t) return strftime("%H:%M:%S", t) end,
  y = function(t) return sfmt("%02d", t.year % 100) end,
  Y = function(t) return tostring(t.year) end,
  z = function() return "+0000" end,
  Z = function() return "UTC" end,
  ["%"] = function() return "%" end,
}

strftime = function(fmt, t)
  return (sgsub(fmt, "%%(.?)", function(c)
    local f = CONVERSIONS[c]
    if not f then
      error("invalid conversion specifier '%" .. c .. "' (supported: %a %A %b %B %c %C %d %D %e " ..
        "%F %h %H %I %j %m %M %n %p %r %R %S %t %T %u %w %x %X %y %Y %z %Z %%)", 0)
    end
    return f(t)
  end))
end
B.strftime = strftime

local TimeMethods = {}
local TimeMT = { __index = TimeMethods, __name = "wflow.time" }

local function new_time(ns)
  return setmetatable({ _ns = ns }, TimeMT)
end
B.new_time = new_time
B.TimeMT = TimeMT

local function is_time(v) return type(v) == "table" and getmetatable(v) == TimeMT end
B.is_time = is_time

local function rfc3339(ns, nano)
  local secs = ns // 1000000000
  local frac = ns - secs * 1000000000
  local t = date_table(secs)
  local s = sfmt("%04d-%02d-%02dT%02d:%02d:%02d", t.year, t.month, t.day, t.hour, t.min, t.sec)
  if nano and frac ~= 0 then
    s = s .. "." .. (sgsub(sfmt("%09d", frac), "0+$", ""))
  end
  return s .. "Z"
end
B.rfc3339 = rfc3339

-- Durations and locations live in their own files (a sleeping workflow needs only those).
local new_duration, is_duration, duration_ms = B.new_duration, B.is_duration, B.duration_ms
local LocationMT, UTC = B.LocationMT, B.UTC

local function in_loc(ns, loc) return setmetatable({ _ns = ns, _loc = loc }, TimeMT) end
B.time_in = in_loc

-- UTC offset (seconds) and abbreviation of `t`'s location at `t`.
local function offset_of(t)
  local loc = rawget(t, "_loc")
  if loc == nil or loc._kind == "utc" then return 0, "UTC" end
  if loc._kind == "fixed" then return loc._offset, loc._name end
  return ops.zone_offset(loc._name, t._ns // 1000000000)
end
B.offset_of = offset_of

-- The wall-clock fields of `t` in its location.
local function fields(t)
  local off = offset_of(t)
  local tab = date_table(t._ns // 1000000000 + off)
  tab.nsec = t._ns % 1000000000
  return tab
end

function TimeMethods.unix(t) return t._ns // 1000000000 end
function TimeMethods.unix_milli(t) return t._ns // 1000000 end
function TimeMethods.unix_nano(t) return t._ns end
function TimeMethods.format_rfc3339(t)
  if rawget(t, "_loc") == nil then return rfc3339(t._ns, false) end
  local off, abbrev = offset_of(t)
  return ops.time_format(t._ns, off, abbrev, "2006-01-02T15:04:05Z07:00")
end
function TimeMethods.format_rfc3339_nano(t)
  if rawget(t, "_loc") == nil then return rfc3339(t._ns, true) end
  local off, abbrev = offset_of(t)
  return ops.time_format(t._ns, off, abbrev, "2006-01-02T15:04:05.999999999Z07:00")
end
-- A Go layout ("2006-01-02"), or a strftime format when it has a `%` (wflow's earlier form).
function TimeMethods.format(t, fmt)
  if type(fmt) ~= "string" then error("time:format: expected a layout string", 2) end
  if sfind(fmt, "%", 1, true) then
    local ok, s = pcall(strftime, fmt, fields(t))
    if not ok then error("time:format: " .. s, 2) end
    return s
  end
  local off, abbrev = offset_of(t)
  return ops.time_format(t._ns, off, abbrev, fmt)
end
function TimeMethods.add(t, d)
  -- Numbers may be negative here (milliseconds back in time); strings must be durations.
  if is_duration(d) then return in_loc(t._ns + d._ns, rawget(t, "_loc")) end
  local ms = type(d) == "number" and d or duration_ms(d, "time:add", 2)
  if ms ~= ms or ms == huge or ms == -huge then error("time:add: invalid duration", 2) end
  return in_loc(t._ns + math.floor(ms * 1000000 + 0.5), rawget(t, "_loc"))
end
function TimeMethods.sub(t, other)
  if not is_time(other) then error("time:sub: expected a time object", 2) end
  return new_duration(t._ns - other._ns)
end
function TimeMethods.add_date(t, years, months, days)
  local f = fields(t)
  local y, m = f.year + (years or 0), f.month + (months or 0)
  y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
  local local_secs = (days_from_civil(y, m, 1) + f.day - 1 + (days or 0)) * 86400 +
    f.hour * 3600 + f.min * 60 + f.sec
  return B.time_from_local(local_secs, f.nsec, rawget(t, "_loc"))
end
function TimeMethods.before(t, other)
  if not is_time(other) then error("time:before: expected a time object", 2) end
  return t._ns < other._ns
end
function TimeMethods.after(t, other)
  if not is_time(other) then error("time:after: expected a time object", 2) end
  return t._ns > other._ns
end
function TimeMethods.equal(t, other)
  return is_time(other) and t._ns == other._ns
end
function TimeMethods.date(t) local f = fields(t) return f.year, f.month, f.day end
function TimeMethods.clock(t) local f = fields(t) return f.hour, f.min, f.sec end
function TimeMethods.year(t) return fields(t).year end
function TimeMethods.month(t) return fields(t).month end
function TimeMethods.day(t) return fields(t).day end
function TimeMethods.hour(t) return fields(t).hour end
function TimeMethods.minute(t) return fields(t).min end
function TimeMethods.second(t) return fields(t).sec end
function TimeMethods.nanosecond(t) return t._ns % 1000000000 end
function TimeMethods.weekday(t) return fields(t).wday - 1 end
function TimeMethods.year_day(t) return fields(t).yday end
-- Go's zero time (January 1, year 1) is outside what Unix nanoseconds hold (1678-2262), so
-- no wflow time is the zero time.
function TimeMethods.is_zero(t) return false end
function TimeMethods.utc(t) return in_loc(t._ns, nil) end
-- wflow decision: the "local" zone is UTC, so a workflow reads the same on every worker.
function TimeMethods.in_local(t) return in_loc(t._ns, nil) end
function TimeMethods.in_location(t, loc)
  if getmetatable(loc) ~= LocationMT then error("time:in_location: expected a location", 2) end
  return in_loc(t._ns, loc._kind ~= "utc" and loc or nil)
end
function TimeMethods.location(t) return rawget(t, "_loc") or UTC end
local function step_ns(d, who)
  if not is_duration(d) then error(who .. ": expected a Duration (time.parse_duration)", 3) end
  return d._ns
end
function TimeMethods.truncate(t, d)
  local step = step_ns(d, "time:truncate")
  if step <= 0 then return t end
  -- From the Unix epoch: the same as Go's from year 1 for any step that divides a day.
  return in_loc(t._ns - t._ns % step, rawget(t, "_loc"))
end
function TimeMethods.round(t, d)
  local step = step_ns(d, "time:round")
  if step <= 0 then return t end
  local r = t._ns % step
  if r + r < step then return in_loc(t._ns - r, rawget(t, "_loc")) end
  return in_loc(t._ns + step - r, rawget(t, "_loc"))
end
TimeMT.__eq = function(a, b) return is_time(a) and is_time(b) and a._ns == b._ns end
TimeMT.__lt = function(a, b) return a._ns < b._ns end
TimeMT.__le = function(a, b) return a._ns <= b._ns end
TimeMT.__tostring = function(t) return rfc3339(t._ns, true) end

-- The time at wall-clock `local_secs` (+ `nsec`) in `loc` (nil: UTC).
function B.time_from_local(local_secs, nsec, loc)
  local secs = local_secs
  if loc ~= nil and loc._kind == "fixed" then
    secs = local_secs - loc._offset
  elseif loc ~= nil and loc._kind == "zone" then
    secs = ops.zone_to_unix(loc._name, local_secs)
  end
  return in_loc(secs * 1000000000 + nsec, loc)
end
