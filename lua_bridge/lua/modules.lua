-- wflow lua_bridge: the Lua-side modules (funcs, time, uuid, json, errors, workflow, channel),
-- the sandboxed os library, require, and the entry runner (trusted code).
--
-- Intercepted calls that wait (funcs.call, time.sleep, channel receive/send/select, ...) yield
-- a request to the Python driver through B.request; calls that answer at once (time.now,
-- uuid.v4, ...) call a host function directly. Conventions: operational failures return
-- `nil, err` (an error object); wrong arguments raise a Lua error at the caller's line.

local B, cfg = ...

local host = cfg.host
local request = B.request
local new_error, is_error, parse_kind = B.new_error, B.is_error, B.parse_kind
local type, error, select, setmetatable, getmetatable = type, error, select, setmetatable, getmetatable
local rawget, tostring, ipairs, pcall = rawget, tostring, ipairs, pcall
local tconcat, tsort, tpack, tunpack = table.concat, table.sort, table.pack, table.unpack
local ulen = utf8.len
local WHERE = B.WHERE
local IN_WORKFLOW = WHERE == "workflows"
local duration_ms = B.duration_ms

local function only_in_workflows(name, level)
  if not IN_WORKFLOW then
    error(name .. " is not available in functions (only in workflows)", level + 1)
  end
end

local function check_string(v, who, what, level)
  if type(v) ~= "string" then
    error(who .. ": " .. what .. " must be a string, got " .. type(v), level + 1)
  end
  if not ulen(v) then error(who .. ": " .. what .. " is not valid UTF-8", level + 1) end
end

---------------------------------------------------------------------------------------------
-- errors
---------------------------------------------------------------------------------------------
local errors = {}
for _, k in ipairs(cfg.kinds) do errors[k] = k end

function errors.new(spec, kind)
  if type(spec) == "table" and not is_error(spec) then
    local message = rawget(spec, "message")
    if message == nil then message = "" end
    return new_error(rawget(spec, "kind") or kind, tostring(message), rawget(spec, "retryable"),
      rawget(spec, "details"))
  end
  if is_error(spec) then return spec end
  if spec == nil then error("errors.new: expected a message or a table {message=, kind=, ...}", 2) end
  return new_error(kind, tostring(spec), nil, nil)
end

function errors.wrap(err, message)
  if err == nil then return nil end
  message = tostring(message)
  if is_error(err) then
    return new_error(err._kind, message .. ": " .. err._message, err._retryable, err._details)
  end
  return new_error("UNKNOWN", message .. ": " .. B.error_text(err), nil, nil)
end

function errors.is(err, kind)
  return is_error(err) and err._kind == parse_kind(kind)
end

function errors.is_error(v)
  return is_error(v)
end

---------------------------------------------------------------------------------------------
-- json
---------------------------------------------------------------------------------------------
local json = {}

function json.encode(v)
  local text, err = B.encode(v, "value")
  if not text then return nil, new_error("INVALID", "json.encode: " .. err) end
  return text
end

function json.decode(s)
  if type(s) ~= "string" then
    return nil, new_error("INVALID", "json.decode: expected a string, got " .. type(s))
  end
  if not ulen(s) then return nil, new_error("INVALID", "json.decode: text is not valid UTF-8") end
  local ok, value = host.json_decode(s)
  if not ok then return nil, new_error("INVALID", "json.decode: " .. value) end
  return value
end

function json.array(t)
  if t == nil then t = {} end
  if type(t) ~= "table" then error("json.array: expected a table", 2) end
  return B.mark_array(t)
end

function json.object(t)
  if t == nil then t = {} end
  if type(t) ~= "table" then error("json.object: expected a table", 2) end
  return B.mark_object(t)
end

---------------------------------------------------------------------------------------------
-- channel (workflow only)
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

