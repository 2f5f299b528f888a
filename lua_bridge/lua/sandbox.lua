-- wflow lua_bridge: the sandbox core (trusted code, run once per LuaRuntime).
--
-- Receives the bridge table B (filled here and read back by Python) and `cfg`, a table of
-- settings; `B.ops` (lua/protocol.lua) reaches Python. Builds fresh environments for user
-- chunks; user code never sees the real globals, `debug`, `io`, `package` or any Python object.
-- Loads the bridge's Lua modules (funcs, time, process, ...) on first use (`B.module`).

local B, cfg = ...

---------------------------------------------------------------------------------------------
-- Captured primitives (user code cannot reach or replace these upvalues)
---------------------------------------------------------------------------------------------
local sethook, traceback, getinfo = debug.sethook, debug.traceback, debug.getinfo
local getlocal, setupvalue = debug.getlocal, debug.setupvalue
local co_create, co_resume, co_yield = coroutine.create, coroutine.resume, coroutine.yield
local co_status, co_running, co_isyieldable = coroutine.status, coroutine.running, coroutine.isyieldable
local co_close = coroutine.close
local rawnext, rawget, rawset, rawequal, rawlen = next, rawget, rawset, rawequal, rawlen
local type, error, pcall, xpcall, select = type, error, pcall, xpcall, select
local setmetatable, getmetatable = setmetatable, getmetatable
local tostring, tonumber, ipairs = tostring, tonumber, ipairs
local real_load, real_print = load, print
local mtype, floor, huge = math.type, math.floor, math.huge
local sfmt, sbyte, ssub, sfind, sgsub, smatch = string.format, string.byte, string.sub,
  string.find, string.gsub, string.match
local tconcat, tsort, tpack, tunpack = table.concat, table.sort, table.pack, table.unpack
local ulen = utf8.len
local real_randomseed = math.randomseed
local real_collectgarbage = collectgarbage

-- "chunk:line" of the innermost frame of user code, or nil: every frame of the bridge's own
-- chunks (`=wflow/...`) and of C is skipped. In coroutine `co` from its `level`; without `co`,
-- in the running coroutine, starting at the caller of this function.
local function user_position(co, level)
  while true do
    local info
    if co ~= nil then info = getinfo(co, level, "Sl") else info = getinfo(level + 1, "Sl") end
    if info == nil then return nil end
    if info.currentline > 0 and ssub(info.source, 1, 7) ~= "=wflow/" then
      return info.short_src .. ":" .. info.currentline
    end
    level = level + 1
  end
end

B.user_position = user_position -- the call site a request names (Temporal UI summaries)

-- The parameter names of Lua function `f` (comma-separated), whether it takes `...`, and how
-- many it declares: what the entry runner checks a call's argument count against.
function B.parameters(f)
  local info = getinfo(f, "u")
  local names = {}
  for i = 1, info.nparams do names[i] = getlocal(f, i) end
  return tconcat(names, ","), info.isvararg, info.nparams
end

-- The user-code frames of the running coroutine, innermost first, from the caller of this
-- function's caller (at most 20): `{source =, line =, name =}` (for error objects' stacks).
function B.user_frames(level)
  local frames = {}
  level = level + 1
  while #frames < 20 do
    local info = getinfo(level, "Sln")
    if info == nil then break end
    if info.currentline > 0 and ssub(info.source, 1, 7) ~= "=wflow/" then
      frames[#frames + 1] = { source = info.short_src, line = info.currentline,
        name = info.name or "main chunk" }
    end
    level = level + 1
  end
  return frames
end

local WHERE = cfg.where -- "workflows" or "functions"
B.WHERE = WHERE

local ops, HOSTFAIL = B.ops, B.HOSTFAIL -- lua/protocol.lua ran first

-- The libraries removed below stay loaded in the registry (`package.loaded`, io's standard
-- files) unless dropped there too: then they are garbage (~4 KiB of every state: io's
-- handles, package's paths and searchers, lupa's `python` module).
local loaded_libraries = package.loaded
for _, name in ipairs({ "debug", "io", "os", "package", "python" }) do
  loaded_libraries[name] = nil
end
local registry = debug.getregistry()
registry._IO_input, registry._IO_output = nil, nil

