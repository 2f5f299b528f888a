-- app.api:check_status: how did the charge settle? Charges of cards ending in 0002 bounce
-- after settlement (charge_card puts the card's last four digits at the end of the ID).
local errors = require("errors")

local function main(charge_id)
  if type(charge_id) ~= "string" or not charge_id:match("^ch_") then
    return nil, errors.new("not a charge ID: " .. tostring(charge_id), errors.INVALID)
  end
  if charge_id:sub(-4) == "0002" then
    return "failed"
  end
  return "settled"
end

return { main = main }
