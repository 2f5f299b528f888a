-- wflow lua_bridge: messages (`process.inbox()`) and events (`process.events()`), built by
-- the driver (`B.new_message`, `B.new_event`) when a workflow receives them (trusted code).

local B, cfg = ...

local type, error, rawget, setmetatable, getmetatable, tostring = type, error, rawget,
  setmetatable, getmetatable, tostring

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

-- `{kind = "EXIT" | "CANCEL" | "LINK_DOWN", from = pid, result = {value = v, error = err}}`
-- (result for EXIT and LINK_DOWN, as Wippy's process reference lists; `reason` only for
-- CANCEL, when the canceler gave one).
function B.new_event(kind, from, value, err, reason)
  local e = { kind = kind, from = from }
  if kind == "EXIT" or kind == "LINK_DOWN" then e.result = { value = value, error = err } end
  if kind == "CANCEL" then e.reason = reason end
  return e
end
