-- wflow lua_bridge: the `uuid` module (mirrors wflow/dsl/uuid.py): v4 and v7 are recorded in
-- a workflow (random in a function), v5 is computed.

local B, cfg = ...

local ops, new_error, check_string = B.ops, B.new_error, B.check_string

local uuid = {
  NAMESPACE_DNS = "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
  NAMESPACE_URL = "6ba7b811-9dad-11d1-80b4-00c04fd430c8",
  NAMESPACE_OID = "6ba7b812-9dad-11d1-80b4-00c04fd430c8",
  NAMESPACE_X500 = "6ba7b814-9dad-11d1-80b4-00c04fd430c8",
}

function uuid.v4() return ops.uuid4() end
function uuid.v7() return ops.uuid7() end
function uuid.v5(namespace, name)
  check_string(namespace, "uuid.v5", "namespace", 2)
  check_string(name, "uuid.v5", "name", 2)
  local value, err = ops.uuid5(namespace, name)
  if value == nil then return nil, new_error("INVALID", "uuid.v5: " .. err) end
  return value
end

return uuid