local ChanMethods = {}
local ChanMT = { __index = ChanMethods, __name = "wflow.channel" }
local function wrap_channel(id) return setmetatable({ _id = id }, ChanMT) end
-- Channels the runtime fills (inbox, listen, events): one Lua object per channel, receive only.
local adopted = {}
local function adopt_channel(id, name)
  local ch = adopted[id]
  if ch == nil then
    ch = setmetatable({ _id = id, _ro = name }, ChanMT)
    adopted[id] = ch
  end
  return ch
end
local function is_channel(v) return type(v) == "table" and getmetatable(v) == ChanMT end
B.wrap_channel = wrap_channel

local channel = {}

function channel.new(capacity)
  only_in_workflows("channel.new", 2)
  if capacity == nil then capacity = 0 end
  if math.type(capacity) ~= "integer" or capacity < 0 then
    error("channel.new: capacity must be a whole number >= 0", 2)
  end
  return wrap_channel(host.channel_new(capacity))
end

function ChanMethods.send(ch, v)
  if not is_channel(ch) then error("channel:send: use ch:send(value)", 2) end
  if rawget(ch, "_ro") then
    error("channel:send: " .. ch._ro .. " is receive-only; use process.send(pid, topic, payload)", 2)
  end
  return request("send", ch._id, B.stash(v))
end

function ChanMethods.receive(ch)
  if not is_channel(ch) then error("channel:receive: use ch:receive()", 2) end
  local sid, ok = request("recv", ch._id)
  return B.unstash(sid), ok
end

function ChanMethods.close(ch)
  if not is_channel(ch) then error("channel:close: use ch:close()", 2) end
  if rawget(ch, "_ro") then error("channel:close: " .. ch._ro .. " cannot be closed", 2) end
  host.channel_close(ch._id)
  return true
end

function ChanMethods.case_receive(ch)
  if not is_channel(ch) then error("channel:case_receive: use ch:case_receive()", 2) end
  return { _case = "receive", channel = ch }
end

function channel.select(cases)
  only_in_workflows("channel.select", 2)
  if type(cases) ~= "table" then error("channel.select: expected a table of cases", 2) end
  local ids = {}
  for i, case in ipairs(cases) do
    if type(case) ~= "table" or case._case ~= "receive" then
      error("channel.select: case " .. i .. " is not a ch:case_receive()", 2)
    end
    ids[i] = case.channel._id
  end
  local default = rawget(cases, "default") and true or false
  if #ids == 0 and not default then
    error("channel.select: needs at least one case or default = true", 2)
  end
  local index, sid, ok = request("select", default, tunpack(ids))
  if index < 0 then return { default = true, ok = false } end
  local case = cases[index + 1]
  return { channel = case.channel, value = B.unstash(sid), ok = ok }
end

---------------------------------------------------------------------------------------------
-- time
---------------------------------------------------------------------------------------------
local time = {
  NANOSECOND = 0.000001,
  MICROSECOND = 0.001,
  MILLISECOND = 1,
  SECOND = 1000,
  MINUTE = 60 * 1000,
  HOUR = 60 * 60 * 1000,
}

function time.sleep(d)
  local ms = duration_ms(d, "time.sleep", 2)
  if IN_WORKFLOW then
    request("sleep", ms)
  else
    host.sleep(ms)
  end
  return true
end

function time.now()
  return B.new_time(host.now_ns())
end

function time.after(d)
  only_in_workflows("time.after", 2)
  return wrap_channel(host.after(duration_ms(d, "time.after", 2)))
end

local TimerMethods = {}
local TimerMT = { __index = TimerMethods, __name = "wflow.timer" }

function time.timer(d)
  only_in_workflows("time.timer", 2)
  local tid, cid = host.timer_new(duration_ms(d, "time.timer", 2))
  return setmetatable({ _id = tid, _channel = wrap_channel(cid) }, TimerMT)
end

