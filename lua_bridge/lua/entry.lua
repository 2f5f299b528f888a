-- wflow lua_bridge: `require`, the module globals, and the entry runner (trusted code, loaded
-- with every run, last).
--
-- The modules a run may `require` (`cfg.modules`, from lua_bridge/_chunks.py) are loaded on
-- first use from their own files (`B.module`), as are the globals `process`, `errors`, `os`
-- and, in workflows, `channel`.

local B, cfg = ...

local type, error, select, getmetatable, rawget, tostring = type, error, select, getmetatable,
  rawget, tostring
local tconcat, tsort, tpack, tunpack = table.concat, table.sort, table.pack, table.unpack
local WHERE = B.WHERE
local IN_WORKFLOW = WHERE == "workflows"

---------------------------------------------------------------------------------------------
-- Globals and modules
---------------------------------------------------------------------------------------------
local SAFE = B.SAFE
-- Sorted, so a run that iterates `_G` loads them in the same order every time.
B.MODULE_GLOBALS = IN_WORKFLOW and { "channel", "ctx", "errors", "os", "process" } or
  { "ctx", "errors", "os", "process" }

local MODULES = {}
for _, name in ipairs(cfg.modules) do MODULES[name] = true end
-- Standard libraries may be required by name too (the sandboxed versions).
local STDLIB = { string = SAFE.string, table = SAFE.table, math = SAFE.math, utf8 = SAFE.utf8,
  coroutine = SAFE.coroutine }
-- Always requirable: they are globals anyway.
local ALWAYS = { errors = true, channel = true, process = true, ctx = true }
local FORBIDDEN = { io = true, debug = true, package = true, ffi = true, jit = true, python = true,
  socket = true, lfs = true }

local ENTRIES = cfg.entries
local lib_values, lib_loading = {}, {}

