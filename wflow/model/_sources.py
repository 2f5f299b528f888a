"""Channels fed by the runtime: a call's result, a timer. Shared by Lua and Python."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from wflow.model._channel import Channel
from wflow.model._errors import WflowError
from wflow.model._runtime import CallHandle, WorkflowRuntime

__all__ = ["TaskStarter", "after_channel", "result_channel", "ticker_channel"]

TaskStarter = Callable[[Coroutine[Any, Any, None]], "asyncio.Future[Any]"]
"""Starts the task that feeds a channel (the default keeps it referenced until done).

A caller that owns its tasks (the Lua driver cancels them when a run ends and fails the run
when one fails) passes its own starter.
"""

# Tasks must stay referenced until done, or the loop may drop them.
_pending: set[asyncio.Future[Any]] = set()


def _keep(coro: Coroutine[Any, Any, None]) -> asyncio.Future[Any]:
    task = asyncio.ensure_future(coro)
    _pending.add(task)
    task.add_done_callback(_pending.discard)
    return task


def result_channel(
    handle: CallHandle, *, close: bool = True, start: TaskStarter | None = None
) -> Channel:
    """Return a channel that receives the call's value (or its `WflowError`) once.

    Args:
        handle: The started call.
        close: Close the channel after the value (Python's `future.channel()`); Lua's
            `future:channel()` stays open, so a `channel.select` never sees it ready again.
        start: Starts the feeding task (default: a task kept referenced until done).
    """
    channel = Channel(1)

    async def pump() -> None:
        try:
            value: object = await handle.result()
        except WflowError as exc:
            value = exc
        channel.try_send(value)
        if close:
            channel.close()

    (start or _keep)(pump())
    return channel


def after_channel(
    runtime: WorkflowRuntime,
    duration: timedelta,
    *,
    channel: Channel | None = None,
    start: TaskStarter | None = None,
) -> Channel:
    """Return a channel that receives the workflow time once `duration` has passed.

    Args:
        runtime: Whose durable timer and clock to use.
        duration: How long to wait.
        channel: Fill this channel instead of a new one (a timer that is reset keeps its
            channel).
        start: Starts the timer's task (default: a task kept referenced until done).
    """
    target = Channel(1) if channel is None else channel

    async def fire() -> None:
        await runtime.sleep(duration)
        target.try_send(runtime.now())

    (start or _keep)(fire())
    return target


def ticker_channel(
    runtime: WorkflowRuntime,
    interval: timedelta,
    *,
    channel: Channel | None = None,
    start: TaskStarter | None = None,
) -> Channel:
    """Return a channel that receives the workflow time every `interval` (Wippy's ticker).

    Each tick is a durable timer started once the previous tick was received, so a slow
    reader delays the next tick instead of losing it (replays see the same ticks). The ticker
    runs until its task is cancelled (`ticker:stop()`).

    Args:
        runtime: Whose durable timers and clock to use.
        interval: Time between ticks.
        channel: Fill this channel instead of a new one.
        start: Starts the ticker's task (default: a task kept referenced until done).
    """
    target = Channel(1) if channel is None else channel

    async def tick() -> None:
        while True:
            await runtime.sleep(interval)
            await target.send(runtime.now())

    (start or _keep)(tick())
    return target