function TimerMethods.channel(t) return t._channel end
function TimerMethods.stop(t) return host.timer_stop(t._id) end
function TimerMethods.reset(t, d)
  return host.timer_reset(t._id, duration_ms(d, "timer:reset", 2))
end

function time.parse_duration(s)
  if type(s) ~= "string" and type(s) ~= "number" then
    return nil, new_error("INVALID", "time.parse_duration: expected a string, got " .. type(s))
  end
  if type(s) == "string" and not ulen(s) then
    return nil, new_error("INVALID", "time.parse_duration: text is not valid UTF-8")
  end
  local ms, err = host.parse_ms(s)
  if ms == nil then return nil, new_error("INVALID", err) end
  return ms
end

---------------------------------------------------------------------------------------------
-- uuid
---------------------------------------------------------------------------------------------
local uuid = {
  NAMESPACE_DNS = "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
  NAMESPACE_URL = "6ba7b811-9dad-11d1-80b4-00c04fd430c8",
  NAMESPACE_OID = "6ba7b812-9dad-11d1-80b4-00c04fd430c8",
  NAMESPACE_X500 = "6ba7b814-9dad-11d1-80b4-00c04fd430c8",
}

function uuid.v4() return host.uuid4() end
function uuid.v7() return host.uuid7() end
function uuid.v5(namespace, name)
  check_string(namespace, "uuid.v5", "namespace", 2)
  check_string(name, "uuid.v5", "name", 2)
  local value, err = host.uuid5(namespace, name)
  if value == nil then return nil, new_error("INVALID", "uuid.v5: " .. err) end
  return value
end

---------------------------------------------------------------------------------------------
-- funcs
---------------------------------------------------------------------------------------------
local function check_target(target, who, level)
  if type(target) ~= "string" or target == "" then
    error(who .. ": target must be a function entry ID like \"app.api:charge\", got " ..
      (type(target) == "string" and "an empty string" or type(target)), level + 1)
  end
  if not ulen(target) then error(who .. ": target is not valid UTF-8", level + 1) end
end

local function encode_args(who, n, ...)
  local args, err = B.encode_list("args", n, ...)
  if not args then error(who .. ": " .. err, 3) end
  return args
end

local FutureMethods = {}
local FutureMT = { __index = FutureMethods, __name = "wflow.future" }

function FutureMethods.result(f)
  return request("result", f._id)
end
function FutureMethods.is_complete(f)
  return host.call_done(f._id)
end
function FutureMethods.cancel(f)
  host.call_cancel(f._id)
  return true
end
function FutureMethods.channel(f)
  local ch = rawget(f, "_channel")
  if not ch then
    ch = wrap_channel(host.call_channel(f._id))
    f._channel = ch
  end
  return ch
end

local function do_call(opts, who, target, ...)
  only_in_workflows(who, 3)
  check_target(target, who, 3)
  local args = encode_args(who, select("#", ...), ...)
  return request("call", target, args, opts)
end

local function do_async(opts, who, target, ...)
  only_in_workflows(who, 3)
  check_target(target, who, 3)
  local args = encode_args(who, select("#", ...), ...)
  local id, err = host.start_call(target, args, opts)
  if id == nil then return nil, err end
  return setmetatable({ _id = id }, FutureMT)
end

local ExecutorMethods = {}
local ExecutorMT = { __index = ExecutorMethods, __name = "wflow.executor", __newindex = function()
  error("funcs executors are immutable; use :with_options{...} / :with_context{...}", 2)
end }
local function new_executor(opts) return setmetatable({ _opts = opts }, ExecutorMT) end

local function option_table(t, who)
  if type(t) ~= "table" then error(who .. ": expected a table", 3) end
  local text, err = B.encode(t, "options")
  if not text then error(who .. ": " .. err, 3) end
  return text
end

function ExecutorMethods.with_options(ex, t)
  local id, err = host.merge_options(rawget(ex, "_opts"), option_table(t, "with_options"))
  if id == nil then error("with_options: " .. err, 2) end
  return new_executor(id)
