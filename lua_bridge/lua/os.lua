-- wflow lua_bridge: the sandboxed `os` library (a global, and `require("os")`): os.time,
-- os.date (UTC) and os.clock read the run's clock (the workflow clock in a workflow);
-- everything else is refused.

local B, cfg = ...

local type, error, rawget, pcall, tostring = type, error, rawget, pcall, tostring
-- Taken when the run started (lua/sandbox.lua), not when `os` was first used.
local start_ns = B.start_ns


local function field(t, name, default)
  local v = rawget(t, name)
  if v == nil then
    if default == nil then error("field '" .. name .. "' missing in date table", 3) end
    return default
  end
  if math.type(v) ~= "integer" then
    local iv = math.tointeger(v)
    if iv == nil then error("field '" .. name .. "' is not an integer", 3) end
    return iv
  end
  return v
end

local os_lib = {
  execute = B.unavailable("os.execute"),
  getenv = B.unavailable("os.getenv"),
  remove = B.unavailable("os.remove"),
  rename = B.unavailable("os.rename"),
  exit = B.unavailable("os.exit"),
  tmpname = B.unavailable("os.tmpname"),
  setlocale = B.unavailable("os.setlocale"),
}

function os_lib.time(t)
  if t == nil then return B.clock_ns("os.time", 2) // 1000000000 end
  if type(t) ~= "table" then error("bad argument #1 to 'time' (table expected, got " .. type(t) .. ")", 2) end
  local year, month = field(t, "year"), field(t, "month")
  local day = field(t, "day")
  local hour, min, sec = field(t, "hour", 12), field(t, "min", 0), field(t, "sec", 0)
  year = year + (month - 1) // 12
  month = (month - 1) % 12 + 1
  local days = B.days_from_civil(year, month, 1) + day - 1
  return days * 86400 + hour * 3600 + min * 60 + sec
end

function os_lib.date(fmt, t)
  if fmt == nil then fmt = "%c" end
  if type(fmt) ~= "string" then error("bad argument #1 to 'date' (string expected)", 2) end
  if string.sub(fmt, 1, 1) == "!" then fmt = string.sub(fmt, 2) end
  local secs
  if t == nil then
    secs = B.clock_ns("os.date", 2) // 1000000000
  else
    secs = math.tointeger(t)
    if secs == nil then error("bad argument #2 to 'date' (number has no integer representation)", 2) end
  end
  local dt = B.date_table(secs)
  if string.sub(fmt, 1, 2) == "*t" then return dt end
  local ok, s = pcall(B.strftime, fmt, dt)
  if not ok then error("bad argument #1 to 'date' (" .. tostring(s) .. ")", 2) end
  return s
end

function os_lib.clock()
  return (B.clock_ns("os.clock", 2) - start_ns) / 1e9
end

function os_lib.difftime(a, b)
  return (a - (b or 0)) * 1.0
end


return os_lib
