-- A small order workflow for the seed's "Workflows starten" snippet (launcher.lua): it waits
-- for the "update" message and returns the order with the status the message carried.
local function main(order_data)
  local update = process.listen("update"):receive()
  return { order_id = order_data and order_data.order_id, status = update.status }
end

return { main = main }