end

function ExecutorMethods.with_context(ex, t)
  local id, err = host.with_context(rawget(ex, "_opts"), option_table(t, "with_context"))
  if id == nil then error("with_context: " .. err, 2) end
  return new_executor(id)
end

function ExecutorMethods.call(ex, target, ...)
  return do_call(rawget(ex, "_opts"), "executor:call", target, ...)
end

function ExecutorMethods.async(ex, target, ...)
  return do_async(rawget(ex, "_opts"), "executor:async", target, ...)
end

local funcs = {}
function funcs.call(target, ...) return do_call(0, "funcs.call", target, ...) end
function funcs.async(target, ...) return do_async(0, "funcs.async", target, ...) end
function funcs.new() return new_executor(0) end

---------------------------------------------------------------------------------------------
-- workflow
---------------------------------------------------------------------------------------------
local workflow = {}
function workflow.info() return host.info() end
-- (workflow.version, workflow.attrs, workflow.set_state, workflow.exec, workflow.history_length
-- are defined with the process module below.)

---------------------------------------------------------------------------------------------
-- coroutine.spawn (workflow only): a concurrent, deterministically scheduled coroutine
---------------------------------------------------------------------------------------------
B.coroutine.spawn = function(fn, ...)
  only_in_workflows("coroutine.spawn", 2)
  if type(fn) ~= "function" then error("coroutine.spawn: expected a function", 2) end
  local args = tpack(...)
  local tid = B.new_root(function() fn(tunpack(args, 1, args.n)) end)
  host.spawn(tid)
  return true
end

---------------------------------------------------------------------------------------------
-- os: clock and date from the workflow clock (UTC); everything else is refused
---------------------------------------------------------------------------------------------
local start_ns = host.now_ns()

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
  if t == nil then return host.now_ns() // 1000000000 end
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
    secs = host.now_ns() // 1000000000
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
  return (host.now_ns() - start_ns) / 1e9
end

function os_lib.difftime(a, b)
  return (a - (b or 0)) * 1.0
end

---------------------------------------------------------------------------------------------
-- process: messages, spawning, children. In workflows every operation goes through the
-- driver (recorded by the runtime); in functions spawn/send/exec/cancel/terminate call the
-- call's blocking ProcessClient. Operational failures return `nil, err`.
---------------------------------------------------------------------------------------------
local process = {}

local function check_nonempty(v, who, what, hint, level)
  if type(v) ~= "string" or v == "" then
    error(who .. ": " .. what .. " must be " .. hint .. ", got " ..
      (v == "" and "an empty string" or type(v)), level + 1)
  end
  if not ulen(v) then error(who .. ": " .. what .. " is not valid UTF-8", level + 1) end
end

local function check_pid(pid, who, level)
  check_nonempty(pid, who, "pid", "a PID string", level + 1)
end

local function check_topic(topic, who, level)
  check_nonempty(topic, who, "topic", "a non-empty string", level + 1)
end

local function check_spawn_target(entry, h, who, level)
  check_nonempty(entry, who, "entry", "a workflow entry ID like \"app.workflows:order_processor\"",
    level + 1)
  if h ~= nil then
    check_nonempty(h, who, "host",
      "a temporal.worker entry ID like \"app:temporal_worker\" (or nil for the entry's worker)",
      level + 1)
  end
end

-- Encode the payload arguments: none -> null, one -> that value, several -> an array.
local function encode_payload(who, level, n, ...)
  local text, err = B.encode_list("payload", n, ...)
  if not text then error(who .. ": " .. err, level + 1) end
  return text
end

local function client_check(who, level)
  if not IN_WORKFLOW and not host.pc_available() then
    error(who .. ": process API unavailable here (this function call has no Temporal client)",
      level + 1)
  end
end

