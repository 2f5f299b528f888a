"""Channels fed by the runtime: a call's result, a timer. Shared by Lua and Python."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from wflow.model._channel import Channel
from wflow.model._errors import WflowError
from wflow.model._runtime import CallHandle, WorkflowRuntime

__all__ = ["after_channel", "result_channel"]

# Tasks must stay referenced until done, or the loop may drop them.
_pending: set[asyncio.Future[None]] = set()


def _keep(task: asyncio.Future[None]) -> None:
    _pending.add(task)
    task.add_done_callback(_pending.discard)


def result_channel(handle: CallHandle) -> Channel:
    """Return a channel that receives the call's value (or its `WflowError`) once, then closes."""
    channel = Channel(1)

    async def pump() -> None:
        try:
            value: object = await handle.result()
        except WflowError as exc:
            value = exc
        channel.try_send(value)
        channel.close()

    _keep(asyncio.ensure_future(pump()))
    return channel


def after_channel(runtime: WorkflowRuntime, duration: timedelta) -> Channel:
    """Return a channel that receives the workflow time once `duration` has passed."""
    channel = Channel(1)

    async def fire() -> None:
        await runtime.sleep(duration)
        channel.try_send(runtime.now())

    _keep(asyncio.ensure_future(fire()))
    return channel
