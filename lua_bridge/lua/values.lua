-- wflow lua_bridge: error objects, time objects and the Lua -> JSON encoder (trusted code).
--
-- Every value that leaves Lua (call arguments, results, json.encode) goes through `encode`,
-- so the rules of SPEC §5 live in one place: sequences become arrays, string-keyed tables
-- objects, integers stay integers, sparse/mixed tables, cycles and invalid UTF-8 are errors
-- that name the path. Object keys are written sorted (bytewise), so output is reproducible.

local B, cfg = ...

local type, error, rawget, rawnext, rawequal = type, error, rawget, B.rawnext, rawequal
local setmetatable, getmetatable, tostring, tonumber = setmetatable, getmetatable, tostring, tonumber
local mtype, huge = math.type, math.huge
local sfmt, sbyte, sgsub, smatch, srep = B.raw_format or string.format, string.byte, string.gsub,
  string.match, string.rep
local tconcat = table.concat
local ulen = utf8.len
local WHERE = B.WHERE

---------------------------------------------------------------------------------------------
-- Error objects
---------------------------------------------------------------------------------------------
local KINDS = {}
for _, k in ipairs(cfg.kinds) do KINDS[k] = true end
local NOT_RETRYABLE = {}
for _, k in ipairs(cfg.not_retryable) do NOT_RETRYABLE[k] = true end

local ErrMethods = {}
local ErrMT = { __index = ErrMethods, __name = "wflow.error" }
ErrMT.__tostring = function(e) return rawget(e, "_kind") .. ": " .. rawget(e, "_message") end
function ErrMethods.kind(e) return rawget(e, "_kind") end
function ErrMethods.message(e) return rawget(e, "_message") end
function ErrMethods.retryable(e) return rawget(e, "_retryable") end
function ErrMethods.details(e) return rawget(e, "_details") end
function ErrMethods.error(e) return ErrMT.__tostring(e) end

local function is_error(v)
  return type(v) == "table" and getmetatable(v) == ErrMT
end

local function parse_kind(kind)
  if type(kind) ~= "string" then return "UNKNOWN" end
  local upper = string.upper(kind)
  return KINDS[upper] and upper or "UNKNOWN"
end

local function new_error(kind, message, retryable, details)
  kind = parse_kind(kind)
  if retryable == nil then retryable = not NOT_RETRYABLE[kind] end
  return setmetatable({
    _kind = kind,
    _message = tostring(message),
    _retryable = retryable and true or false,
    _details = details,
  }, ErrMT)
end

B.ErrMT = ErrMT
B.is_error = is_error
B.new_error = new_error
B.parse_kind = parse_kind

---------------------------------------------------------------------------------------------
-- Time objects (UTC; integer nanoseconds since the Unix epoch)
---------------------------------------------------------------------------------------------
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

-- Durations in Lua are milliseconds (numbers) or strings like "1h30m"; validated by the host.
local function duration_ms(d, who, level)
  if type(d) ~= "number" and type(d) ~= "string" then
    error(who .. ": expected a duration (milliseconds or a string like \"5s\"), got " .. type(d), level + 1)
  end
  if type(d) == "string" and not ulen(d) then error(who .. ": duration is not valid UTF-8", level + 1) end
  local ms, err = cfg.host.parse_ms(d)
  if ms == nil then error(who .. ": " .. err, level + 1) end
  return ms
end
B.duration_ms = duration_ms