local ops
if IN_WORKFLOW then
  ops = {
    send = function(pid, topic, payload, as_error)
      return request("psend", pid, topic, payload, as_error)
    end,
    spawn = function(entry, h, args, opts, monitored)
      return request("pspawn", entry, h, args, opts, monitored)
    end,
    exec = function(entry, h, args, opts) return request("pexec", entry, h, args, opts) end,
    cancel = function(pid) return request("pcancel", pid) end,
    terminate = function(pid, reason) return request("pterminate", pid, reason) end,
  }
else
  ops = {
    send = function(pid, topic, payload) return host.pc_send(pid, topic, payload) end,
    spawn = function(entry, h, args, opts) return host.pc_spawn(entry, h, args, opts) end,
    exec = function(entry, h, args, opts) return host.pc_exec(entry, h, args, opts) end,
    cancel = function(pid) return host.pc_cancel(pid) end,
    terminate = function(pid, reason) return host.pc_terminate(pid, reason) end,
  }
end

-- level: where errors point, relative to the function calling these helpers.
local function do_spawn(opts, who, monitored, level, entry, h, ...)
  if monitored then only_in_workflows(who, level + 1) end
  check_spawn_target(entry, h, who, level + 1)
  local args, err = B.encode_list("args", select("#", ...), ...)
  if not args then error(who .. ": " .. err, level + 1) end
  client_check(who, level + 1)
  return ops.spawn(entry, h, args, opts, monitored)
end

local function do_exec(opts, who, level, entry, h, ...)
  check_spawn_target(entry, h, who, level + 1)
  local args, err = B.encode_list("args", select("#", ...), ...)
  if not args then error(who .. ": " .. err, level + 1) end
  client_check(who, level + 1)
  return ops.exec(entry, h, args, opts)
end

function process.spawn(entry, h, ...)
  local pid, err = do_spawn(0, "process.spawn", false, 2, entry, h, ...)
  return pid, err
end

function process.spawn_monitored(entry, h, ...)
  local pid, err = do_spawn(0, "process.spawn_monitored", true, 2, entry, h, ...)
  return pid, err
end

function process.exec(entry, h, ...)
  local value, err = do_exec(0, "process.exec", 2, entry, h, ...)
  return value, err
end

function process.send(pid, topic, ...)
  check_pid(pid, "process.send", 2)
  check_topic(topic, "process.send", 2)
  local payload = encode_payload("process.send", 2, select("#", ...), ...)
  client_check("process.send", 2)
  -- An error object answering an update (`"error"`) crosses as that error, keeping its kind.
  local as_error = topic == "error" and select("#", ...) == 1 and is_error((...)) and
    string.sub(pid, 1, 7) == "update:"
  local ok, err = ops.send(pid, topic, payload, as_error)
  return ok, err
end

function process.cancel(pid)
  check_pid(pid, "process.cancel", 2)
  client_check("process.cancel", 2)
  local ok, err = ops.cancel(pid)
  return ok, err
end

function process.terminate(pid, reason)
  check_pid(pid, "process.terminate", 2)
  if reason ~= nil and type(reason) ~= "string" then
    error("process.terminate: reason must be a string or nil, got " .. type(reason), 2)
  end
  client_check("process.terminate", 2)
  local ok, err = ops.terminate(pid, reason)
  return ok, err
end

function process.pid()
  only_in_workflows("process.pid", 2)
  return host.p_pid()
end

function process.id()
  return host.p_id()
end

function process.inbox()
  only_in_workflows("process.inbox", 2)
  return adopt_channel(host.p_inbox(), "process.inbox()")
end

function process.listen(topic)
  only_in_workflows("process.listen", 2)
  check_topic(topic, "process.listen", 2)
  return adopt_channel(host.p_listen(topic), "process.listen(\"" .. topic .. "\")")
end

function process.events()
  only_in_workflows("process.events", 2)
  return adopt_channel(host.p_events(), "process.events()")
end

