-- wflow lua_bridge: the `workflow` module (workflow only; mirrors wflow/dsl/workflow.py):
-- info, versions (patching), search attributes and memo, queryable state, child workflows.

local B, cfg = ...

local type, error, tostring = type, error, tostring
local ops, check_nonempty = B.ops, B.check_nonempty

local workflow = {}

function workflow.info() return ops.workflow_info() end

function workflow.version(change_id, min_version, max_version)
  check_nonempty(change_id, "workflow.version", "change_id", "a non-empty string", 2)
  if math.type(min_version) ~= "integer" or math.type(max_version) ~= "integer" then
    error("workflow.version: min and max must be whole numbers", 2)
  end
  if min_version > max_version then
    error("workflow.version: min (" .. min_version .. ") is greater than max (" ..
      max_version .. ")", 2)
  end
  local v, err = ops.get_version(change_id, min_version, max_version)
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
  local ok, err = ops.set_attrs(parts.search, parts.memo)
  return ok, err
end

function workflow.set_state(v)
  local text, err = B.encode(v, "state")
  if not text then error("workflow.set_state: " .. err, 2) end
  local ok, serr = ops.set_state(text)
  return ok, serr
end

function workflow.exec(entry, ...)
  B.module("process")
  local value, err = B.process_exec(0, "workflow.exec", 2, entry, nil, ...)
  return value, err
end

function workflow.history_length()
  return ops.workflow_info().history_length
end

function workflow.history_size()
  return ops.workflow_info().history_size
end

return workflow
