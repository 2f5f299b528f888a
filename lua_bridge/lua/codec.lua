-- wflow lua_bridge: the Lua -> JSON encoder, and array/object markers (trusted code).
--
-- Every value that leaves Lua (call arguments, results, json.encode) goes through `encode`,
-- so the rules of SPEC §5 live in one place: sequences become arrays, string-keyed tables
-- objects, integers stay integers, sparse/mixed tables, cycles and invalid UTF-8 are errors
-- that name the path. Object keys are written sorted (bytewise), so output is reproducible.
-- Python -> Lua goes the other way in `lua_bridge/_lua_values.py`.

local B, cfg = ...

local type, error, rawget, rawnext, pcall, select = type, error, rawget, B.rawnext, pcall, select
local setmetatable, getmetatable, tostring, tonumber, ipairs = setmetatable, getmetatable,
  tostring, tonumber, ipairs
local mtype, huge = math.type, math.huge
local sfmt, sbyte, sgsub, smatch = B.raw_format, string.byte, B.raw_gsub, B.raw_match
local tconcat = table.concat
local ulen = utf8.len

---------------------------------------------------------------------------------------------
-- Array / object markers for tables that came from JSON (or json.array / json.object)
---------------------------------------------------------------------------------------------
local ARRAY = B.ARRAY -- lua/sandbox.lua (tables are marked before the encoder loads)

---------------------------------------------------------------------------------------------
-- Encoder
---------------------------------------------------------------------------------------------
local ESCAPES = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n",
  ["\r"] = "\\r", ["\t"] = "\\t" }
local function escape_char(c)
  return ESCAPES[c] or sfmt("\\u%04x", sbyte(c))
end

local function key_path(path, k)
  if type(k) == "string" then
    if smatch(k, "^[%a_][%w_]*$") then return path .. "." .. k end
    return path .. "[" .. sfmt("%q", B.safe_text(k)) .. "]"
  end
  return path .. "[" .. tostring(k) .. "]"
end

local function fail(path, msg)
  error({ encode_error = path .. ": " .. msg }, 0)
end

local function number_text(v, path)
  if mtype(v) == "integer" then return sfmt("%d", v) end
  if v ~= v or v == huge or v == -huge then
    -- Named as Python names them: C libraries print NaN as "nan" or "-nan".
    local shown = v ~= v and "nan" or (v > 0 and "inf" or "-inf")
    fail(path, "number " .. shown .. " cannot be represented in JSON")
  end
  if v == math.floor(v) and v > -1e16 and v < 1e16 then return sfmt("%.1f", v) end
  local s = sfmt("%.17g", v)
  for _, f in ipairs({ "%.15g", "%.16g" }) do
    local shorter = sfmt(f, v)
    if tonumber(shorter) == v then s = shorter; break end
  end
  -- A float stays a float: 3.3e16 prints as "33031486197262132", which reads back as an
  -- integer (found by tests/model/test_value_properties.py).
  if not smatch(s, "[%.eEn]") then s = s .. ".0" end
  return s
end

local function string_text(s, path)
  local ok, bad = ulen(s)
  if not ok then fail(path, "string is not valid UTF-8 (bad byte at position " .. bad .. ")") end
  return '"' .. sgsub(s, '[%c"\\]', escape_char) .. '"'
end

local encode_value