function process.upgrade(...)
  only_in_workflows("process.upgrade", 2)
  local args, err = B.encode_list("args", select("#", ...), ...)
  if not args then error("process.upgrade: " .. err, 2) end
  request("pupgrade", args)
  error("process.upgrade: the runtime did not continue as new", 2)
end

-- Spawners: immutable option sets (`process.with_options{...}`), kept on the Python side.
local SpawnerMethods = {}
local SpawnerMT = { __index = SpawnerMethods, __name = "wflow.spawner", __newindex = function()
  error("process spawners are immutable; use :with_options{...}, :with_name(name) or " ..
    ":with_message(topic, payload)", 2)
end }
local function new_spawner(opts) return setmetatable({ _opts = opts }, SpawnerMT) end
local function spawner_opts(sp, who)
  if type(sp) ~= "table" or getmetatable(sp) ~= SpawnerMT then
    error(who .. ": call it with ':' on a spawner (process.with_options{...}:" ..
      string.match(who, "[%w_]+$") .. "(...))", 3)
  end
  return rawget(sp, "_opts")
end

local function merge_spawn_options(base, t, who, level)
  if type(t) ~= "table" then error(who .. ": expected a table of options", level + 1) end
  local text, err = B.encode(t, "options")
  if not text then error(who .. ": " .. err, level + 1) end
  local id, merr = host.spawn_merge(base, text)
  if id == nil then error(who .. ": " .. merr, level + 1) end
  return new_spawner(id)
end

function process.with_options(t)
  local spawner = merge_spawn_options(0, t, "process.with_options", 2)
  return spawner
end

function SpawnerMethods.with_options(sp, t)
  local base = spawner_opts(sp, "spawner:with_options")
  local spawner = merge_spawn_options(base, t, "spawner:with_options", 2)
  return spawner
end

function SpawnerMethods.with_name(sp, name)
  local base = spawner_opts(sp, "spawner:with_name")
  check_nonempty(name, "spawner:with_name", "name", "a non-empty string", 2)
  local id, err = host.spawn_name(base, name)
  if id == nil then error("spawner:with_name: " .. err, 2) end
  return new_spawner(id)
end

function SpawnerMethods.with_message(sp, topic, ...)
  local base = spawner_opts(sp, "spawner:with_message")
  check_topic(topic, "spawner:with_message", 2)
  local payload = encode_payload("spawner:with_message", 2, select("#", ...), ...)
  local id, err = host.spawn_message(base, topic, payload)
  if id == nil then error("spawner:with_message: " .. err, 2) end
  return new_spawner(id)
end

function SpawnerMethods.spawn(sp, entry, h, ...)
  local pid, err = do_spawn(spawner_opts(sp, "spawner:spawn"), "spawner:spawn", false, 2,
    entry, h, ...)
  return pid, err
end

function SpawnerMethods.spawn_monitored(sp, entry, h, ...)
  local pid, err = do_spawn(spawner_opts(sp, "spawner:spawn_monitored"),
    "spawner:spawn_monitored", true, 2, entry, h, ...)
  return pid, err
end

function SpawnerMethods.exec(sp, entry, h, ...)
  local value, err = do_exec(spawner_opts(sp, "spawner:exec"), "spawner:exec", 2, entry, h, ...)
  return value, err
end

---------------------------------------------------------------------------------------------
-- workflow: versions, attributes, state, child workflows (workflow only)
---------------------------------------------------------------------------------------------
function workflow.version(change_id, min_version, max_version)
  check_nonempty(change_id, "workflow.version", "change_id", "a non-empty string", 2)
  if math.type(min_version) ~= "integer" or math.type(max_version) ~= "integer" then
    error("workflow.version: min and max must be whole numbers", 2)
  end
  if min_version > max_version then
    error("workflow.version: min (" .. min_version .. ") is greater than max (" ..
      max_version .. ")", 2)
  end
  local v, err = host.p_version(change_id, min_version, max_version)
  return v, err
