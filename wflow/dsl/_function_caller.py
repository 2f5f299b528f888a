"""`wflow.process` in a Python function: the call's blocking process API, on a thread.

A function has no mailbox (no `inbox`, `listen`, `events`), but it may start workflows and
processes, send them messages, wait for them, cancel, terminate and look names up, as a Lua
function can. The call's `FunctionContext.processes` blocks until the server answered; run on
a worker thread, it leaves the event loop free (an `async def` function runs on that loop).
"""

from __future__ import annotations

import asyncio
from typing import Any

from wflow.model import ErrorKind, ProcessClient, SpawnRequest, WflowError

__all__ = ["FunctionCaller"]


class FunctionCaller:
    """The outgoing half of the process API, for code running in a function call.

    Args:
        client: The call's blocking process API.
    """

    def __init__(self, client: ProcessClient) -> None:
        self._client = client

    async def send(self, pid: str, topic: str, payload: Any) -> None:
        """Send a message to a workflow or process."""
        await asyncio.to_thread(self._client.send, pid, topic, payload)

    async def spawn(self, request: SpawnRequest) -> str:
        """Start a workflow or process and return its PID."""
        if request.options.monitored:
            raise WflowError(
                "spawn_monitored needs a mailbox for its EXIT event; a function has none",
                ErrorKind.INVALID,
            )
        pid: str = await asyncio.to_thread(self._client.spawn, request)
        return pid

    async def wait(self, pid: str) -> Any:
        """Wait for a workflow or process and return its result."""
        return await asyncio.to_thread(self._client.result, pid)

    async def cancel(self, pid: str, reason: str | None = None) -> None:
        """Request cancellation of a workflow or process, telling it `reason`."""
        await asyncio.to_thread(self._client.cancel, pid, reason)

    async def terminate(self, pid: str, reason: str | None = None) -> None:
        """End a workflow or process at once."""
        await asyncio.to_thread(self._client.terminate, pid, reason)

    async def register_name(self, name: str, pid: str | None) -> None:
        """Refuse: names are registered by processes."""
        raise WflowError(
            "process.registry.register is only available in processes", ErrorKind.INVALID
        )

    async def lookup_name(self, name: str) -> str | None:
        """Return the PID registered as `name`, or None."""
        lookup = getattr(self._client, "lookup", None)
        if lookup is None:
            raise WflowError("process.registry.lookup is unavailable here", "UNAVAILABLE")
        found: str | None = await asyncio.to_thread(lookup, name)
        return found
