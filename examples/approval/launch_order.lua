-- Runs the launcher function (app.launcher:start_order, a function.lua) as an activity, so
-- `wflow run` can show the seed's spawn + send from a function. Returns the order's PID.
local funcs = require("funcs")

return function(order_data)
  return funcs.call("app.launcher:start_order", order_data)
end
