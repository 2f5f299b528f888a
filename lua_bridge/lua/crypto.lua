-- wflow lua_bridge: the `crypto` module's random generation (mirrors wflow/dsl/crypto.py).
-- In a workflow the bytes come from the workflow's deterministic randomness, so a replay sees
-- the same values; in a function they are real random bytes.

local B, cfg = ...

local type, mtype = type, math.type
local ops, new_error = B.ops, B.new_error

local MAX = 1048576
local ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

local function check_length(n, who)
  if mtype(n) ~= "integer" or n < 1 or n > MAX then
    return new_error("INVALID", who .. ": length must be a whole number from 1 to " .. MAX)
  end
end

local random = {}

function random.bytes(n)
  local err = check_length(n, "crypto.random.bytes")
  if err then return nil, err end
  return ops.random_bytes(n)
end

function random.string(n, charset)
  local err = check_length(n, "crypto.random.string")
  if err then return nil, err end
  charset = charset or ALNUM
  if type(charset) ~= "string" or charset == "" then
    return nil, new_error("INVALID", "crypto.random.string: charset must be a non-empty string")
  end
  return ops.random_string(n, charset)
end

function random.uuid()
  return ops.uuid4()
end

return { random = random }
