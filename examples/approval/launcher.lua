local order_data = ...
-- Workflow auf temporal worker starten
local pid = process.spawn("app.workflows:order_processor", "app:temporal_worker", order_data)
-- Signale an Workflow senden
process.send(pid, "update", {status = "approved"})
return pid
