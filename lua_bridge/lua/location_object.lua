-- wflow lua_bridge: locations (`time.utc`, `time.load_location`, `time.fixed_zone`; trusted
-- code, loaded the first time a run reads one of their B fields, e.g. on `require("time")`).

local B, cfg = ...

local setmetatable = setmetatable

-- Locations: UTC (nil), a fixed offset, or an IANA zone (offsets from the host's zoneinfo).
local LocationMethods = {}
local LocationMT = { __index = LocationMethods, __name = "wflow.location" }
local function new_location(kind, name, offset)
  return setmetatable({ _kind = kind, _name = name, _offset = offset }, LocationMT)
end
local UTC = new_location("utc", "UTC", 0)
B.new_location, B.UTC, B.LocationMT = new_location, UTC, LocationMT
function LocationMethods.string(l) return l._name end
LocationMT.__tostring = function(l) return l._name end
