local funcs = require("funcs")

return function(order)
  local a = funcs.call("bench:step", order)
  local b = funcs.call("bench:step", a)
  local c = funcs.call("bench:step", b)
  return c
end