end

function workflow.attrs(t)
  if type(t) ~= "table" then error("workflow.attrs: expected a table {search = {...}, memo = {...}}", 2) end
  local parts = {}
  for k, v in B.rawnext, t do
    if k ~= "search" and k ~= "memo" then
      error("workflow.attrs: unknown key '" .. B.safe_text(tostring(k)) ..
        "' (expected search and/or memo)", 2)
    end
    if type(v) ~= "table" then error("workflow.attrs: " .. k .. " must be a table", 2) end
    local text, err = B.encode(v, k)
    if not text then error("workflow.attrs: " .. err, 2) end
    parts[k] = text
  end
  local ok, err = host.p_set_attrs(parts.search, parts.memo)
  return ok, err
end

function workflow.set_state(v)
  local text, err = B.encode(v, "state")
  if not text then error("workflow.set_state: " .. err, 2) end
  local ok, serr = host.p_set_state(text)
  return ok, serr
end

function workflow.exec(entry, ...)
  local value, err = do_exec(0, "workflow.exec", 2, entry, nil, ...)
  return value, err
end

function workflow.history_length()
  return host.info().history_length
end

---------------------------------------------------------------------------------------------
-- Globals and modules
---------------------------------------------------------------------------------------------
local SAFE = B.SAFE
SAFE.os = os_lib
SAFE.errors = errors
SAFE.process = process
if IN_WORKFLOW then SAFE.channel = channel end

local MODULES = { errors = errors, json = json, time = time, uuid = uuid, funcs = funcs,
  process = process }
if IN_WORKFLOW then
  MODULES.workflow = workflow
  MODULES.channel = channel
end
-- Standard libraries may be required by name too (the sandboxed versions).
local STDLIB = { string = SAFE.string, table = SAFE.table, math = SAFE.math, utf8 = SAFE.utf8,
  coroutine = SAFE.coroutine, os = os_lib }
-- Always requirable: they are globals anyway.
local ALWAYS = { errors = true, channel = true, process = true }
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
    local mod = MODULES[name]
    if mod and (desc.modules[name] or ALWAYS[name]) then return mod end
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

local function dispatch(method, name, args, check_only, ...)
  if select("#", ...) >= 1 then
    local first = ...
    if type(first) == "function" then
      if check_only then return end
      return first(tunpack(args, 1, args.n))
    end
    if type(first) == "table" and getmetatable(first) == nil then
      local m = rawget(first, method)
      if type(m) == "function" then
        if check_only then return end
        return m(tunpack(args, 1, args.n))
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
  local name = desc.display or desc.chunkname
  return B.new_root(function(...)
    local args = tpack(...)
    return dispatch(method, name, args, check_only, fn(...))
  end)
end

-- Called with a finished root coroutine's return values `value, err`.
function B.finishers.done(v, e)
  if e ~= nil and e ~= false then
    local kind, message, retryable, details
    if is_error(e) then
      kind, message, retryable, details = e._kind, e._message, e._retryable, e._details
    elseif type(e) == "table" and getmetatable(e) == nil and rawget(e, "message") ~= nil then
      -- A plain table shaped like an error (e.g. an `error` field a function returned).
      local made = new_error(rawget(e, "kind"), tostring(rawget(e, "message")), rawget(e, "retryable"),
        rawget(e, "details"))
      kind, message, retryable, details = made._kind, made._message, made._retryable, made._details
    else
      local made = new_error("UNKNOWN", B.error_text(e), nil, nil)
      kind, message, retryable = made._kind, made._message, made._retryable
    end
    local dtext = B.encode(details, "error.details") or "null"
    return "fail", kind, B.safe_text(message), retryable, dtext
  end
  local text, err = B.encode(v, "result")
  if not text then return "error", "invalid result: " .. err, "" end
  return "done", text
end

-- Helpers for the Python side.
function B.info_table(t) return t end
