-- wflow lua_bridge: the `errors` module (also a global): kind constants, errors.new,
-- errors.wrap, errors.is (mirrors wflow/dsl/errors.py). Error objects: lua/error_object.lua.

local B, cfg = ...

local type, error, rawget, tostring, ipairs = type, error, rawget, tostring, ipairs
local new_error, is_error, parse_kind = B.new_error, B.is_error, B.parse_kind

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
    local kind, text, retryable, details = B.error_fields(err)
    return new_error(kind, message .. ": " .. text, retryable, details)
  end
  return new_error("UNKNOWN", message .. ": " .. B.error_text(err), nil, nil)
end

function errors.is(err, kind)
  return is_error(err) and (B.error_fields(err)) == parse_kind(kind)
end

-- `{thread =, frames = {{source =, line =, name =}, ...}}` of where `err` was made, or nil.
function errors.call_stack(err)
  if not is_error(err) then return nil end
  local frames = {}
  for i, f in ipairs(B.error_frames(err) or {}) do
    frames[i] = { source = f.source, line = f.line, name = f.name }
  end
  return { thread = "main", frames = frames }
end

function errors.is_error(v)
  return is_error(v)
end

return errors
