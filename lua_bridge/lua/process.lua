-- wflow lua_bridge: the `process` module (also a global; mirrors wflow/dsl/process.py):
-- messages, spawning, children. Each operation is one `B.ops` call: in a workflow a request
-- the driver records through the runtime, in a function a blocking call on the call's
-- ProcessClient (lua_bridge/_protocol.py decides which). Operational failures return
-- `nil, err`.

local B, cfg = ...

local type, error, rawget, select, setmetatable, getmetatable = type, error, rawget, select,
  setmetatable, getmetatable
local ops, is_error, noted = B.ops, B.is_error, B.noted
local only_in_workflows, check_nonempty = B.only_in_workflows, B.check_nonempty

-- Mailbox channels are lua/channel.lua's objects, loaded the first time a workflow needs one.
local function adopt_channel(cid, name)
  B.module("channel")
  return B.adopt_channel(cid, name)
end

local process = {}

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

-- Functions reach processes through their call's ProcessClient, which a call may lack.
local process_api_available = B.has_op("process_api_available") and ops.process_api_available
local function client_check(who, level)
  if process_api_available and not process_api_available() then
    error(who .. ": process API unavailable here (this function call has no Temporal client)",
      level + 1)
  end
end

-- level: where errors point, relative to the function calling these helpers.
local function do_spawn(opts, who, monitored, level, entry, h, ...)
  if monitored then only_in_workflows(who, level + 1) end
  check_spawn_target(entry, h, who, level + 1)
  local args, err = B.encode_list("args", select("#", ...), ...)
  if not args then error(who .. ": " .. err, level + 1) end
  client_check(who, level + 1)
  return noted(who, entry, h, ops.spawn_child(entry, h, args, opts, monitored))
end

local function do_exec(opts, who, level, entry, h, ...)
  check_spawn_target(entry, h, who, level + 1)
  local args, err = B.encode_list("args", select("#", ...), ...)
  if not args then error(who .. ": " .. err, level + 1) end
  client_check(who, level + 1)
  return noted(who, entry, h, ops.exec_child(entry, h, args, opts))
end

function process.spawn(entry, h, ...)
  local pid, err = do_spawn(0, "process.spawn", false, 2, entry, h, ...)
  return pid, err
end

function process.spawn_monitored(entry, h, ...)
  local pid, err = do_spawn(0, "process.spawn_monitored", true, 2, entry, h, ...)
  return pid, err
end

