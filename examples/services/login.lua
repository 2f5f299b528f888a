-- A workflow that opens a session with the session manager service, found by name.
-- With crash = true it makes the service crash first, then finds its restarted instance.
local time = require("time")

local function manager()
  for _ = 1, 50 do
    local pid = process.registry.lookup("app:session_manager")
    if pid then return pid end
    time.sleep("100ms")   -- the service is restarting
  end
  return nil, errors.new{ kind = errors.UNAVAILABLE, message = "no session manager" }
end

local function main(user, crash)
  local pid, err = manager()
  if not pid then return nil, err end
  if crash then
    process.send(pid, "crash")
    local again
    repeat
      time.sleep("100ms")
      again = process.registry.lookup("app:session_manager")
    until again and again ~= pid
    pid = again
  end
  local replies = process.listen("opened")   -- before sending: the reply may come at once
  process.send(pid, "open", { user = user })
  local opened = replies:receive()
  return { manager = pid, session = opened.id, user = opened.user }
end
return { main = main }
