-- wflow lua_bridge: the `uuid` module (mirrors wflow/dsl/uuid.py): v1, v4 and v7 are
-- deterministic in a workflow (random in a function), v3 and v5 are computed; validate,
-- version, variant, parse and format inspect a UUID string (wflow.model's uuid helpers).

local B, cfg = ...

local type = type
local ops, new_error, check_string = B.ops, B.new_error, B.check_string

local uuid = {
  NAMESPACE_DNS = "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
  NAMESPACE_URL = "6ba7b811-9dad-11d1-80b4-00c04fd430c8",
  NAMESPACE_OID = "6ba7b812-9dad-11d1-80b4-00c04fd430c8",
  NAMESPACE_X500 = "6ba7b814-9dad-11d1-80b4-00c04fd430c8",
}

function uuid.v4() return ops.uuid4() end
function uuid.v7() return ops.uuid7() end
-- uuid.v3 and uuid.v5: a name in a namespace, hashed by the host (`op`).
local function name_based(who, op)
  return function(namespace, name)
    check_string(namespace, who, "namespace", 2)
    check_string(name, who, "name", 2)
    local value, err = op(namespace, name)
    if value == nil then return nil, new_error("INVALID", who .. ": " .. err) end
    return value
  end
end

uuid.v5 = name_based("uuid.v5", ops.uuid5)
function uuid.v1() return ops.uuid1() end
uuid.v3 = name_based("uuid.v3", ops.uuid3)

function uuid.validate(input)
  if type(input) ~= "string" then return false end
  return (ops.uuid_inspect(input, "validate"))
end

-- version, variant, parse, format: `value` or `nil, INVALID error`.
local function inspect(who, what, id, extra)
  if type(id) ~= "string" then
    return nil, new_error("INVALID", who .. ": expected a UUID string, got " .. type(id))
  end
  local value, err = ops.uuid_inspect(id, what, extra)
  if value == nil then return nil, new_error("INVALID", who .. ": " .. err) end
  return value
end

function uuid.version(id) return inspect("uuid.version", "version", id) end
function uuid.variant(id) return inspect("uuid.variant", "variant", id) end
function uuid.parse(id) return inspect("uuid.parse", "parse", id) end
function uuid.format(id, form) return inspect("uuid.format", "format", id, form or "standard") end

return uuid
