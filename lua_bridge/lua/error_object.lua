-- wflow lua_bridge: error objects (`err:kind()`, `:message()`, ...), built by Lua code and by
-- Python (`B.new_error`) for `nil, err` results (trusted code, loaded with every run).

local B, cfg = ...

local type, rawget, setmetatable, getmetatable, tostring = type, rawget, setmetatable,
  getmetatable, tostring
local supper = string.upper

local KINDS = {}
for _, k in ipairs(cfg.kinds) do KINDS[k] = true end
local NOT_RETRYABLE = {}
for _, k in ipairs(cfg.not_retryable) do NOT_RETRYABLE[k] = true end

local ErrMethods = {}
local ErrMT = { __index = ErrMethods, __name = "wflow.error" }
ErrMT.__tostring = function(e) return rawget(e, "_kind") .. ": " .. rawget(e, "_message") end
function ErrMethods.kind(e) return rawget(e, "_kind") end
function ErrMethods.message(e) return rawget(e, "_message") end
function ErrMethods.retryable(e) return rawget(e, "_retryable") end
function ErrMethods.details(e) return rawget(e, "_details") end
function ErrMethods.error(e) return ErrMT.__tostring(e) end

local function is_error(v)
  return type(v) == "table" and getmetatable(v) == ErrMT
end

local function parse_kind(kind)
  if type(kind) ~= "string" then return "UNKNOWN" end
  local upper = supper(kind)
  return KINDS[upper] and upper or "UNKNOWN"
end

local function new_error(kind, message, retryable, details)
  kind = parse_kind(kind)
  if retryable == nil then retryable = not NOT_RETRYABLE[kind] end
  return setmetatable({
    _kind = kind,
    _message = tostring(message),
    _retryable = retryable and true or false,
    _details = details,
  }, ErrMT)
end

B.ErrMT = ErrMT
B.is_error = is_error
B.new_error = new_error
B.parse_kind = parse_kind
