-- wflow lua_bridge: error objects (`err:kind()`, `:message()`, ...), built by Lua code and by
-- Python (`B.new_error`) for `nil, err` results (trusted code, loaded with every run).
--
-- An error object's fields live in a private table, not in the object, and its metatable is
-- protected (`getmetatable(err)` gives "wflow.error"): user code can neither build one with
-- `setmetatable` nor change one's fields, so the bridge never meets a forged error object.

local B, cfg = ...

local type, rawget, setmetatable, getmetatable, tostring, error = type, rawget, setmetatable,
  getmetatable, tostring, error
local mtype, sfmt, smatch, tsort, tconcat = math.type, string.format, string.match, table.sort,
  table.concat
local supper = string.upper
local sfind, ssub, tpack, tunpack = string.find, string.sub, table.pack, table.unpack
local co_create, co_resume, co_status = coroutine.create, coroutine.resume, coroutine.status
local install_hook, roots, failed_calls = B.install_hook, B.roots, B.failed_calls
local NOTE_ERROR_MAX = 400

---------------------------------------------------------------------------------------------
-- Error text: only an error needs it (an uncaught error, a failed call's note, errors.wrap)
---------------------------------------------------------------------------------------------
-- Run `f(...)` inside a budgeted coroutine (user code reached from trusted code, e.g. a
-- __tostring metamethod); yields are refused.
local function guarded(f, ...)
  local co = install_hook(co_create(f))
  roots[co] = true
  local r = tpack(co_resume(co, ...))
  if r[1] and co_status(co) ~= "dead" then return false, "cannot yield here" end
  return tunpack(r, 1, r.n)
end
B.guarded = guarded

local function error_text(e)
  if type(e) == "string" then return e end
  if type(e) == "table" or type(e) == "userdata" then
    local mt = getmetatable(e)
    if type(mt) == "table" and rawget(mt, "__tostring") then
      local ok, s = guarded(tostring, e)
      if ok and type(s) == "string" then return s end
      return "(error object whose __tostring failed)"
    end
  end
  return B.tostring(e)
end
B.error_text = error_text

-- The note for an error `text` that ends coroutine `co`, or "" when there is nothing to say:
-- only errors about a nil value (or a failed assert) are how an ignored `err` shows up (the
-- record is lua/sandbox.lua's, `B.noted`).
function B.failed_call_note(co, e, text)
  local rec = failed_calls[co]
  if rec == nil or type(e) ~= "string" then return "" end
  if not (sfind(text, "nil", 1, true) or sfind(text, "assertion failed", 1, true)) then
    return ""
  end
  local err_text = error_text(rec.err)
  if sfind(text, err_text, 1, true) then return "" end -- the message names it already
  if #err_text > NOTE_ERROR_MAX then err_text = ssub(err_text, 1, NOTE_ERROR_MAX) .. "..." end
  local at = rec.at and (" at " .. rec.at) or ""
  if rec.later == 0 then
    return "; the last call, " .. rec.call .. at .. ", failed: " .. err_text
  end
  local since = rec.later == 1 and "1 call" or (rec.later .. " calls")
  return "; the last call that failed, " .. rec.call .. at .. " (" .. since ..
    " succeeded since), failed: " .. err_text
end

---------------------------------------------------------------------------------------------
-- Error objects
---------------------------------------------------------------------------------------------

local KINDS = {}
for _, k in ipairs(cfg.kinds) do KINDS[k] = true end
local NOT_RETRYABLE = {}
for _, k in ipairs(cfg.not_retryable) do NOT_RETRYABLE[k] = true end

-- error object -> { _kind =, _message =, _retryable =, _details = }
local FIELDS = setmetatable({}, { __mode = "k" })

local ErrMethods = {}
local ErrMT = { __name = "wflow.error", __metatable = "wflow.error" }
ErrMT.__index = function(e, k)
  local f = FIELDS[e]
  if f ~= nil and f[k] ~= nil then return f[k] end -- `err._kind` still reads
  return ErrMethods[k]
end
ErrMT.__newindex = function(_, k)
  error("error objects cannot be changed (field '" .. tostring(k) .. "'); use errors.wrap " ..
    "or errors.new for a new one", 2)
end
ErrMT.__tostring = function(e)
  local f = FIELDS[e]
  return f._kind .. ": " .. f._message
end
function ErrMethods.kind(e) return FIELDS[e] and FIELDS[e]._kind end
function ErrMethods.message(e) return FIELDS[e] and FIELDS[e]._message end
function ErrMethods.retryable(e) return FIELDS[e] and FIELDS[e]._retryable end
function ErrMethods.details(e) return FIELDS[e] and FIELDS[e]._details end
function ErrMethods.error(e) return ErrMT.__tostring(e) end
-- Where the error was made: Lua's traceback form (`err:stack()`), built from the frames
-- `B.user_frames` recorded (`errors.call_stack(err)` gives them as a table).
function ErrMethods.stack(e)
  local f = FIELDS[e]
  if f == nil then return nil end
  local lines = { "stack traceback:" }
  for _, fr in ipairs(f._frames or {}) do
    lines[#lines + 1] = "\t" .. fr.source .. ":" .. fr.line .. ": in " .. fr.name
  end
  return tconcat(lines, "\n")
end
function B.error_frames(e)
  local f = FIELDS[e]
  return f and f._frames
end

local function is_error(v)
  return FIELDS[v] ~= nil
end

-- kind, message, retryable, details of an error object (read from the private table).
local function error_fields(e)
  local f = FIELDS[e]
  return f._kind, f._message, f._retryable, f._details
end

local function parse_kind(kind)
  if type(kind) ~= "string" then return "UNKNOWN" end
  local upper = supper(kind)
  return KINDS[upper] and upper or "UNKNOWN"
end

local function new_error(kind, message, retryable, details)
  kind = parse_kind(kind)
  if retryable == nil then retryable = not NOT_RETRYABLE[kind] end
  if type(message) ~= "string" then message = B.tostring(message) end -- no addresses
  local e = setmetatable({}, ErrMT)
  FIELDS[e] = {
    _kind = kind,
    _message = message,
    _retryable = retryable and true or false,
    _details = details,
    _frames = B.user_frames(2),
  }
  return e
end

---------------------------------------------------------------------------------------------
-- Error values that are neither a string nor an error object: `error({code = 7})`
---------------------------------------------------------------------------------------------
local RENDER_MAX = 200 -- characters of a rendered value
local RENDER_ITEMS = 20 -- items of one table
local RENDER_DEPTH = 3

local render

local function render_key(k)
  if type(k) == "string" and smatch(k, "^[%a_][%w_]*$") then return k end
  return "[" .. render(k, RENDER_DEPTH) .. "]"
end

-- A readable rendering of `v` as a Lua literal, without metamethods (user code is not run),
-- without addresses (they do not replay), and bounded in size.
render = function(v, depth)
  local tv = type(v)
  if tv == "string" then return B.safe_text(sfmt("%q", #v > 60 and v:sub(1, 60) .. "..." or v)) end
  if tv == "number" then
    if mtype(v) == "integer" then return sfmt("%d", v) end
    return sfmt("%.14g", v)
  end
  if tv ~= "table" then
    if tv == "nil" or tv == "boolean" then return tostring(v) end
    return tv -- a function, thread or userdata: no address (it would not replay)
  end
  if depth >= RENDER_DEPTH then return "{...}" end
  local keys, n = {}, 0
  for k in B.rawnext, v do
    n = n + 1
    if n > RENDER_ITEMS then break end
    keys[n] = k
  end
  local len = 0
  while len < RENDER_ITEMS and rawget(v, len + 1) ~= nil do len = len + 1 end
  local rest = {}
  for _, k in ipairs(keys) do
    if not (mtype(k) == "integer" and k >= 1 and k <= len) then rest[#rest + 1] = k end
  end
  tsort(rest, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "string" or ta == "number" then return a < b end
    return false
  end)
  local parts = {}
  for i = 1, len do parts[#parts + 1] = render(rawget(v, i), depth + 1) end
  for _, k in ipairs(rest) do
    parts[#parts + 1] = render_key(k) .. " = " .. render(rawget(v, k), depth + 1)
  end
  if n > RENDER_ITEMS then parts[#parts + 1] = "..." end
  return "{" .. tconcat(parts, ", ") .. "}"
end

-- The message of an error `e` that ended coroutine `co` (called by sandbox.lua's driver with
-- its user_position): strings and error objects as before; any other value is named with the
-- line that raised it and a rendering of the value.
function B.uncaught_error_text(co, e, user_position)
  if type(e) == "string" then
    -- A bridge function's error placed at a bridge line (`error(msg, 2)` after a tail call
    -- from user code, `return funcs.call(...)`, which leaves no user frame in between): the
    -- user's innermost line instead, or no position, never the bridge's own file.
    local rest = smatch(e, "^wflow/[%w_]+%.lua:%d+: (.*)$")
    if rest then
      local where = user_position(co, 0)
      e = where and (where .. ": " .. rest) or rest
    end
    return error_text(e)
  end
  if is_error(e) then return error_text(e) end
  local where = user_position(co, 0) -- where `co` raised it
  local shown
  local mt = getmetatable(e)
  if type(e) == "table" and type(mt) == "table" and rawget(mt, "__tostring") then
    shown = error_text(e) -- the value's own text (run budgeted by error_text)
  elseif type(e) == "table" then
    shown = render(e, 0)
    if #shown > RENDER_MAX then shown = shown:sub(1, RENDER_MAX) .. "..." end
  elseif e ~= nil then
    shown = render(e, 0)
  end
  local text = "error raised with a " .. type(e) .. " value" .. (shown and (": " .. shown) or "")
  return where and (where .. ": " .. text) or text
end

B.ErrMT = ErrMT
B.is_error = is_error
B.error_fields = error_fields
B.new_error = new_error
B.parse_kind = parse_kind
B.render_value = function(v) return render(v, 0) end
