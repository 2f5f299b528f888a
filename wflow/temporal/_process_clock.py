"""Processes on the time-skipping test server: no time is skipped while a process works.

The time-skipping server jumps to its next timer whenever nothing it knows about is running
(no workflow task, no activity) and a client waits for a result. A process runs on real time
outside the server's view: a workflow waiting for a process's reply has nothing pending, so
the server jumps straight to the workflow's execution timeout (ten years by default) and the
workflow fails with `TIMEOUT`, though the reply was milliseconds away. (This, not the op
activity's own timeout, was the `TIMEOUT (START_TO_CLOSE)` of `wflow run --time-skipping`.)

So, on that server only, a host holds the server's time-skipping lock while any of its
processes has work: from a delivery (message, event, spawn, cancel) until the processes have
settled again (they ran until their next wait and started no operation), and for the whole
of each operation a process starts (a send, a spawn, a function call, a real-time sleep) and
each pending service restart. The lock is a counter on the server, so it adds to the
client's own unlock while it waits for a result; a settled host gives it back, and time
skips as usual (a process waiting in `receive` does not hold time back).

On any other server the guard does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import google.protobuf.empty_pb2
from temporalio.api.testservice.v1 import LockTimeSkippingRequest, UnlockTimeSkippingRequest
from temporalio.client import Client
from temporalio.service import RPCError

__all__ = ["SkipGuard", "detect_time_skipping"]

_log = logging.getLogger("wflow.processes")

_SETTLE_HOPS = 20
"""Event-loop turns without new work after which the processes count as settled.

Processes run on the host's event loop: one woken by a delivery runs at once, on the next
turns, up to its next wait; an operation it starts counts as work from its first step.
"""

_RPC_TIMEOUT = timedelta(seconds=5)


async def detect_time_skipping(client: Client) -> bool:
    """Return whether `client` talks to the time-skipping test server (it has a clock)."""
    try:
        await client.test_service.get_current_time(
            google.protobuf.empty_pb2.Empty(), timeout=_RPC_TIMEOUT
        )
    except RPCError:
        return False
    return True


class SkipGuard:
    """Holds the time-skipping lock while a host's processes work (see the module doc).

    Args:
        client: The time-skipping server's client; None for any other server (no-op).
    """

    def __init__(self, client: Client | None = None) -> None:
        self._client = client
        self._work = 0
        self._seen = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._held = asyncio.Event()
        self._holder: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        """Whether this guard holds time back at all (a time-skipping server)."""
        return self._client is not None

    def kick(self) -> None:
        """Note new work for a process (a delivery): hold time until the processes settle."""
        if self._client is None:
            return
        self._seen += 1
        if self._holder is None:
            self._held.clear()
            self._holder = asyncio.get_running_loop().create_task(self._hold())

    def begin(self) -> None:
        """Note the start of an operation; time is held until the matching `end`."""
        self._work += 1
        self._idle.clear()
        self.kick()

    def end(self) -> None:
        """Note the end of an operation started with `begin`."""
        self._work -= 1
        if self._work <= 0:
            self._work = 0
            self._idle.set()
        self.kick()

    @contextlib.asynccontextmanager
    async def working(self) -> AsyncIterator[None]:
        """Hold time for the block (an operation a process runs)."""
        self.begin()
        try:
            yield
        finally:
            self.end()

    async def held(self) -> None:
        """Wait until the lock is taken (an operation activity returns only then)."""
        if self._holder is not None:
            await asyncio.shield(self._held.wait())

    async def _hold(self) -> None:
        assert self._client is not None
        service = self._client.test_service
        locked = False
        try:
            await service.lock_time_skipping(LockTimeSkippingRequest(), timeout=_RPC_TIMEOUT)
            locked = True
            self._held.set()
            while True:
                await self._idle.wait()
                seen = self._seen
                for _ in range(_SETTLE_HOPS):
                    await asyncio.sleep(0)
                if self._work == 0 and self._seen == seen:
                    break
        except RPCError as exc:  # the server went away (shutdown): nothing left to hold
            _log.debug("time-skipping lock: %s", exc)
        finally:
            # A kick from here on starts a new holder, which locks before this one unlocks.
            self._holder = None
            self._held.set()
            if locked:
                with contextlib.suppress(RPCError, asyncio.CancelledError):
                    await asyncio.shield(
                        service.unlock_time_skipping(
                            UnlockTimeSkippingRequest(), timeout=_RPC_TIMEOUT
                        )
                    )

    async def close(self) -> None:
        """Stop holding time (the host stops)."""
        holder = self._holder
        if holder is not None:
            holder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await holder
