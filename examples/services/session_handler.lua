-- A session manager process: sessions in memory; "crash" fails it (its service restarts it).
local function main()
  local sessions, count = {}, 0
  local inbox = process.inbox()
  while true do
    local msg = inbox:receive()
    local topic, body = msg:topic(), msg:payload():data()
    if topic == "open" then
      count = count + 1
      local id = "s" .. count
      sessions[id] = body.user
      process.send(msg:from(), "opened", { id = id, user = body.user })
    elseif topic == "get" then
      process.send(msg:from(), "session", { id = body.id, user = sessions[body.id] })
    elseif topic == "crash" then
      error("session handler crashed on purpose")
    elseif topic == "stop" then
      return { sessions = count }
    end
  end
end
return { main = main }
