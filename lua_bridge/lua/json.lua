-- wflow lua_bridge: the `json` module: encode/decode with the bridge's JSON rules (SPEC §5),
-- and json.array / json.object to mark how an empty table goes out.

local B, cfg = ...

local type, error = type, error
local ulen = utf8.len
local new_error, ops = B.new_error, B.ops

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
  local ok, value = ops.json_decode(s)
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

return json