-- Remove everything dangerous from the real globals too (defence in depth).
for _, name in ipairs({ "debug", "io", "os", "package", "python", "dofile", "loadfile", "require",
  "load", "collectgarbage" }) do
  rawset(_G, name, nil)
end
string.dump = nil

---------------------------------------------------------------------------------------------
-- Instruction budget (per uninterrupted slice, shared by every coroutine of the run)
---------------------------------------------------------------------------------------------
local LIMIT = setmetatable({}, { __tostring = function() return "instruction limit exceeded" end })
local MEMERR = "not enough memory"
local budget_max = cfg.max_instructions or 0
local hook_step = (budget_max > 0 and budget_max < 10000) and budget_max or 10000
local budget_used = 0
local exceeded = false

local function hook()
  budget_used = budget_used + hook_step
  if exceeded or budget_used > budget_max then
    exceeded = true
    error(LIMIT, 0)
  end
end

local function install_hook(co)
  if budget_max > 0 then sethook(co, hook, "", hook_step) end
  return co
end

-- Errors user code cannot catch: resource limits and failed host functions.
local function is_resource_error(e)
  return rawequal(e, LIMIT) or rawequal(e, HOSTFAIL) or (type(e) == "string" and e == MEMERR)
end

B.LIMIT = LIMIT
B.install_hook = install_hook
B.is_resource_error = is_resource_error
function B.reset_budget() budget_used = 0 end
function B.exceeded() return exceeded end

