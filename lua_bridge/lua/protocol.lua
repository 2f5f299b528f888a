-- wflow lua_bridge: the Lua side of the wire protocol (lua_bridge/_protocol.py). Runs first.
--
-- `cfg.ops` maps every operation of this side to how it crosses: "request" (yielded to the
-- Python driver, which resumes the coroutine with the answer) or "host" (called directly
-- through `cfg.host`, the one Python callable of the state: `host(name, ...)`). Lua modules call `B.ops.<name>(...)` either way; which one an
-- operation is, is decided by the declaration in Python, not here.
--
-- Also here: the stash, which lets Lua values cross the driver by integer id (channel items).

local B, cfg = ...

local co_yield = coroutine.yield
local type, error, pcall, setmetatable, tostring, rawset = type, error, pcall, setmetatable,
  tostring, rawset

---------------------------------------------------------------------------------------------
-- Host functions
---------------------------------------------------------------------------------------------
-- Host functions are Python callables; wrap them so a Python exception never reaches user
-- code as an object (the Python side records it and re-raises it after the slice). The Lua
-- error raised instead is HOSTFAIL, which `pcall` cannot catch: a Python exception such as a
-- runtime's continue-as-new signal always unwinds the whole run.
local HOSTFAIL = setmetatable({}, { __tostring = function()
  return "internal error in the wflow Lua bridge (a host function failed)"
end })
B.HOSTFAIL = HOSTFAIL

local function host_result(ok, ...)
  if not ok then error(HOSTFAIL, 0) end
  return ...
end

local function host_function(host, name)
  return function(...) return host_result(pcall(host, name, ...)) end
end

---------------------------------------------------------------------------------------------
-- Requests: a coroutine yields DRV, the operation's name and its arguments to the driver
---------------------------------------------------------------------------------------------
local DRV = setmetatable({}, { __name = "wflow.request" })
B.DRV = DRV

local function request_function(name)
  return function(...) return co_yield(DRV, name, ...) end
end

---------------------------------------------------------------------------------------------
-- B.ops: one function per operation of this side, made on its first use
---------------------------------------------------------------------------------------------
-- A run uses a few of the side's ~40-70 operations; a wrapper for each (a closure and its
-- upvalues) was ~15 KiB of every state, kept for as long as the workflow is cached.
local kinds = cfg.ops or {}
local raw_host = cfg.host
cfg.host = nil -- the raw Python callable stays reachable only through the wrappers below

-- Whether operation `name` exists on this side (cfg.ops lists only the host operations
-- Python serves).
local function has_op(name)
  local kind = kinds[name]
  return kind == "request" or (kind ~= nil and raw_host ~= nil)
end
B.has_op = has_op

local ops = setmetatable({}, { __index = function(t, name)
  if not has_op(name) then
    error("internal error in the wflow Lua bridge: no operation '" .. tostring(name) ..
      "' in " .. cfg.where, 2)
  end
  local f
  if kinds[name] == "request" then f = request_function(name) else f = host_function(raw_host, name) end
  rawset(t, name, f)
  return f
end })
B.ops = ops

---------------------------------------------------------------------------------------------
-- Stash: Lua values crossing the driver by id (channel items, received values)
---------------------------------------------------------------------------------------------
local stash, stash_next = {}, 0
local NIL = {}

function B.stash(v)
  stash_next = stash_next + 1
  if v == nil then stash[stash_next] = NIL else stash[stash_next] = v end
  return stash_next
end

function B.unstash(id)
  if id == nil then return nil end
  local v = stash[id]
  stash[id] = nil
  if v == NIL then return nil end
  return v
end

