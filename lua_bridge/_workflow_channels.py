"""The channels of one workflow run, and the protocol operations on them.

The Lua side names channels by integer id. Channels of `channel.new` carry stashed Lua values
(the stash id travels, the value stays in Lua). The others carry Python values, turned into
Lua values when received: the mailbox's (`Message`, a topic's payloads, `Event`), a started
call's outcome (`future:channel()`) and the time (`time.after`, `time.timer`, fed by
`wflow.model.after_channel`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Any

from lua_bridge._lua_run import LuaRun, unix_ns
from lua_bridge._run_journal import LuaBuild
from wflow.model import (
    Channel,
    Event,
    Message,
    WflowError,
    WorkflowRuntime,
    after_channel,
    select,
    ticker_channel,
)

__all__ = ["Convert", "WorkflowChannels"]

Convert = Callable[[Any], Any]
"""Turns an item of a channel of Python values into a Lua value."""

TaskStarter = Callable[[Coroutine[Any, Any, Any]], "asyncio.Future[Any]"]


class _Timer:
    """A `time.timer`: its channel, and the task that fills it while it is armed."""

    def __init__(self, channel_id: int) -> None:
        self.channel_id = channel_id
        self.task: asyncio.Future[Any] | None = None


class WorkflowChannels:
    """The channels and timers of one workflow run (`_op_<name>` handlers; see `_protocol`).

    Args:
        runtime: The run's runtime (durable timers, the mailbox).
        start_task: Starts a task the run owns (cancelled at its end; a failure fails it).
        new_id: Returns a fresh id (shared with the driver's call handles and timers).
    """

    def __init__(
        self, runtime: WorkflowRuntime, start_task: TaskStarter, new_id: Callable[[], int]
    ) -> None:
        self._runtime = runtime
        self._start_task = start_task
        self._new_id = new_id
        self._channels: dict[int, Channel] = {}
        # Channel id -> how its Python items become Lua values; absent for `channel.new`'s.
        self._converters: dict[int, Convert] = {}
        self._adopted: dict[int, int] = {}
        self._timers: dict[int, _Timer] = {}
        self.run_state: LuaRun | None = None  # set once the run's Lua state exists

    def _lua(self) -> LuaRun:
        if self.run_state is None:
            raise RuntimeError("lua_bridge: the channels have no Lua run yet")
        return self.run_state

    def add(self, channel: Channel, convert: Convert | None = None) -> int:
        """Name `channel` by a new id; `convert` its items when received (None: stash ids)."""
        cid = self._new_id()
        self._channels[cid] = channel
        if convert is not None:
            self._converters[cid] = convert
        return cid

    def _adopt(self, channel: Channel, convert: Convert) -> int:
        """Return the id of a mailbox channel (the same id for the same channel)."""
        cid = self._adopted.get(id(channel))
        if cid is None:
            cid = self.add(channel, convert)
            self._adopted[id(channel)] = cid
        return cid

    def _received(self, cid: int, value: Any, ok: bool) -> Any:
        """Return a received item as Lua sees it: a stash id, built when it crosses."""
        convert = self._converters.get(cid)
        if convert is None or not ok:
            return value
        run_state = self._lua()
        return LuaBuild(lambda: run_state.call_lua(run_state.b.stash, convert(value)))

    # -- converters -------------------------------------------------------------------------

    def _message_to_lua(self, value: Any) -> Any:
        run_state = self._lua()
        if not isinstance(value, Message):
            return run_state.to_lua(value, "payload")
        data = run_state.to_lua(value.payload, "message.payload")
        return run_state.call_lua(
            run_state.bridge_field("new_message"), value.topic, value.sender, data
        )

    def _payload_to_lua(self, value: Any) -> Any:
        return self._lua().to_lua(value, "payload")

    def _event_to_lua(self, value: Any) -> Any:
        run_state = self._lua()
        if not isinstance(value, Event):
            return run_state.to_lua(value, "payload")
        result = run_state.to_lua(value.value, "event.value") if value.error is None else None
        error = run_state.lua_error(value.error) if value.error is not None else None
        return run_state.call_lua(
            run_state.bridge_field("new_event"),
            value.kind,
            value.sender,
            result,
            error,
            value.reason,
        )

    def outcome_to_lua(self, value: Any) -> Any:
        """Convert a call's outcome (`wflow.model.result_channel`'s item): value or error."""
        run_state = self._lua()
        if isinstance(value, WflowError):
            return run_state.lua_error(value)
        # A table result also answers Wippy's `value:data()` (lua/funcs.lua's `as_result`).
        return run_state.call_lua(run_state.b.as_result, run_state.to_lua(value, "result"))

    def _time_to_lua(self, value: datetime) -> Any:
        run_state = self._lua()
        return run_state.call_lua(run_state.bridge_field("new_time"), unix_ns(value))

    def _arm(self, timer: _Timer, ms: float) -> None:
        def start(coro: Coroutine[Any, Any, None]) -> asyncio.Future[Any]:
            timer.task = self._start_task(coro)
            return timer.task

        channel = self._channels[timer.channel_id]
        after_channel(self._runtime, timedelta(milliseconds=ms), channel=channel, start=start)

    # -- requests ---------------------------------------------------------------------------

    async def _op_receive(self, channel_id: int) -> Sequence[Any]:
        cid = int(channel_id)
        value, ok = await self._channels[cid].receive()
        return (self._received(cid, value, ok), ok)

    async def _op_send_channel(self, channel_id: int, stash_id: int) -> Sequence[Any]:
        try:
            await self._channels[int(channel_id)].send(stash_id)
        except WflowError as exc:
            run_state, error = self._lua(), exc

            def unstashed_error() -> Any:
                run_state.call_lua(run_state.b.unstash, stash_id)
                return run_state.lua_error(error)

            return None, LuaBuild(unstashed_error)
        return (True,)

    async def _op_select(self, default: bool, *channel_ids: int) -> Sequence[Any]:
        channels = [self._channels[int(cid)] for cid in channel_ids]
        result = await select(channels, default=bool(default))
        if result.index < 0:
            return (result.index, None, False)
        cid = int(channel_ids[result.index])
        return (result.index, self._received(cid, result.value, result.ok), result.ok)

    # -- host calls -------------------------------------------------------------------------

    def _op_new_channel(self, capacity: int) -> int:
        return self.add(Channel(int(capacity)))

    def _op_close_channel(self, channel_id: int) -> None:
        self._channels[channel_id].close()

    def _op_after_channel(self, ms: float) -> int:
        channel = after_channel(self._runtime, timedelta(milliseconds=ms), start=self._start_task)
        return self.add(channel, self._time_to_lua)

    def _op_new_timer(self, ms: float) -> tuple[int, int]:
        cid = self.add(Channel(1), self._time_to_lua)
        tid = self._new_id()
        timer = self._timers[tid] = _Timer(cid)
        self._arm(timer, ms)
        return tid, cid

    def _op_new_ticker(self, ms: float) -> tuple[int, int]:
        cid = self.add(Channel(1), self._time_to_lua)
        tid = self._new_id()
        timer = self._timers[tid] = _Timer(cid)

        def start(coro: Coroutine[Any, Any, None]) -> asyncio.Future[Any]:
            timer.task = self._start_task(coro)
            return timer.task

        ticker_channel(
            self._runtime, timedelta(milliseconds=ms), channel=self._channels[cid], start=start
        )
        return tid, cid

    def _op_stop_timer(self, timer_id: int) -> bool:
        timer = self._timers[timer_id]
        active = timer.task is not None and not timer.task.done()
        if timer.task is not None:
            timer.task.cancel()
            timer.task = None
        return active

    def _op_reset_timer(self, timer_id: int, ms: float) -> bool:
        was_active = self._op_stop_timer(timer_id)
        self._arm(self._timers[timer_id], ms)
        return was_active

    def _op_inbox_channel(self) -> int:
        return self._adopt(self._runtime.mailbox().inbox(), self._message_to_lua)

    def _op_listen_channel(self, topic: str, message: bool = False) -> tuple[Any, ...]:
        try:
            channel = self._runtime.mailbox().listen(topic, message=bool(message))
        except WflowError as exc:
            return self._lua().failed(exc)
        convert = self._message_to_lua if message else self._payload_to_lua
        return (self._adopt(channel, convert),)

    def _op_unlisten_channel(self, channel_id: int) -> bool:
        channel = self._channels.get(int(channel_id))
        return channel is not None and self._runtime.mailbox().unlisten(channel)

    def _op_events_channel(self) -> int:
        return self._adopt(self._runtime.mailbox().events(), self._event_to_lua)