---------------------------------------------------------------------------------------------
-- Text helpers
---------------------------------------------------------------------------------------------
-- Replace bytes that are not valid UTF-8 so the text can cross into Python.
local function safe_text(s)
  if ulen(s) then return s end
  local out, i, n = {}, 1, #s
  while i <= n do
    local ok_len = ulen(s, i, i)
    local c = sbyte(s, i)
    local width = c < 0x80 and 1 or c < 0xE0 and 2 or c < 0xF0 and 3 or 4
    if ok_len and i + width - 1 <= n and ulen(ssub(s, i, i + width - 1)) then
      out[#out + 1] = ssub(s, i, i + width - 1)
      i = i + width
    else
      out[#out + 1] = sfmt("\\x%02X", c)
      i = i + 1
    end
  end
  return tconcat(out)
end
B.safe_text = safe_text

-- tostring without memory addresses: they differ between processes and would not replay.
local object_ids = setmetatable({}, { __mode = "k" })
local next_object_id = 0
local function d_tostring(v)
  local s = tostring(v)
  local tv = type(v)
  if tv == "table" or tv == "function" or tv == "thread" or tv == "userdata" then
    local prefix = smatch(s, "^(.-): 0x%x+$")
    if prefix then
      local id = object_ids[v]
      if not id then
        next_object_id = next_object_id + 1
        id = next_object_id
        object_ids[v] = id
      end
      return prefix .. ": #" .. id
    end
  end
  return s
end
B.tostring = d_tostring

-- string.format without %p and without addresses for tables (%s uses tostring above).
local function d_format(fmt, ...)
  if type(fmt) == "string" and sfind(fmt, "%%[-+ #0]*%d*%.?%d*p") then
    error("string.format: %p is not available in " .. WHERE .. " (addresses do not replay)", 2)
  end
  local n = select("#", ...)
  local args = { ... }
  for i = 1, n do
    local a = args[i]
    local ta = type(a)
    if ta == "table" or ta == "function" or ta == "thread" or ta == "userdata" then
      args[i] = d_tostring(a)
    end
  end
  return sfmt(fmt, tunpack(args, 1, n))
end
string.format = d_format

---------------------------------------------------------------------------------------------
-- Pattern matching within the instruction budget
---------------------------------------------------------------------------------------------
-- Each find/match/gmatch/gsub of user code first bounds the matcher's work on its subject
-- and refuses the call when the bound exceeds the run's budget: `B.check_pattern`, in
-- lua/pattern_budget.lua (loaded on a run's first pattern call; most runs make none).
local real_find, real_match, real_gmatch, real_gsub = sfind, smatch, string.gmatch, sgsub

-- "chunk:line: " of the nearest user code on the stack, or "" (a tail-called wrapper's caller
-- frame is gone: then the next user frame up).
local function user_where()
  local at = user_position(nil, 1)
  return at and at .. ": " or ""
end

B.user_where = user_where

-- Lua's own errors of the real function (bad argument, malformed pattern) name the caller's
-- line, as without the wrapper: a C function's error names the frame that called it, which
-- is pcall here, so the message has no position and `relay` adds the user's.
-- Called through pcall, the function has no name of its own in "bad argument" messages.
local function relay(who, ok, ...)
  if ok then return ... end
  local e = ...
  if type(e) ~= "string" or e == MEMERR then error(e, 0) end
  error(user_where() .. sgsub(e, "^(bad argument #%d+ to )'%?'", "%1'" .. who .. "'"), 0)
end

if budget_max > 0 then
  string.find = function(s, p, ...)
    B.check_pattern("find", s, p, select(2, ...), false)
    return relay("find", pcall(real_find, s, p, ...))
  end
  string.match = function(s, p, ...)
    B.check_pattern("match", s, p, false, false)
    return relay("match", pcall(real_match, s, p, ...))
  end
  string.gmatch = function(s, p, ...)
    B.check_pattern("gmatch", s, p, false, true)
    return relay("gmatch", pcall(real_gmatch, s, p, ...))
  end
  string.gsub = function(s, p, repl, ...)
    B.check_pattern("gsub", s, p, false, false)
    -- a function or table replacement runs user code, whose errors keep their own positions
    if type(repl) == "string" or type(repl) == "number" then
      return relay("gsub", pcall(real_gsub, s, p, repl, ...))
    end
    return real_gsub(s, p, repl, ...)
  end
end

---------------------------------------------------------------------------------------------
-- Argument checks shared by the modules (errors point `level` frames up)
---------------------------------------------------------------------------------------------
function B.only_in_workflows(name, level)
  if WHERE ~= "workflows" then
    error(name .. " is not available in functions (only in workflows)", level + 1)
  end
end

function B.check_string(v, who, what, level)
  if type(v) ~= "string" then
    error(who .. ": " .. what .. " must be a string, got " .. type(v), level + 1)
  end
  if not ulen(v) then error(who .. ": " .. what .. " is not valid UTF-8", level + 1) end
end

function B.check_nonempty(v, who, what, hint, level)
  if type(v) ~= "string" or v == "" then
    error(who .. ": " .. what .. " must be " .. hint .. ", got " ..
      (v == "" and "an empty string" or type(v)), level + 1)
  end
  if not ulen(v) then error(who .. ": " .. what .. " is not valid UTF-8", level + 1) end
end

-- Durations in Lua are milliseconds (numbers), strings like "1h30m" (validated by the host)
-- or Duration objects. Here, not in lua/duration_object.lua: a timer or sleep with a number or
-- a string needs no duration objects, and none exist before that file is loaded.
function B.duration_ms(d, who, level)
  local duration_mt = rawget(B, "DurationMT")
  if duration_mt ~= nil and type(d) == "table" and getmetatable(d) == duration_mt then
    return d._ns / 1000000
  end
  if type(d) ~= "number" and type(d) ~= "string" then
    error(who .. ": expected a duration (milliseconds or a string like \"5s\"), got " .. type(d), level + 1)
  end
  if type(d) == "string" and not ulen(d) then error(who .. ": duration is not valid UTF-8", level + 1) end
  local ms, err = ops.parse_duration(d)
  if ms == nil then error(who .. ": " .. err, level + 1) end
  return ms
end

---------------------------------------------------------------------------------------------
-- Deterministic iteration: numbers ascending, then strings bytewise, then false, true.
---------------------------------------------------------------------------------------------
-- Chunk environments whose lazy globals (`process`, `errors`, ...; see B.new_env) are not
-- loaded yet: env -> {name = true}. Iterating an environment or replacing its metatable loads
-- them first, so the environment behaves as if they had been there from the start.
local PENDING = setmetatable({}, { __mode = "k" })
local materialize -- defined with the environments below

local RANK = { number = 1, string = 2, boolean = 3 }

local function bytes_lt(a, b)
  local la, lb = #a, #b
  local n = la < lb and la or lb
  for i = 1, n do
    local x, y = sbyte(a, i), sbyte(b, i)
    if x ~= y then return x < y end
  end
  return la < lb
end

local function key_lt(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return RANK[ta] < RANK[tb] end
  if ta == "number" then return a < b end
  if ta == "string" then return bytes_lt(a, b) end
  return (not a) and b
end

local function bad_key(who, k, level)
  error(who .. ": cannot iterate over a table with a " .. type(k) .. " key in " .. WHERE ..
    " (its order would not replay); use string, number or boolean keys", level + 1)
end

local function sorted_keys(t, who, level)
  local keys, n = {}, 0
  local k = rawnext(t)
  while k ~= nil do
    if not RANK[type(k)] then bad_key(who, k, level + 1) end
    n = n + 1
    keys[n] = k
    k = rawnext(t, k)
  end
  tsort(keys, key_lt)
  return keys, n
end
B.sorted_keys = sorted_keys

local function d_pairs(t)
  if PENDING[t] then materialize(t) end
  local mt = getmetatable(t)
  local mp = type(mt) == "table" and rawget(mt, "__pairs") or nil
  if mp then
    local f, s, c = mp(t)
    return f, s, c
  end
  if type(t) ~= "table" then
    error("bad argument #1 to 'pairs' (table expected, got " .. type(t) .. ")", 2)
  end
  local keys, n = sorted_keys(t, "pairs", 2)
  local i = 0
  return function(tt)
    while i < n do
      i = i + 1
      local k = keys[i]
      local v = rawget(tt, k)
      if v ~= nil then return k, v end
    end
    return nil
  end, t, nil
end

local next_cache = setmetatable({}, { __mode = "k" })
local function d_next(t, k)
  if PENDING[t] then materialize(t) end
  if type(t) ~= "table" then
    error("bad argument #1 to 'next' (table expected, got " .. type(t) .. ")", 2)
  end
  if k == nil then
    -- The smallest key, in one pass (keeps `next(t) == nil` emptiness checks cheap).
    local best = rawnext(t)
    if best == nil then return nil end
    if not RANK[type(best)] then bad_key("next", best, 2) end
    local key = rawnext(t, best)
    while key ~= nil do
      if not RANK[type(key)] then bad_key("next", key, 2) end
      if key_lt(key, best) then best = key end
      key = rawnext(t, key)
    end
    next_cache[t] = nil
    return best, rawget(t, best)
  end
  local c = next_cache[t]
  local pos = c and c.index[k]
  if not pos then
    local keys, n = sorted_keys(t, "next", 2)
    local index = {}
    for i = 1, n do index[keys[i]] = i end
    c = { keys = keys, n = n, index = index }
    next_cache[t] = c
    pos = index[k]
    if not pos then error("invalid key to 'next'", 2) end
  end
  local keys = c.keys
  for i = pos + 1, c.n do
    local key = keys[i]
    local v = rawget(t, key)
    if v ~= nil then return key, v end
  end
  return nil
end

---------------------------------------------------------------------------------------------
-- pcall/xpcall that cannot swallow resource-limit errors
---------------------------------------------------------------------------------------------
local function pcall_filter(ok, ...)
  if not ok and is_resource_error((...)) then error((...), 0) end
  return ok, ...
end

local function d_pcall(f, ...)
  return pcall_filter(pcall(f, ...))
end

local function d_xpcall(f, handler, ...)
  return pcall_filter(xpcall(f, function(e)
    if is_resource_error(e) then return e end
    return handler(e)
  end, ...))
end

---------------------------------------------------------------------------------------------
-- Failed calls: why a script that ignored `err` then failed (see lua_bridge/__init__.py)
---------------------------------------------------------------------------------------------
-- Per coroutine, the most recent call that returned `nil, err` (funcs.call, a future's
-- :result(), process.spawn/exec/send, workflow.exec, ...): what it was, where the script made
-- it, its error, and how many of those calls succeeded since. When an error ends the
-- coroutine and its message speaks of a nil value, the message names that failure too.
local failed_calls = setmetatable({}, { __mode = "k" })
B.failed_calls = failed_calls

-- How a call reads in a note: `funcs.call("app.api:charge")`; `args` are the leading string
-- arguments that say what was called (target, host, pid, topic); nil ones are left out.
local function call_text(who, a, b)
  local parts = {}
  if type(a) == "string" then parts[1] = sfmt("%q", a) end
  if type(b) == "string" then parts[#parts + 1] = sfmt("%q", b) end
  return safe_text(who .. "(" .. tconcat(parts, ", ") .. ")")
end
B.call_text = call_text

-- Record the outcome of a call and return it unchanged: `nil, err` is remembered as the
-- coroutine's last failed call; any other outcome counts as a later call that succeeded.
function B.noted(who, a, b, ...)
  local v, err = ...
  local co = co_running()
  if v == nil and err ~= nil then
    failed_calls[co] = { call = call_text(who, a, b), at = user_position(nil, 1), err = err, later = 0 }
  else
    local rec = failed_calls[co]
    if rec then rec.later = rec.later + 1 end
  end
  return ...
end

-- A coroutine that died of an error hands its last failed call to the one that resumed it
-- (the error travels there too: coroutine.wrap re-raises it, resume returns it).
local function inherit_failed_call(child)
  local rec = failed_calls[child]
  if rec then failed_calls[co_running()] = rec end
end

---------------------------------------------------------------------------------------------
-- Coroutines: user coroutines pass the driver's yields through to the driver
---------------------------------------------------------------------------------------------
local DRV = B.DRV
local roots = setmetatable({}, { __mode = "k" })

local function pass(co, ok, ...)
  if ok then
    if rawequal((...), DRV) and co_status(co) == "suspended" then
      -- A request to the driver from inside a user coroutine: hand it up, then resume the
      -- user coroutine with the driver's answer.
      return pass(co, co_resume(co, co_yield(...)))
    end
    return true, ...
  end
  if is_resource_error((...)) then error((...), 0) end
  inherit_failed_call(co)
  return false, ...
end

local function u_create(f)
  if type(f) ~= "function" then
    error("bad argument #1 to 'create' (function expected, got " .. type(f) .. ")", 2)
  end
  return install_hook(co_create(f))
end

local function u_resume(co, ...)
  if roots[co] then error("cannot resume a coroutine that wflow itself drives " ..
    "(the run's main code or a coroutine.spawn one)", 2) end
  return pass(co, co_resume(co, ...))
end

local function wrap_result(ok, ...)
  if not ok then error((...), 0) end
  return ...
end

local function u_wrap(f)
  local co = u_create(f)
  return function(...) return wrap_result(u_resume(co, ...)) end
end

local function u_yield(...)
  if roots[co_running()] then
    error("coroutine.yield: not inside a coroutine (the main code of a " ..
      ssub(WHERE, 1, -2) .. " cannot yield)", 2)
  end
  return co_yield(...)
end

local function u_isyieldable()
  if roots[co_running()] then return false end
  return co_isyieldable()
end

local user_coroutine = {
  create = u_create,
  resume = u_resume,
  wrap = u_wrap,
  yield = u_yield,
  isyieldable = u_isyieldable,
  status = co_status,
  running = co_running,
  close = function(co)
    if roots[co] then error("cannot close a coroutine that wflow itself drives " ..
      "(the run's main code or a coroutine.spawn one)", 2) end
    return co_close(co)
  end,
}
B.coroutine = user_coroutine

---------------------------------------------------------------------------------------------
-- Driver side: root coroutines are stepped from Python by integer id
---------------------------------------------------------------------------------------------
local threads = {}
local next_thread_id = 0

function B.new_root(f)
  local co = install_hook(co_create(f))
  roots[co] = true
  next_thread_id = next_thread_id + 1
  threads[next_thread_id] = co
  return next_thread_id
end

-- coroutine.spawn (workflow only): a concurrent, deterministically scheduled coroutine.
user_coroutine.spawn = function(fn, ...)
  B.only_in_workflows("coroutine.spawn", 2)
  if type(fn) ~= "function" then error("coroutine.spawn: expected a function", 2) end
  local args = tpack(...)
  local tid = B.new_root(function() fn(tunpack(args, 1, args.n)) end)
  ops.spawn_coroutine(tid)
  return true
end

-- guarded, error_text and the failed-call note are in lua/error_object.lua: only an error
-- needs them, and it makes an error object (or its text) anyway.
B.roots = roots

local finishers = {}
B.finishers = finishers

local function on_resume(tid, co, ok, ...)
  if ok then
    if co_status(co) == "dead" then
      threads[tid] = nil
      return finishers.done(...)
    end
    if rawequal((...), DRV) then return "yield", select(2, ...) end
    return "error", "coroutine.yield: values yielded outside a coroutine"
  end
  local e = ...
  if exceeded or rawequal(e, LIMIT) then
    threads[tid] = nil
    return "limit", "instructions"
  end
  if type(e) == "string" and e == MEMERR then
    threads[tid] = nil
    return "limit", "memory"
  end
  local text = safe_text(B.uncaught_error_text(co, e, user_position)) -- lua/error_object.lua
  local tb = safe_text(traceback(co, text))
  text = text .. safe_text(B.failed_call_note(co, e, text))
  threads[tid] = nil
  return "error", text, tb
end

function B.step(tid, ...)
  local co = threads[tid]
  if not co then return "error", "internal: unknown coroutine " .. tostring(tid) end
  budget_used = 0
  return on_resume(tid, co, co_resume(co, ...))
end

function B.drop(tid)
  threads[tid] = nil
end

---------------------------------------------------------------------------------------------
-- Stubs for what is not available
---------------------------------------------------------------------------------------------
local function unavailable(name)
  return function()
    error(name .. " is not available in " .. WHERE, 2)
  end
end

local function blocked_library(name)
  return setmetatable({}, {
    __index = function(_, k) error(name .. "." .. tostring(k) .. " is not available in " .. WHERE, 2) end,
    __newindex = function(_, k) error(name .. "." .. tostring(k) .. " is not available in " .. WHERE, 2) end,
    __call = function() error(name .. " is not available in " .. WHERE, 2) end,
    __metatable = false,
  })
end
B.unavailable = unavailable
B.blocked_library = blocked_library

---------------------------------------------------------------------------------------------
-- Deterministic math.random (Lua 5.4's xoshiro256**, seeded from the host) and os
---------------------------------------------------------------------------------------------
-- The run's seed and start come in cfg when the host has them (two calls fewer per run).
real_randomseed(cfg.random_seed or ops.random_seed())
-- The clock in Unix nanoseconds for time.now and os.time/date/clock; past 2262 (beyond a Lua
-- integer) the host answers nil and why, raised at the caller's line (`level` as for error).
function B.clock_ns(who, level)
  local ns, err = ops.now_ns()
  if ns == nil then error(who .. ": " .. err, level + 1) end
  return ns
end
B.start_ns = cfg.start_ns or B.clock_ns("os.clock", 1) -- os.clock counts from here (lua/os.lua)
local user_math = {}
for k, v in rawnext, math do user_math[k] = v end
user_math.randomseed = function(...)
  if select("#", ...) == 0 then
    real_randomseed(ops.random_seed())
  else
    local a, b = ...
    if b == nil then real_randomseed(a) else real_randomseed(a, b) end
  end
end

local function d_setmetatable(t, mt)
  if PENDING[t] then materialize(t) end
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    error("setmetatable: __gc metamethods are not available in " .. WHERE ..
      " (garbage collection timing does not replay)", 2)
  end
  -- A refusal (not a table, a protected metatable such as an error object's) names the
  -- user's line, not this one.
  local ok, r = pcall(setmetatable, t, mt)
  if not ok then error(r, is_resource_error(r) and 0 or 2) end -- "not enough memory" stays one
  return r
end

local function d_collectgarbage(opt, ...)
  if opt == "count" then return real_collectgarbage("count") end
  error("collectgarbage(" .. (opt == nil and "" or sfmt("%q", tostring(opt))) ..
    ") is not available in " .. WHERE .. " (only \"count\")", 2)
end

local function d_print(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = d_tostring((select(i, ...))) end
  ops.log(safe_text(tconcat(parts, "\t")))
end

---------------------------------------------------------------------------------------------
-- Environments
---------------------------------------------------------------------------------------------
local SAFE = {
  _VERSION = _VERSION,
  assert = assert,
  error = error,
  getmetatable = getmetatable,
  ipairs = ipairs,
  next = d_next,
  pairs = d_pairs,
  pcall = d_pcall,
  print = d_print,
  rawequal = rawequal,
  rawget = rawget,
  rawlen = rawlen,
  rawset = rawset,
  select = select,
  setmetatable = d_setmetatable,
  tonumber = tonumber,
  tostring = d_tostring,
  type = type,
  xpcall = d_xpcall,
  string = string,
  table = table,
  math = user_math,
  utf8 = utf8,
  coroutine = user_coroutine,
  collectgarbage = d_collectgarbage,
  warn = function() end,
  io = blocked_library("io"),
  debug = blocked_library("debug"),
  package = blocked_library("package"),
  python = blocked_library("python"),
  dofile = unavailable("dofile"),
  loadfile = unavailable("loadfile"),
}
B.SAFE = SAFE

-- A refusal names the user's line however `load` was reached: `error(msg, 2)` would name
-- the caller, which is no line at all under `pcall(load, ...)` (pcall is C).
local function load_refusal(message)
  error(user_where() .. message, 0)
end

local function make_load(env)
  return function(chunk, chunkname, mode, ...)
    if mode ~= nil and mode ~= "t" then
      load_refusal("load: binary chunks are not available in " .. WHERE .. " (mode must be \"t\")")
    end
    if type(chunk) == "function" then
      local parts = {}
      while true do
        local piece = chunk()
        if piece == nil or piece == "" then break end
        if type(piece) ~= "string" then load_refusal("load: reader function must return a string") end
        parts[#parts + 1] = piece
      end
      chunk = tconcat(parts)
    elseif type(chunk) ~= "string" then
      load_refusal("bad argument #1 to 'load' (string expected, got " .. type(chunk) .. ")")
    end
    if sbyte(chunk, 1) == 27 then
      return nil, "load: binary chunks are not available in " .. WHERE
    end
    local e = env
    if select("#", ...) > 0 then e = ... end
    return real_load(chunk, chunkname, "t", e)
  end
end

---------------------------------------------------------------------------------------------
-- Bridge modules (lua/<name>.lua: funcs, time, process, ...), loaded on first use
---------------------------------------------------------------------------------------------
-- Modules run in their own copy of the globals, with private copies of the libraries user code
-- shares (`string`, `table`, `utf8`): a module loaded after user code ran sees the originals.
local MODULE_ENV = {}
for k, v in rawnext, _G do MODULE_ENV[k] = v end
for _, lib in ipairs({ "string", "table", "utf8" }) do
  local copy = {}
  for k, v in rawnext, _G[lib] do copy[k] = v end
  MODULE_ENV[lib] = copy
end
-- The bridge's own patterns are fixed ones that do not backtrack: its modules match with the
-- real functions, without the budget's checks (which are for user code's patterns).
local module_string = MODULE_ENV.string
module_string.find, module_string.match = real_find, real_match
module_string.gmatch, module_string.gsub = real_gmatch, real_gsub
local loaded_modules, loading_modules = {}, {}

-- The bridge file `lua/<name>.lua` as a function that runs in MODULE_ENV. The host loads it
-- into this state from the bytecode compiled once per process: its bytecode never becomes a
-- Lua string here, which would stay behind as garbage (~8 KiB for a sleeping run) in a
-- state that, waiting, allocates nothing more and so never collects it.
local function load_bridge_file(name)
  local fn = ops.load_module(name)
  if fn == nil then error(MEMERR, 0) end -- the state's memory limit, reached while loading it
  setupvalue(fn, 1, MODULE_ENV) -- a main chunk's one upvalue is its _ENV
  return fn
end

-- Return the module `name`, running `lua/<name>.lua` (compiled once per process, fetched
-- from the host) the first time. Its chunk receives `B, cfg` and returns the module table.
function B.module(name)
  local m = loaded_modules[name]
  if m ~= nil then return m end
  if loading_modules[name] then
    error("internal error in the wflow Lua bridge: module " .. name .. " requires itself", 0)
  end
  local fn = load_bridge_file(name)
  loading_modules[name] = true
  m = fn(B, cfg)
  loading_modules[name] = nil
  loaded_modules[name] = m
  return m
end

-- Bridge files that only add fields to B (error, time, duration, location and message
-- objects), run the first time one of their fields is read: most runs never make a time or
-- message object, and an error object only when something fails. Each file's fields are
-- listed here (a test checks the lists against the files); like modules, they run in
-- MODULE_ENV.
local LAZY_FIELDS = {}
for file, fields in rawnext, {
  pattern_budget = { "check_pattern" },
  codec = { "encode", "encode_list" },
  error_object = { "ErrMT", "error_fields", "error_frames", "error_text", "failed_call_note",
    "guarded", "is_error", "new_error", "parse_kind", "render_value", "uncaught_error_text" },
  time_object = { "TimeMT", "date_table", "days_from_civil", "is_time", "new_time", "offset_of",
    "rfc3339", "strftime", "time_from_local", "time_in" },
  duration_object = { "DurationMT", "is_duration", "new_duration" },
  location_object = { "LocationMT", "UTC", "new_location" },
  message_object = { "message_fields", "new_event", "new_message" },
} do
  for _, field in ipairs(fields) do LAZY_FIELDS[field] = file end
end

setmetatable(B, { __index = function(b, field)
  local file = LAZY_FIELDS[field]
  if file == nil then return nil end
  for f, owner in rawnext, LAZY_FIELDS do
    if owner == file then LAZY_FIELDS[f] = nil end -- loaded once, even if it fails
  end
  load_bridge_file(file)(B, cfg)
  return rawget(b, field)
end })

-- Field `name` of B, loading its file first. Python reads lazy fields through this: lupa's
-- own indexing of a table whose __index is a function returns the wrong values while a
-- coroutine is running (it is, during a host call).
function B.field(name) return B[name] end

-- Whether `v` is an error object, without loading error_object.lua (none exist before it).
function B.is_error_value(v)
  local is_error = rawget(B, "is_error")
  return is_error ~= nil and is_error(v)
end

-- Globals that are modules (`process`, `errors`, `os`, `channel`), set by lua/entry.lua.
B.MODULE_GLOBALS = {}

materialize = function(env)
  local pending = PENDING[env]
  PENDING[env] = nil
  for _, name in ipairs(B.MODULE_GLOBALS) do
    if pending[name] and rawget(env, name) == nil then rawset(env, name, B.module(name)) end
  end
end

-- A fresh environment for one chunk; `require` is supplied by the caller. The module globals
-- are loaded on their first use (most entries touch only a few modules).
function B.new_env(require_fn)
  local env = {}
  for k, v in rawnext, SAFE do env[k] = v end
  env._G = env
  env.load = make_load(env)
  env.require = require_fn
  local pending = {}
  for _, name in ipairs(B.MODULE_GLOBALS) do pending[name] = true end
  PENDING[env] = pending
  setmetatable(env, {
    __index = function(e, k)
      local p = PENDING[e]
      if p == nil or not p[k] then return nil end
      p[k] = nil
      local m = B.module(k)
      rawset(e, k, m)
      return m
    end,
    __newindex = function(e, k, v)
      -- Assigning a module global before its first use replaces it (as if it were loaded).
      local p = PENDING[e]
      if p ~= nil then p[k] = nil end
      rawset(e, k, v)
    end,
  })
  return env
end

-- Load a user chunk into `env`: its bytecode when the Python side compiled it already (our
-- own compiler output; scripts themselves can never load binary chunks), else its text.
function B.load_chunk(desc, env)
  if desc.bytecode then return real_load(desc.bytecode, desc.chunkname, "b", env) end
  return real_load(desc.source, desc.chunkname, "t", env)
end

B.co_yield = co_yield

-- Array / object markers for tables that came from JSON (or json.array / json.object); the
-- encoder (lua/codec.lua) reads them.
local ARRAY = setmetatable({}, { __mode = "k" })
function B.mark_array(t) ARRAY[t] = true; return t end
function B.mark_object(t) ARRAY[t] = nil; return t end
B.ARRAY = ARRAY
B.raw_format = sfmt
B.raw_match, B.raw_gsub = real_match, real_gsub -- the bridge's own, fixed patterns (no budget checks)
B.rawnext = rawnext
B.unpack = tunpack
B.pack = tpack
