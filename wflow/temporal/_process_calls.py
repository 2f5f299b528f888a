"""The process operations of a workflow whose target is a process (on a `process.host`).

Each is one `OP_ACTIVITY` on the target host's task queue, so it is an event in the workflow's
history: a replay reads the outcome from there and does not send, spawn or cancel again.
"""

from __future__ import annotations

from typing import Any

from wflow.model import SpawnRequest
from wflow.registry import Registry
from wflow.temporal._process_host import host_queue, pid_queue
from wflow.temporal._process_router import plan_process_spawn
from wflow.temporal._process_transport import workflow_op

__all__ = ["cancel_process", "lookup_name", "send_to_process", "spawn_process", "terminate_process"]


async def send_to_process(
    registry: Registry, pid: str, topic: str, payload: Any, sender: str
) -> None:
    """Deliver a message to process `pid` (at most once)."""
    params = {"pid": pid, "topic": topic, "payload": payload, "sender": sender}
    await workflow_op(pid_queue(registry, pid), "send", params)


async def spawn_process(
    registry: Registry, request: SpawnRequest, namespace: str, spawner: str
) -> str:
    """Start process `request.entry` on its host; a monitored spawn gives the workflow `EXIT`."""
    monitor = spawner if request.options.monitored else None
    plan = plan_process_spawn(registry, request, namespace, monitor)
    pid: str = await workflow_op(plan.queue, "spawn", plan.params)
    return pid


async def cancel_process(
    registry: Registry, pid: str, sender: str, reason: str | None = None
) -> None:
    """Post `CANCEL` to process `pid` (terminated if it has not ended after the grace)."""
    params = {"pid": pid, "sender": sender, "reason": reason}
    await workflow_op(pid_queue(registry, pid), "cancel", params)


async def terminate_process(registry: Registry, pid: str, reason: str | None) -> None:
    """End process `pid` at once."""
    await workflow_op(pid_queue(registry, pid), "terminate", {"pid": pid, "reason": reason})


async def lookup_name(registry: Registry, name: str) -> str | None:
    """Return the PID registered as `name` on the project's process hosts, or None."""
    for entry in registry.of_kind("process.host"):
        params = {"host": entry.id, "name": name}
        found = await workflow_op(host_queue(registry, entry.id), "lookup", params)
        if found is not None:
            return str(found)
    return None