-- spawn_linked: the spawn, then the link (a child that ends before the link is made still
-- reports its end: a workflow child by its result, a process by its host's recent exits).
local function do_spawn_linked(opts, who, monitored, level, entry, h, ...)
  only_in_workflows(who, level + 1)
  local pid, err = do_spawn(opts, who, monitored, level + 1, entry, h, ...)
  if pid == nil then return nil, err end
  local ok, lerr = noted(who, pid, nil, ops.link_process(pid))
  if not ok then return nil, lerr end
  return pid
end

function process.spawn_linked(entry, h, ...)
  local pid, err = do_spawn_linked(0, "process.spawn_linked", false, 2, entry, h, ...)
  return pid, err
end

function process.spawn_linked_monitored(entry, h, ...)
  local pid, err = do_spawn_linked(0, "process.spawn_linked_monitored", true, 2, entry, h, ...)
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
  local ok, err = noted("process.send", pid, topic, ops.send_message(pid, topic, payload, as_error))
  return ok, err
end

-- process.cancel and process.terminate: the same checks, a different operation.
local function stopper(name, op)
  return function(pid, reason)
    check_pid(pid, name, 2)
    if reason ~= nil and type(reason) ~= "string" then
      error(name .. ": reason must be a string or nil, got " .. type(reason), 2)
    end
    client_check(name, 2)
    local ok, err = noted(name, pid, nil, op(pid, reason))
    return ok, err
  end
end

process.cancel = stopper("process.cancel", ops.cancel_process)
process.terminate = stopper("process.terminate", ops.terminate_process)

function process.pid()
  only_in_workflows("process.pid", 2)
  return ops.process_pid()
end

function process.id()
  return ops.entry_id()
end

function process.inbox()
  only_in_workflows("process.inbox", 2)
  return adopt_channel(ops.inbox_channel(), "process.inbox()")
end

-- `options.message = true`: the channel carries message objects (`:topic()`, `:from()`,
-- `:payload()`), not just the payloads.
local function listen_message_option(options)
  if options == nil then return false end
  if type(options) ~= "table" then
    error("process.listen: options must be a table like {message = true}, got " .. type(options),
      3)
  end
  for key in next, options do
    if key ~= "message" then
      error("process.listen: unknown option '" .. tostring(key) .. "' (known: message)", 3)
    end
  end
  local message = rawget(options, "message")
  if message ~= nil and type(message) ~= "boolean" then
    error("process.listen: options.message must be a boolean, got " .. type(message), 3)
  end
  return message == true
end

function process.listen(topic, options)
  only_in_workflows("process.listen", 2)
  check_topic(topic, "process.listen", 2)
  local message = listen_message_option(options)
  local cid, err = ops.listen_channel(topic, message)
  if cid == nil then error("process.listen: " .. tostring(err), 2) end
  return adopt_channel(cid, "process.listen(\"" .. topic .. "\")")
end

function process.unlisten(ch)
  only_in_workflows("process.unlisten", 2)
  if type(ch) ~= "table" or rawget(ch, "_ro") == nil or rawget(ch, "_id") == nil then
    error("process.unlisten: expected a channel returned by process.listen, got " .. type(ch), 2)
  end
  return ops.unlisten_channel(rawget(ch, "_id"))
end

-- Event kinds on process.events() (wflow.model EVENT_KINDS).
process.event = { EXIT = "EXIT", CANCEL = "CANCEL", LINK_DOWN = "LINK_DOWN" }

-- Monitors and links (wflow.model.Peers): EXIT events, LINK_DOWN or a shared end.
local function peer_op(who, op, pid)
  only_in_workflows(who, 3)
  check_pid(pid, who, 3)
  return noted(who, pid, nil, op(pid))
end

function process.monitor(pid)
  local ok, err = peer_op("process.monitor", ops.monitor_process, pid)
  return ok, err
end

function process.unmonitor(pid)
  local ok, err = peer_op("process.unmonitor", ops.unmonitor_process, pid)
  return ok, err
end

function process.link(pid)
  local ok, err = peer_op("process.link", ops.link_process, pid)
  return ok, err
end

function process.unlink(pid)
  local ok, err = peer_op("process.unlink", ops.unlink_process, pid)
  return ok, err
end

function process.get_options()
  only_in_workflows("process.get_options", 2)
  return ops.process_options()
end

function process.set_options(t)
  only_in_workflows("process.set_options", 2)
  if type(t) ~= "table" then
    error("process.set_options: expected a table like {trap_links = true}, got " .. type(t), 2)
  end
  local text, err = B.encode(t, "options")
  if not text then error("process.set_options: " .. err, 2) end
  local ok, serr = noted("process.set_options", nil, nil, ops.set_process_options(text))
  return ok, serr
end

function process.events()
  only_in_workflows("process.events", 2)
  return adopt_channel(ops.events_channel(), "process.events()")
end

function process.upgrade(...)
  only_in_workflows("process.upgrade", 2)
  local args, err = B.encode_list("args", select("#", ...), ...)
  if not args then error("process.upgrade: " .. err, 2) end
  ops.continue_as_new(args)
  error("process.upgrade: the runtime did not continue as new", 2)
end

-- Names (processes register, anyone looks up; a service is found by its entry ID).
process.registry = {}

function process.registry.register(name, pid)
  only_in_workflows("process.registry.register", 2)
  check_nonempty(name, "process.registry.register", "name", "a non-empty string", 2)
  if pid ~= nil then check_pid(pid, "process.registry.register", 2) end
  local ok, err = noted("process.registry.register", name, nil, ops.register_name(name, pid))
  return ok, err
end

function process.registry.lookup(name)
  only_in_workflows("process.registry.lookup", 2)
  check_nonempty(name, "process.registry.lookup", "name", "a non-empty string", 2)
  local pid, err = ops.lookup_name(name)
  return pid, err
end

-- Spawners: immutable option sets (`process.with_options{...}`), kept on the Python side.
local SpawnerMethods = {}
local SpawnerMT = { __index = SpawnerMethods, __name = "wflow.spawner", __newindex = function()
  error("process spawners are immutable; use :with_options{...}, :with_context{...}, " ..
    ":with_name(name) or :with_message(topic, payload)", 2)
end }
local function new_spawner(opts) return setmetatable({ _opts = opts }, SpawnerMT) end
local function spawner_opts(sp, who)
  if type(sp) ~= "table" or getmetatable(sp) ~= SpawnerMT then
    error(who .. ": call it with ':' on a spawner (process.with_options{...}:" ..
      string.match(who, "[%w_]+$") .. "(...))", 3)
  end
  return rawget(sp, "_opts")
end

-- A spawner from `base` with a table applied: options (`what` = "options") or context values
-- (`what` = "context", Wippy's `with_context{k = v}`: the spawned workflow and its functions
-- read them with `ctx.get` / `ctx.all`).
local function table_spawner(base, t, what, who, level)
  if type(t) ~= "table" then
    error(who .. ": expected a table of " .. (what == "options" and "options" or
      "context values"), level + 1)
  end
  local text, err = B.encode(t, what)
  if not text then error(who .. ": " .. err, level + 1) end
  local op = what == "options" and ops.with_spawn_options or ops.with_spawn_context
  local id, merr = op(base, text)
  if id == nil then error(who .. ": " .. merr, level + 1) end
  return new_spawner(id)
end

-- process.with_options{...} / spawner:with_options{...}, and the same for with_context.
for what, method in pairs({ options = "with_options", context = "with_context" }) do
  process[method] = function(t)
    local spawner = table_spawner(0, t, what, "process." .. method, 2)
    return spawner
  end
  SpawnerMethods[method] = function(sp, t)
    local who = "spawner:" .. method
    local spawner = table_spawner(spawner_opts(sp, who), t, what, who, 2)
    return spawner
  end
end

function SpawnerMethods.with_name(sp, name)
  local base = spawner_opts(sp, "spawner:with_name")
  check_nonempty(name, "spawner:with_name", "name", "a non-empty string", 2)
  local id, err = ops.with_spawn_name(base, name)
  if id == nil then error("spawner:with_name: " .. err, 2) end
  return new_spawner(id)
end

function SpawnerMethods.with_message(sp, topic, ...)
  local base = spawner_opts(sp, "spawner:with_message")
  check_topic(topic, "spawner:with_message", 2)
  local payload = encode_payload("spawner:with_message", 2, select("#", ...), ...)
  local id, err = ops.with_spawn_message(base, topic, payload)
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

function SpawnerMethods.spawn_linked(sp, entry, h, ...)
  local pid, err = do_spawn_linked(spawner_opts(sp, "spawner:spawn_linked"),
    "spawner:spawn_linked", false, 2, entry, h, ...)
  return pid, err
end

function SpawnerMethods.spawn_linked_monitored(sp, entry, h, ...)
  local pid, err = do_spawn_linked(spawner_opts(sp, "spawner:spawn_linked_monitored"),
    "spawner:spawn_linked_monitored", true, 2, entry, h, ...)
  return pid, err
end

function SpawnerMethods.exec(sp, entry, h, ...)
  local value, err = do_exec(spawner_opts(sp, "spawner:exec"), "spawner:exec", 2, entry, h, ...)
  return value, err
end


-- workflow.exec (lua/workflow.lua) is process.exec without a host.
B.process_exec = do_exec

return process
