local funcs = require("funcs")

-- `n` calls in a row (replay scaling).
return function(order, n)
  for _ = 1, n do
    order = funcs.call("bench:step", order)
  end
  return order
end
