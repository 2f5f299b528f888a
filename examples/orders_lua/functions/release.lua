-- app.inventory:release: give a reservation back (the saga's compensation for `reserve`).
local function main(reservation_id)
  return { id = reservation_id, released = true }
end

return main