local function encode_table(t, path, out, seen, depth)
  if depth > 200 then fail(path, "nested too deeply (more than 200 levels)") end
  if seen[t] then fail(path, "table contains itself (cycle)") end
  local n_int, max_int, n_str = 0, 0, 0
  local k = rawnext(t)
  while k ~= nil do
    if type(k) == "string" then
      n_str = n_str + 1
    elseif mtype(k) == "integer" and k >= 1 then
      n_int = n_int + 1
      if k > max_int then max_int = k end
    else
      local shown = type(k) == "number" and tostring(k) or type(k)
      fail(path, "table key " .. shown .. " is neither a string nor an array index (1, 2, ...)")
    end
    k = rawnext(t, k)
  end
  if n_int > 0 and n_str > 0 then
    fail(path, "mixed table (has both array items and string keys)")
  end
  seen[t] = true
  if n_str > 0 or (n_int == 0 and not ARRAY[t]) then
    local keys = B.sorted_keys(t, "encode", 1)
    out[#out + 1] = "{"
    for i = 1, #keys do
      local key = keys[i]
      if i > 1 then out[#out + 1] = "," end
      out[#out + 1] = string_text(key, path)
      out[#out + 1] = ":"
      encode_value(rawget(t, key), key_path(path, key), out, seen, depth + 1)
    end
    out[#out + 1] = "}"
  else
    if max_int ~= n_int and not ARRAY[t] then
      fail(path, "sparse array (" .. n_int .. " items but highest index " .. max_int ..
        "); arrays must have keys 1..n")
    end
    if max_int > 2 * n_int + 1000 then
      fail(path, "sparse array (highest index " .. max_int .. " for " .. n_int .. " items)")
    end
    out[#out + 1] = "["
    for i = 1, max_int do
      if i > 1 then out[#out + 1] = "," end
      encode_value(rawget(t, i), path .. "[" .. i .. "]", out, seen, depth + 1)
    end
    out[#out + 1] = "]"
  end
  seen[t] = nil
end

encode_value = function(v, path, out, seen, depth)
  local tv = type(v)
  if v == nil then
    out[#out + 1] = "null"
  elseif tv == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif tv == "number" then
    out[#out + 1] = number_text(v, path)
  elseif tv == "string" then
    out[#out + 1] = string_text(v, path)
  elseif tv == "table" then
    -- Error, time and message objects exist only once their file is loaded (sandbox.lua's
    -- lazy B fields): rawget does not load it just to find that `v` is none of them.
    local mt = getmetatable(v)
    local message_fields = rawget(B, "message_fields")
    if B.is_error_value(v) then
      local kind, message, retryable, details = B.error_fields(v)
      encode_table({ kind = kind, message = message, retryable = retryable, details = details },
        path, out, seen, depth)
    elseif mt ~= nil and mt == rawget(B, "TimeMT") then
      out[#out + 1] = '"' .. B.rfc3339(v._ns, true) .. '"'
    elseif mt ~= nil and mt == rawget(B, "DurationMT") then
      -- A Duration crosses as milliseconds, the number form of durations everywhere else.
      local ns = v._ns
      out[#out + 1] = number_text(ns % 1000000 == 0 and ns // 1000000 or ns / 1000000, path)
    elseif message_fields ~= nil and message_fields(v) ~= nil then
      -- A message crosses as {topic =, from =, payload =}.
      local d = message_fields(v)
      encode_table({ topic = d.topic, from = d.from, payload = d.data }, path, out, seen, depth)
    else
      encode_table(v, path, out, seen, depth)
    end
  else
    fail(path, "a " .. tv .. " cannot be converted to JSON")
  end
end

-- Encode one value; returns the JSON text, or nil and a message naming the path.
local function encode(v, path)
  local out = {}
  local ok, err = pcall(encode_value, v, path or "value", out, {}, 0)
  if not ok then
    if type(err) == "table" and err.encode_error then return nil, err.encode_error end
    error(err, 0)
  end
  return tconcat(out)
end
B.encode = encode

-- Encode `n` values as one JSON array, naming paths `prefix[1]`, `prefix[2]`, ...
local function encode_list(prefix, n, ...)
  local out = { "[" }
  local seen = {}
  for i = 1, n do
    if i > 1 then out[#out + 1] = "," end
    local ok, err = pcall(encode_value, (select(i, ...)), prefix .. "[" .. i .. "]", out, seen, 0)
    if not ok then
      if type(err) == "table" and err.encode_error then return nil, err.encode_error end
      error(err, 0)
    end
  end
  out[#out + 1] = "]"
  return tconcat(out)
end
B.encode_list = encode_list

