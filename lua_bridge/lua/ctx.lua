-- wflow lua_bridge: the `ctx` module (also a global; mirrors wflow/dsl/ctx.py): the context
-- values of this run. In a workflow: what its starter attached (`process.with_context`); in
-- a function: the calling workflow's context and the call's `funcs.new():with_context{...}`.

local B, cfg = ...

local type = type
local ops, new_error = B.ops, B.new_error

local ctx = {}

-- The values, decoded once per run (they never change while it runs).
local cache
local function values()
  if cache == nil then
    local ok, v = ops.json_decode(ops.context_json())
    cache = ok and v or {}
  end
  return cache
end

function ctx.get(key)
  if type(key) ~= "string" or key == "" then
    return nil, new_error("INVALID", "ctx.get: key must be a non-empty string")
  end
  local v = values()[key]
  if v == nil then return nil, new_error("NOT_FOUND", "ctx.get: no context value '" .. key .. "'") end
  return v
end

function ctx.all()
  local out = {}
  for k, v in B.rawnext, values() do out[k] = v end
  return out
end

return ctx