function TimeMethods.unix(t) return t._ns // 1000000000 end
function TimeMethods.unix_milli(t) return t._ns // 1000000 end
function TimeMethods.unix_nano(t) return t._ns end
function TimeMethods.format_rfc3339(t) return rfc3339(t._ns, false) end
function TimeMethods.format_rfc3339_nano(t) return rfc3339(t._ns, true) end
function TimeMethods.format(t, fmt)
  if type(fmt) ~= "string" then error("time:format: expected a strftime-style format string", 2) end
  local ok, s = pcall(strftime, fmt, date_table(t._ns // 1000000000))
  if not ok then error("time:format: " .. s, 2) end
  return s
end
function TimeMethods.add(t, d)
  -- Numbers may be negative here (milliseconds back in time); strings must be durations.
  local ms = type(d) == "number" and d or duration_ms(d, "time:add", 2)
  if ms ~= ms or ms == huge or ms == -huge then error("time:add: invalid duration", 2) end
  return new_time(t._ns + math.floor(ms * 1000000 + 0.5))
end
function TimeMethods.sub(t, other)
  if not is_time(other) then error("time:sub: expected a time object", 2) end
  local diff = t._ns - other._ns
  if diff % 1000000 == 0 then return diff // 1000000 end
  return diff / 1000000
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
TimeMT.__eq = function(a, b) return is_time(a) and is_time(b) and a._ns == b._ns end
TimeMT.__lt = function(a, b) return a._ns < b._ns end
TimeMT.__le = function(a, b) return a._ns <= b._ns end
TimeMT.__tostring = function(t) return rfc3339(t._ns, true) end

---------------------------------------------------------------------------------------------
-- Messages (process.inbox()) and events (process.events())
---------------------------------------------------------------------------------------------
-- A message is an empty table whose fields live in a weak side table, so every field access
-- goes through __index: the methods `topic`, `from`, `payload` first, then the payload data's
-- fields (`msg.approved`, SPEC §2's wflow decision). A payload field named like a method is
-- read with `msg:payload():data().topic`. Messages are read-only.
local MSG = setmetatable({}, { __mode = "k" })
local PAYLOAD = setmetatable({}, { __mode = "k" })

local PayloadMethods = {}
local PayloadMT = { __index = PayloadMethods, __name = "wflow.payload" }
function PayloadMethods.data(p)
  local d = PAYLOAD[p]
  if d == nil then error("payload:data: use payload:data()", 2) end
  return d.data
end
PayloadMT.__newindex = function() error("message payloads are read-only", 2) end

local MsgMethods = {}
function MsgMethods.topic(m)
  local d = MSG[m]
  if d == nil then error("message:topic: use msg:topic()", 2) end
  return d.topic
end
function MsgMethods.from(m)
  local d = MSG[m]
  if d == nil then error("message:from: use msg:from()", 2) end
  return d.from
end
function MsgMethods.payload(m)
  local d = MSG[m]
  if d == nil then error("message:payload: use msg:payload()", 2) end
  local p = d.payload_object
  if p == nil then
    p = setmetatable({}, PayloadMT)
    PAYLOAD[p] = { data = d.data }
    d.payload_object = p
  end
  return p
end

local MsgMT = { __name = "wflow.message" }
MsgMT.__index = function(m, k)
  local method = MsgMethods[k]
  if method ~= nil then return method end
  local data = MSG[m].data
  if type(data) == "table" and getmetatable(data) == nil then return rawget(data, k) end
  return nil
end
MsgMT.__newindex = function(_, k)
  error("messages are read-only (cannot set field '" .. tostring(k) .. "')", 2)
end
MsgMT.__tostring = function(m)
  local d = MSG[m]
  return "message(" .. d.topic .. (d.from and (" from " .. d.from) or "") .. ")"
end
MsgMT.__pairs = function(m)
  -- Iterates the payload data's fields (sorted, like pairs everywhere).
  local data = MSG[m].data
  if type(data) ~= "table" then data = {} end
  return B.SAFE.pairs(data)
end

function B.new_message(topic, from, data)
  local m = setmetatable({}, MsgMT)
  MSG[m] = { topic = topic, from = from, data = data }
  return m
end
local function message_fields(v) return MSG[v] end
B.message_fields = message_fields

-- `{kind = "EXIT" | "CANCEL", from = pid, result = {value = v, error = err}}` (result only
-- for EXIT).
function B.new_event(kind, from, value, err)
  local e = { kind = kind, from = from }
  if kind == "EXIT" then e.result = { value = value, error = err } end
  return e
end

---------------------------------------------------------------------------------------------
-- Array / object markers for tables that came from JSON (or json.array / json.object)
---------------------------------------------------------------------------------------------
local ARRAY = setmetatable({}, { __mode = "k" })
function B.mark_array(t) ARRAY[t] = true; return t end
function B.mark_object(t) ARRAY[t] = nil; return t end
B.ARRAY = ARRAY

---------------------------------------------------------------------------------------------
-- Encoder
---------------------------------------------------------------------------------------------
local ESCAPES = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n",
  ["\r"] = "\\r", ["\t"] = "\\t" }
local function escape_char(c)
  return ESCAPES[c] or sfmt("\\u%04x", sbyte(c))
end

local function key_path(path, k)
  if type(k) == "string" then
    if smatch(k, "^[%a_][%w_]*$") then return path .. "." .. k end
    return path .. "[" .. sfmt("%q", B.safe_text(k)) .. "]"
  end
  return path .. "[" .. tostring(k) .. "]"
end

local function fail(path, msg)
  error({ encode_error = path .. ": " .. msg }, 0)
end

local function number_text(v, path)
  if mtype(v) == "integer" then return sfmt("%d", v) end
  if v ~= v or v == huge or v == -huge then
    fail(path, "number " .. tostring(v) .. " cannot be represented in JSON")
  end
  if v == math.floor(v) and v > -1e16 and v < 1e16 then return sfmt("%.1f", v) end
  for _, f in ipairs({ "%.15g", "%.16g", "%.17g" }) do
    local s = sfmt(f, v)
    if tonumber(s) == v then return s end
  end
  return sfmt("%.17g", v)
end

local function string_text(s, path)
  local ok, bad = ulen(s)
  if not ok then fail(path, "string is not valid UTF-8 (bad byte at position " .. bad .. ")") end
  return '"' .. sgsub(s, '[%c"\\]', escape_char) .. '"'
end

local encode_value

local function encode_table(t, path, out, seen, depth)
  if depth > 200 then fail(path, "nested too deeply (more than 200 levels)") end
  if seen[t] then fail(path, "table contains itself (cycle)") end
  local n_int, max_int, n_str = 0, 0, 0
  local k = rawnext(t)
  while k ~= nil do
    if type(k) == "string" then
      n_str = n_str + 1
    elseif mtype(k) == "integer" and k >= 1 then
      n_int = n_int + 1
      if k > max_int then max_int = k end
    else
      local shown = type(k) == "number" and tostring(k) or type(k)
      fail(path, "table key " .. shown .. " is neither a string nor an array index (1, 2, ...)")
    end
    k = rawnext(t, k)
  end
  if n_int > 0 and n_str > 0 then
    fail(path, "mixed table (has both array items and string keys)")
  end
  seen[t] = true
  if n_str > 0 or (n_int == 0 and not ARRAY[t]) then
    local keys = B.sorted_keys(t, "encode", 1)
    out[#out + 1] = "{"
    for i = 1, #keys do
      local key = keys[i]
      if i > 1 then out[#out + 1] = "," end
      out[#out + 1] = string_text(key, path)
      out[#out + 1] = ":"
      encode_value(rawget(t, key), key_path(path, key), out, seen, depth + 1)
    end
    out[#out + 1] = "}"
  else
    if max_int ~= n_int and not ARRAY[t] then
      fail(path, "sparse array (" .. n_int .. " items but highest index " .. max_int ..
        "); arrays must have keys 1..n")
    end
    if max_int > 2 * n_int + 1000 then
      fail(path, "sparse array (highest index " .. max_int .. " for " .. n_int .. " items)")
    end
    out[#out + 1] = "["
    for i = 1, max_int do
      if i > 1 then out[#out + 1] = "," end
      encode_value(rawget(t, i), path .. "[" .. i .. "]", out, seen, depth + 1)
    end
    out[#out + 1] = "]"
  end
  seen[t] = nil
end

encode_value = function(v, path, out, seen, depth)
  local tv = type(v)
  if v == nil then
    out[#out + 1] = "null"
  elseif tv == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif tv == "number" then
    out[#out + 1] = number_text(v, path)
  elseif tv == "string" then
    out[#out + 1] = string_text(v, path)
  elseif tv == "table" then
    local mt = getmetatable(v)
    if mt == ErrMT then
      encode_table({
        kind = v._kind, message = v._message, retryable = v._retryable, details = v._details,
      }, path, out, seen, depth)
    elseif mt == TimeMT then
      out[#out + 1] = '"' .. rfc3339(v._ns, true) .. '"'
    elseif MSG[v] ~= nil then
      -- A message crosses as {topic =, from =, payload =}.
      local d = MSG[v]
      encode_table({ topic = d.topic, from = d.from, payload = d.data }, path, out, seen, depth)
    else
      encode_table(v, path, out, seen, depth)
    end
  else
    fail(path, "a " .. tv .. " cannot be converted to JSON")
  end
end

-- Encode one value; returns the JSON text, or nil and a message naming the path.
local function encode(v, path)
  local out = {}
  local ok, err = pcall(encode_value, v, path or "value", out, {}, 0)
  if not ok then
    if type(err) == "table" and err.encode_error then return nil, err.encode_error end
    error(err, 0)
  end
  return tconcat(out)
end
B.encode = encode

-- Encode `n` values as one JSON array, naming paths `prefix[1]`, `prefix[2]`, ...
local function encode_list(prefix, n, ...)
  local out = { "[" }
  local seen = {}
  for i = 1, n do
    if i > 1 then out[#out + 1] = "," end
    local ok, err = pcall(encode_value, (select(i, ...)), prefix .. "[" .. i .. "]", out, seen, 0)
    if not ok then
      if type(err) == "table" and err.encode_error then return nil, err.encode_error end
      error(err, 0)
    end
  end
  out[#out + 1] = "]"
  return tconcat(out)
end
B.encode_list = encode_list