local function names_of(set)
  local out = {}
  for k in B.rawnext, set do out[#out + 1] = k end
  tsort(out)
  return out
end

local function require_failure(desc, name)
  local allowed = names_of(desc.modules)
  local imports = names_of(desc.imports)
  local allowed_text = #allowed > 0 and tconcat(allowed, ", ") or "(none)"
  if #imports > 0 then allowed_text = allowed_text .. "; imports: " .. tconcat(imports, ", ") end
  if FORBIDDEN[name] then
    return "require: module '" .. name .. "' is not available in " .. WHERE
  end
  if not IN_WORKFLOW and (name == "workflow" or name == "channel") then
    return "require: module '" .. name .. "' is only available in workflows"
  end
  if MODULES[name] then
    return "require: module '" .. name .. "' is not in this entry's modules list (allowed here: " ..
      allowed_text .. ")"
  end
  return "require: unknown module '" .. B.safe_text(name) .. "' (allowed here: " .. allowed_text .. ")"
end

local make_require

local function load_library(key)
  local value = lib_values[key]
  if value ~= nil then return value end
  if lib_loading[key] then error("require: circular import of '" .. key .. "'", 3) end
  local desc = ENTRIES[key]
  local env = B.new_env(make_require(desc))
  local fn, err = B.load_chunk(desc, env)
  if not fn then error(err, 0) end
  desc.bytecode = nil -- loaded once per run; the state need not keep it
  lib_loading[key] = true
  value = fn(key)
  lib_loading[key] = nil
  if value == nil then value = true end
  lib_values[key] = value
  return value
end

make_require = function(desc)
  return function(name)
    if type(name) ~= "string" then
      error("bad argument #1 to 'require' (string expected, got " .. type(name) .. ")", 2)
    end
    local lib = desc.imports[name]
    if lib then return load_library(lib) end
    if MODULES[name] and (desc.modules[name] or ALWAYS[name]) then return B.module(name) end
    if name == "os" then return B.module("os") end
    if STDLIB[name] then return STDLIB[name] end
    error(require_failure(desc, name), 2)
  end
end

---------------------------------------------------------------------------------------------
-- Entry runner
---------------------------------------------------------------------------------------------
local function has_functions(t)
  for _, v in B.rawnext, t do
    if type(v) == "function" then return true end
  end
  return false
end

-- Call the entry's function with the run's arguments; more arguments than it declares is an
-- INVALID error of the call (wflow.model's argument_count_error), not values dropped silently.
local function call_entry(key, f, args)
  local params, variadic, nparams = B.parameters(f)
  -- Lua parameters are all optional: only more arguments than declared can be wrong, and
  -- only then is the host asked for the message (most runs pass no host call here).
  if not variadic and args.n > nparams then
    local problem = B.ops.argument_count_error(key, params, variadic, args.n)
    if problem then return nil, B.new_error("INVALID", problem, false, nil) end
  end
  return f(tunpack(args, 1, args.n))
end

local function dispatch(key, method, name, args, check_only, ...)
  if select("#", ...) >= 1 then
    local first = ...
    if type(first) == "function" then
      if check_only then return end
      return call_entry(key, first, args)
    end
    if type(first) == "table" and getmetatable(first) == nil then
      local m = rawget(first, method)
      if type(m) == "function" then
        if check_only then return end
        return call_entry(key, m, args)
      end
      if has_functions(first) then
        error(name .. ": method '" .. method .. "' not found in the table the file returns " ..
          "(it has: " .. tconcat(names_of(first), ", ") .. ")", 0)
      end
    end
  end
  -- The file's body was the program; its return values are the result.
  return ...
end

-- Load the entry's chunk and make a root coroutine that runs `method` with the arguments the
-- driver passes to the first step. Returns the coroutine id, or nil and the syntax error.
-- With `check_only`, the coroutine runs the file's top level and checks `method` exists.
function B.start_entry(key, method, check_only)
  local desc = ENTRIES[key]
  local env = B.new_env(make_require(desc))
  local fn, err = B.load_chunk(desc, env)
  if not fn then return nil, B.safe_text(err) end
  desc.bytecode = nil
  local name = desc.display or desc.chunkname
  return B.new_root(function(...)
    local args = tpack(...)
    return dispatch(key, method, name, args, check_only, fn(...))
  end)
end

-- Called with a finished root coroutine's return values `value, err`.
function B.finishers.done(v, e)
  if e ~= nil and e ~= false then
    local made
    if B.is_error(e) then
      made = e
    elseif type(e) == "table" and getmetatable(e) == nil and rawget(e, "message") ~= nil then
      -- A plain table shaped like an error (e.g. an `error` field a function returned): its
      -- fields must be what an error object's are, or the script is told, not the bridge.
      local kind, message, retryable = rawget(e, "kind"), rawget(e, "message"), rawget(e, "retryable")
      local bad
      if kind ~= nil and type(kind) ~= "string" then
        bad = "its kind is a " .. type(kind) .. ", not a string"
      elseif type(message) ~= "string" and type(message) ~= "number" then
        bad = "its message is a " .. type(message) .. ", not a string"
      elseif retryable ~= nil and type(retryable) ~= "boolean" then
        bad = "its retryable is a " .. type(retryable) .. ", not a boolean"
      end
      if bad then
        return "error", "invalid error value returned (a table with a message field): " .. bad ..
          ": " .. B.render_value(e), ""
      end
      made = B.new_error(kind, tostring(message), retryable, rawget(e, "details"))
    else
      made = B.new_error("UNKNOWN", B.error_text(e), nil, nil)
    end
    local kind, message, retryable, details = B.error_fields(made)
    local dtext, derr = B.encode(details, "error.details")
    if not dtext then return "error", "invalid error value returned: " .. derr, "" end
    return "fail", kind, B.safe_text(message), retryable, dtext
  end
  local text, err = B.encode(v, "result")
  if not text then return "error", "invalid result: " .. err, "" end
  return "done", text
end
