-- wflow lua_bridge: the `channel` module (workflow only; also a global) and channel objects
-- (mirrors wflow/dsl/channel.py). The Python driver holds the channels; Lua names them by id,
-- and values cross by stash id (lua/protocol.lua).

local B, cfg = ...

local type, error, rawget, setmetatable, getmetatable, ipairs = type, error, rawget,
  setmetatable, getmetatable, ipairs
local tunpack = table.unpack
local ops, only_in_workflows = B.ops, B.only_in_workflows

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

-- For lua/time.lua, lua/funcs.lua and lua/process.lua.
B.wrap_channel = wrap_channel
B.adopt_channel = adopt_channel

local channel = {}

function channel.new(capacity)
  only_in_workflows("channel.new", 2)
  if capacity == nil then capacity = 0 end
  if math.type(capacity) ~= "integer" or capacity < 0 then
    error("channel.new: capacity must be a whole number >= 0", 2)
  end
  return wrap_channel(ops.new_channel(capacity))
end

function ChanMethods.send(ch, v)
  if not is_channel(ch) then error("channel:send: use ch:send(value)", 2) end
  if rawget(ch, "_ro") then
    error("channel:send: " .. ch._ro .. " is receive-only; use process.send(pid, topic, payload)", 2)
  end
  return ops.send_channel(ch._id, B.stash(v))
end

function ChanMethods.receive(ch)
  if not is_channel(ch) then error("channel:receive: use ch:receive()", 2) end
  local sid, ok = ops.receive(ch._id)
  return B.unstash(sid), ok
end

function ChanMethods.close(ch)
  if not is_channel(ch) then error("channel:close: use ch:close()", 2) end
  if rawget(ch, "_ro") then error("channel:close: " .. ch._ro .. " cannot be closed", 2) end
  ops.close_channel(ch._id)
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
  local index, sid, ok = ops.select(default, tunpack(ids))
  if index < 0 then return { default = true, ok = false } end
  local case = cases[index + 1]
  return { channel = case.channel, value = B.unstash(sid), ok = ok }
end

return channel
