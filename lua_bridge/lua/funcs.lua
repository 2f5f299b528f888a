-- wflow lua_bridge: the `funcs` module (mirrors wflow/dsl/funcs.py): function calls, which are
-- activities recorded in the workflow's history; futures of started calls; executors with
-- call options (kept on the Python side, named by id). Workflow only for now.

local B, cfg = ...

local type, error, rawget, rawset, select, setmetatable, getmetatable = type, error, rawget,
  rawset, select, setmetatable, getmetatable
local ulen = utf8.len
local ops, only_in_workflows, noted = B.ops, B.only_in_workflows, B.noted

local function check_target(target, who, level)
  if type(target) ~= "string" or target == "" then
    error(who .. ": target must be a function entry ID like \"app.api:charge\", got " ..
      (type(target) == "string" and "an empty string" or type(target)), level + 1)
  end
  if not ulen(target) then error(who .. ": target is not valid UTF-8", level + 1) end
end

local function encode_args(who, n, ...)
  local args, err = B.encode_list("args", n, ...)
  if not args then error(who .. ": " .. err, 3) end
  return args
end

-- Wippy's futures give payloads (`value:data()`); wflow gives the value itself, and a table
-- value also answers `:data()` with itself, so both spellings read the same result.
local ResultMT = { __index = { data = function(v) return v end }, __name = "wflow.result" }
local function as_result(v, ...)
  if type(v) == "table" and getmetatable(v) == nil and not B.is_error_value(v) then
    setmetatable(v, ResultMT)
  end
  return v, ...
end
B.as_result = as_result

local FutureMethods = {}
local FutureMT = { __index = FutureMethods, __name = "wflow.future" }

function FutureMethods.result(f)
  return as_result(noted(rawget(f, "_desc"), nil, nil, ops.call_result(f._id)))
end
-- Wippy's spellings: `:response()` is `:channel()`; `:is_canceled()` after `:cancel()`;
-- `:error()` gives `err, true` once the call failed, `nil, false` otherwise (never waits).
function FutureMethods.is_canceled(f)
  return rawget(f, "_canceled") == true
end
function FutureMethods.error(f)
  if not ops.call_done(f._id) then return nil, false end
  local _, err = FutureMethods.result(f)
  if err ~= nil then return err, true end
  return nil, false
end
function FutureMethods.is_complete(f)
  return ops.call_done(f._id)
end
function FutureMethods.cancel(f)
  ops.cancel_call(f._id)
  rawset(f, "_canceled", true)
  return true
end
function FutureMethods.channel(f)
  local ch = rawget(f, "_channel")
  if not ch then
    B.module("channel")
    ch = B.wrap_channel(ops.call_channel(f._id))
    f._channel = ch
  end
  return ch
end
FutureMethods.response = FutureMethods.channel

local function do_call(opts, who, target, ...)
  only_in_workflows(who, 3)
  check_target(target, who, 3)
  local args = encode_args(who, select("#", ...), ...)
  return noted(who, target, nil, ops.call_function(target, args, opts, B.user_position(nil, 1)))
end

local function do_async(opts, who, target, ...)
  only_in_workflows(who, 3)
  check_target(target, who, 3)
  local args = encode_args(who, select("#", ...), ...)
  local id, err = noted(who, target, nil, ops.start_call(target, args, opts, B.user_position(nil, 1)))
  if id == nil then return nil, err end
  return setmetatable({ _id = id, _desc = B.call_text(who, target) .. ":result" }, FutureMT)
end

local ExecutorMethods = {}
local ExecutorMT = { __index = ExecutorMethods, __name = "wflow.executor", __newindex = function()
  error("funcs executors are immutable; use :with_options{...} / :with_context{...}", 2)
end }
local function new_executor(opts) return setmetatable({ _opts = opts }, ExecutorMT) end

local function option_table(t, who)
  if type(t) ~= "table" then error(who .. ": expected a table", 3) end
  local text, err = B.encode(t, "options")
  if not text then error(who .. ": " .. err, 3) end
  return text
end

function ExecutorMethods.with_options(ex, t)
  local id, err = ops.with_call_options(rawget(ex, "_opts"), option_table(t, "with_options"))
  if id == nil then error("with_options: " .. err, 2) end
  return new_executor(id)
end

function ExecutorMethods.with_context(ex, t)
  local id, err = ops.with_call_context(rawget(ex, "_opts"), option_table(t, "with_context"))
  if id == nil then error("with_context: " .. err, 2) end
  return new_executor(id)
end

function ExecutorMethods.call(ex, target, ...)
  return do_call(rawget(ex, "_opts"), "executor:call", target, ...)
end

function ExecutorMethods.async(ex, target, ...)
  return do_async(rawget(ex, "_opts"), "executor:async", target, ...)
end

local funcs = {}
function funcs.call(target, ...) return do_call(0, "funcs.call", target, ...) end
function funcs.async(target, ...) return do_async(0, "funcs.async", target, ...) end
function funcs.new() return new_executor(0) end

-- Inside a function call: heartbeats (with details a retry reads back) and cancellation.
local function only_in_functions(who)
  if B.WHERE ~= "functions" then error(who .. " is only available in functions", 3) end
end
function funcs.heartbeat(...)
  only_in_functions("funcs.heartbeat")
  local text, err = B.encode_list("details", select("#", ...), ...)
  if not text then error("funcs.heartbeat: " .. err, 2) end
  return ops.heartbeat(text)
end
function funcs.heartbeat_details()
  only_in_functions("funcs.heartbeat_details")
  local ok, v = ops.json_decode(ops.heartbeat_details())
  return ok and v or {}
end
function funcs.is_canceled()
  only_in_functions("funcs.is_canceled")
  return ops.call_canceled()
end

---------------------------------------------------------------------------------------------

return funcs
