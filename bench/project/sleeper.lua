local time = require("time")

-- Waits an hour: a cached, sleeping workflow (memory per workflow).
return function(order)
  time.sleep("1h")
  return order
end
