-- wflow lua_bridge: pattern matching within the instruction budget (trusted code, loaded the
-- first time user code calls string.find, match, gmatch or gsub: `B.check_pattern`).
--
-- lstrlib's matcher runs inside one C call: the count hook never fires in it, and it
-- backtracks (`string.rep("a", 520):find(".-.-.-b")` takes minutes, a longer subject days).
-- Lua gives no hook into it, so each find/match/gmatch/gsub first bounds the matcher's work
-- on this subject and refuses the call, before any matching, when the bound exceeds
-- PATTERN_STEPS_PER_INSTRUCTION x this run's instruction budget. The bound (`match_bound`):
--   starts x paths x per_path, where
--   starts   = 1 when anchored (`^`), else the places where the pattern's fixed prefix occurs
--              (every position, n + 1, when it starts with a quantified item);
--   paths    = the product, over the items that backtrack (`*`, `+`, `-`), of (longest run of
--              subject bytes the item's class matches + 1), and 2 per `?` item whose class
--              occurs; also at most C(n + k + 1, k + 1) for k such items, since together they
--              consume at most n bytes;
--   per_path = the pattern's length, plus n per `%b` and back-reference (each scans).
-- Calls on short subjects skip the refinement (the crude bound with every run = n is small).

local B, cfg = ...

local type, error, ipairs = type, error, ipairs
-- The real find (this file runs in the modules' environment: lua/sandbox.lua, B.module).
local sbyte, ssub, real_find = string.byte, string.sub, string.find
local sfmt, tconcat = B.raw_format, table.concat
local user_where = B.user_where
local budget_max = cfg.max_instructions or 0
local PATTERN_STEPS_PER_INSTRUCTION = cfg.pattern_steps_per_instruction or 4

local pattern_info = {} -- pattern -> parsed info (reset when it grows past 256 patterns)
local pattern_count = 0

-- Where the set `[...]` whose contents start at `k` ends (the index of its "]"), or nil when
-- it is not closed; a leading "^" and "%x" escapes are part of the set.
local function set_end(p, k, n)
  if sbyte(p, k) == 94 then k = k + 1 end
  repeat
    if k > n then return nil end
    local ch = sbyte(p, k)
    k = k + 1
    if ch == 37 and k <= n then k = k + 1 end
  until sbyte(p, k) == 93
  return k
end

-- The items of pattern `p` that matter for the bound, or nil when it is malformed (then the
-- real function raises its usual error, at once).
local function parse_pattern(p)
  local info = { branches = {}, optional = {}, scans = 0, plen = #p, prefix = {} }
  local i, n = 1, #p
  if sbyte(p, 1) == 94 then info.anchored = true; i = 2 end -- "^"
  local fixed = true -- still in the prefix of plain single-class items
  while i <= n do
    local c = sbyte(p, i)
    if c == 40 or c == 41 then -- "(" or ")": captures cost nothing
      fixed = false
      i = i + 1
    elseif c == 36 and i == n then -- "$" at the end
      i = i + 1
    elseif c == 37 and (sbyte(p, i + 1) == 98 or (sbyte(p, i + 1) or 0) >= 48 and (sbyte(p, i + 1) or 0) <= 57) then
      -- "%b()" scans to the balancing byte, "%1" compares a capture: up to n bytes each
      info.scans = info.scans + 1
      fixed = false
      i = i + (sbyte(p, i + 1) == 98 and 4 or 2)
    elseif c == 37 and sbyte(p, i + 1) == 102 then -- "%f[set]": one byte pair, no backtracking
      fixed = false
      if sbyte(p, i + 2) ~= 91 then return nil end
      local k = set_end(p, i + 3, n)
      if k == nil then return nil end
      i = k + 1
    else
      -- one single-byte class: ".", "%x", "[set]" or a literal byte
      local last = i
      if c == 37 then
        if i == n then return nil end
        last = i + 1
      elseif c == 91 then
        last = set_end(p, i + 1, n)
        if last == nil then return nil end
      end
      local class = ssub(p, i, last)
      local q = sbyte(p, last + 1)
      if q == 42 or q == 43 or q == 45 then -- "*", "+", "-"
        info.branches[#info.branches + 1] = class
        fixed = false
        i = last + 2
      elseif q == 63 then -- "?"
        info.optional[#info.optional + 1] = class
        fixed = false
        i = last + 2
      else
        if fixed then info.prefix[#info.prefix + 1] = class end
        i = last + 1
      end
    end
  end
  info.prefix = tconcat(info.prefix)
  return info
end

-- Bytes of the longest run of `s` that `class` matches (each run is found once: O(#s)).
local function longest_run(s, class)
  if class == "." then return #s end
  local best, pos, plus = 0, 1, class .. "+"
  while true do
    local a, b = real_find(s, plus, pos)
    if not a then return best end
    if b - a + 1 > best then best = b - a + 1 end
    pos = b + 1
  end
end

-- How many places `prefix` (plain single-class items) matches in `s`, overlapping ones too.
local function count_starts(s, prefix)
  local count, pos = 0, 1
  while true do
    local a = real_find(s, prefix, pos)
    if not a then return count end
    count = count + 1
    pos = a + 1
  end
end

-- An upper bound of the matcher's steps for pattern `info` on subject `s` (see above);
-- `refine` reads the subject (runs, prefix places) for a tighter bound.
local function match_bound(s, info, anchored, refine)
  local n = #s
  local k = #info.branches
  local per_path = info.plen + info.scans * (n + 1)
  local starts = anchored and 1 or n + 1
  if refine and not anchored and info.prefix ~= "" then starts = count_starts(s, info.prefix) end
  -- k items consuming at most n bytes in all, from each start: C(n + k + 1, k + 1) in all
  local combos = 1.0
  for j = 1, k + (anchored and 0 or 1) do combos = combos * (n + j) / j end
  local product = starts
  local runs = {}
  for _, class in ipairs(info.branches) do
    local r = n
    if refine then
      r = runs[class] or longest_run(s, class)
      runs[class] = r
    end
    product = product * (r + 1)
  end
  local paths = product < combos and product or combos
  for _, class in ipairs(info.optional) do
    if not refine or (runs[class] or longest_run(s, class)) > 0 then paths = paths * 2 end
  end
  return paths * per_path
end

local function refuse_pattern(who, p, n, bound)
  local shown = #p > 40 and sfmt("%q...", ssub(p, 1, 40)) or sfmt("%q", p)
  error(user_where() .. sfmt("string.%s: pattern %s could take up to %.3g matching steps on a subject of %d " ..
    "bytes, more than this run's budget allows (%d instructions x %d); use fewer '*', '+', " ..
    "'-' and '?' items, anchor the pattern (^) or start it with literal text, match a " ..
    "shorter subject, or find literal text with plain = true",
    who, shown, bound, n, budget_max, PATTERN_STEPS_PER_INSTRUCTION), 0)
end

-- Refuse (at the caller's line) a match of `p` on `s` that could outlive the budget.
local function check_pattern(who, s, p, plain, is_gmatch)
  if type(s) ~= "string" or type(p) ~= "string" then return end -- the real function checks
  local limit = budget_max * PATTERN_STEPS_PER_INSTRUCTION
  local n = #s
  if plain then
    -- memchr + memcmp at each place: at most (n + 1) x #p
    local bound = (n + 1.0) * #p
    if bound > limit then refuse_pattern(who, p, n, bound) end
    return
  end
  local info = pattern_info[p]
  if info == nil then
    info = parse_pattern(p) or false
    if pattern_count >= 256 then pattern_info, pattern_count = {}, 0 end
    pattern_info[p] = info
    pattern_count = pattern_count + 1
  end
  if not info then return end
  -- gmatch has no anchor: its "^" is a literal byte (and each position is a start)
  local anchored = info.anchored and not is_gmatch
  if match_bound(s, info, anchored, false) <= limit then return end
  local bound = match_bound(s, info, anchored, true)
  if bound > limit then refuse_pattern(who, p, n, bound) end
end

B.check_pattern = check_pattern
