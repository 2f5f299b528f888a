local funcs = require("funcs")

return function(order)
  return funcs.call("bench:step", order)
end
