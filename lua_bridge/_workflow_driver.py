"""The workflow driver: resume Lua, await the runtime for each request, resume again.

Workflow code runs in Lua coroutines. An intercepted call that waits yields a request
(`call_function`, `sleep`, `receive`, ...; see `_protocol.OPERATIONS`) to `WorkflowDriver`,
which looks up its handler `_op_<name>`, awaits it, and resumes the coroutine with the result,
or with `nil, err` when the runtime raised `WflowError`. The driver is plain asyncio: inside
Temporal it runs on the workflow's deterministic event loop; it uses no threads and no real
time.

`coroutine.spawn` and the feeders of `time.after`, `time.timer` and `future:channel()`
(`wflow.model.after_channel` / `result_channel`) are extra asyncio tasks the driver owns: all
of them are cancelled when the run ends, and one that fails fails the run.

Exceptions from the runtime: a `WflowError` becomes `nil, err` in Lua; any other exception
(a bug, or a control-flow signal such as the runtime's continue-as-new from `upgrade`)
propagates out of `run` untouched, and Lua code cannot catch it with `pcall`.

Channels: the Lua side names channels by integer id. Channels of `channel.new` carry stashed
Lua values; the others carry Python values (`Message`, payloads, `Event`, a call's outcome,
a time), turned into Lua values when received (`_received`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import lupa.lua54 as lupa54

from lua_bridge._chunks import Chunk
from lua_bridge._limits import LuaLimits
from lua_bridge._lua_errors import LuaResourceError, LuaScriptError
from lua_bridge._lua_run import LuaRun, unix_ns
from lua_bridge._lua_values import error_from_fail
from lua_bridge._protocol import RequestHandler, bind_requests
from wflow.model import (
    CallHandle,
    Channel,
    Event,
    Message,
    WflowError,
    WorkflowRuntime,
    after_channel,
    message_payload,
    result_channel,
    select,
)

__all__ = ["WorkflowDriver"]

_Convert = Callable[[Any], Any]


class _Timer:
    """A `time.timer`: its channel, and the task that fills it while it is armed."""

    def __init__(self, channel_id: int) -> None:
        self.channel_id = channel_id
        self.task: asyncio.Future[Any] | None = None


class WorkflowDriver:
    """Runs one workflow entry against a `WorkflowRuntime`.

    Args:
        runtime: Where every intercepted call goes (recorded, replayed).
        chunks: The entry's chunk and its imported libraries.
        limits: Memory and instruction limits.
    """

    def __init__(
        self, runtime: WorkflowRuntime, chunks: Mapping[str, Chunk], limits: LuaLimits
    ) -> None:
        self._runtime = runtime
        self._handles: dict[int, CallHandle] = {}
        self._outcomes: dict[int, tuple[bool, Any]] = {}
        self._channels: dict[int, Channel] = {}
        # Channel id -> how its Python items become Lua values; absent for channels of
        # stashed Lua values (`channel.new`).
        self._converters: dict[int, _Convert] = {}
        self._adopted: dict[int, int] = {}
        self._timers: dict[int, _Timer] = {}
        self._tasks: set[asyncio.Future[Any]] = set()
        self._failure: BaseException | None = None
        self._root: asyncio.Task[Any] | None = None
        self._next_id = 0
        self._requests: dict[str, RequestHandler] = bind_requests("workflow", self)
        self.run_state = LuaRun(
            side="workflow", clock=runtime, chunks=chunks, limits=limits, handlers=(self,)
        )

    # -- running ------------------------------------------------------------------------

    async def run(self, key: str, method: str, args: Sequence[Any]) -> Any:
        """Run the entry chunk `key` to its end and return its JSON result.

        Raises:
            WflowError: The workflow returned `nil, err`.
            LuaScriptError: Unhandled Lua error (message starts with `file.lua:line:`).
            LuaResourceError: Memory or instruction limit exceeded.
        """
        try:
            tid = self.run_state.start(key, method)
            lua_args = [self._to_lua(arg, f"args[{i}]") for i, arg in enumerate(args, 1)]
            self._root = asyncio.get_running_loop().create_task(self._drive(tid, lua_args))
            try:
                return await self._root
            except asyncio.CancelledError:
                if self._failure is not None:
                    raise self._failure from None
                raise
        finally:
            for task in list(self._tasks):
                if not task.done():
                    task.cancel()
            self._tasks.clear()
            self._root = None
            self.run_state.close()

    async def _drive(self, tid: int, send: Sequence[Any]) -> Any:
        run_state = self.run_state
        while True:
            out = run_state.step(tid, *send)
            tag = out[0]
            if tag == "yield":
                handler = self._requests.get(out[1])
                if handler is None:
                    raise LuaScriptError(
                        f"internal error in the Lua bridge: unknown request {out[1]!r}"
                    )
                send = await handler(*out[2:])
            elif tag == "done":
                return json.loads(out[1])
            elif tag == "fail":
                raise error_from_fail(out[1], out[2], out[3], out[4])
            else:
                raise LuaScriptError(str(out[1]), str(out[2]) if len(out) > 2 else "")

    def _to_lua(self, value: Any, path: str = "value") -> Any:
        try:
            return self.run_state.values.to_lua(value, path)
        except lupa54.LuaMemoryError:
            raise LuaResourceError("memory", self.run_state.limits.max_memory) from None

    def _lua_error(self, error: WflowError) -> Any:
        try:
            return self.run_state.values.error(error)
        except lupa54.LuaMemoryError:
            raise LuaResourceError("memory", self.run_state.limits.max_memory) from None

    def _failed(self, error: WflowError) -> tuple[Any, ...]:
        """Return Lua's `nil, err` for a `WflowError`."""
        return None, self._lua_error(error)

    def _lua_call(self, fn: Any, *args: Any) -> Any:
        return self.run_state.call_lua(fn, *args)

    # -- tasks --------------------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _start_task(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any]:
        """Start a task the run owns: cancelled when the run ends; its failure fails the run."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None and self._failure is None:
            self._failure = exc
            if self._root is not None and not self._root.done():
                self._root.cancel()

    async def _outcome(self, hid: int) -> tuple[bool, Any]:
        if hid not in self._outcomes:
            try:
                value = await self._handles[hid].result()
            except WflowError as exc:
                self._outcomes.setdefault(hid, (False, exc))
            else:
                self._outcomes.setdefault(hid, (True, value))
        return self._outcomes[hid]

    # -- channels -----------------------------------------------------------------------

    def _add_channel(self, channel: Channel, convert: _Convert | None = None) -> int:
        cid = self._new_id()
        self._channels[cid] = channel
        if convert is not None:
            self._converters[cid] = convert
        return cid

    def _adopt(self, channel: Channel, convert: _Convert) -> int:
        """Return the id of a mailbox channel (the same id for the same channel)."""
        cid = self._adopted.get(id(channel))
        if cid is None:
            cid = self._add_channel(channel, convert)
            self._adopted[id(channel)] = cid
        return cid

    def _received(self, cid: int, value: Any, ok: bool) -> Any:
        """Return the stash id of a received item as Lua sees it."""
        convert = self._converters.get(cid)
        if convert is None or not ok:
            return value
        return self._lua_call(self.run_state.b.stash, convert(value))

    def _message_to_lua(self, value: Any) -> Any:
        if not isinstance(value, Message):
            return self._to_lua(value, "payload")
        data = self._to_lua(value.payload, "message.payload")
        return self._lua_call(self.run_state.b.new_message, value.topic, value.sender, data)

    def _payload_to_lua(self, value: Any) -> Any:
        return self._to_lua(value, "payload")

    def _event_to_lua(self, value: Any) -> Any:
        if not isinstance(value, Event):
            return self._to_lua(value, "payload")
        result = self._to_lua(value.value, "event.value") if value.error is None else None
        error = self._lua_error(value.error) if value.error is not None else None
        return self._lua_call(self.run_state.b.new_event, value.kind, value.sender, result, error)

    def _outcome_to_lua(self, value: Any) -> Any:
        if isinstance(value, WflowError):
            return self._lua_error(value)
        return self._to_lua(value, "result")

    def _time_to_lua(self, value: datetime) -> Any:
        return self._lua_call(self.run_state.b.new_time, unix_ns(value))

    def _arm(self, timer: _Timer, ms: float) -> None:
        def start(coro: Coroutine[Any, Any, None]) -> asyncio.Future[Any]:
            timer.task = self._start_task(coro)
            return timer.task

        channel = self._channels[timer.channel_id]
        after_channel(self._runtime, timedelta(milliseconds=ms), channel=channel, start=start)

    # -- requests (yielded by Lua, awaited here; see _protocol.OPERATIONS) ---------------------

    async def _op_call_function(self, target: str, args_json: str, options: int) -> Sequence[Any]:
        try:
            value = await self._runtime.call(
                target, json.loads(args_json), self.run_state.options[options]
            )
        except WflowError as exc:
            return self._failed(exc)
        return (self._to_lua(value, "result"),)

    async def _op_call_result(self, call_id: int) -> Sequence[Any]:
        ok, value = await self._outcome(int(call_id))
        if ok:
            return (self._to_lua(value, "result"),)
        return self._failed(value)

    async def _op_sleep(self, ms: float) -> Sequence[Any]:
        await self._runtime.sleep(timedelta(milliseconds=ms))
        return (True,)

    async def _op_receive(self, channel_id: int) -> Sequence[Any]:
        cid = int(channel_id)
        value, ok = await self._channels[cid].receive()
        return (self._received(cid, value, ok), ok)

    async def _op_send_channel(self, channel_id: int, stash_id: int) -> Sequence[Any]:
        try:
            await self._channels[int(channel_id)].send(stash_id)
        except WflowError as exc:
            self._lua_call(self.run_state.b.unstash, stash_id)
            return self._failed(exc)
        return (True,)

    async def _op_select(self, default: bool, *channel_ids: int) -> Sequence[Any]:
        channels = [self._channels[int(cid)] for cid in channel_ids]
        result = await select(channels, default=bool(default))
        if result.index < 0:
            return (result.index, None, False)
        cid = int(channel_ids[result.index])
        return (result.index, self._received(cid, result.value, result.ok), result.ok)

    async def _op_send_message(
        self, pid: str, topic: str, payload_json: str, as_error: bool
    ) -> Sequence[Any]:
        try:
            payload = message_payload(json.loads(payload_json))
            if as_error and isinstance(payload, dict):
                payload = WflowError.from_dict(payload)
            await self._runtime.send(pid, topic, payload)
        except WflowError as exc:
            return self._failed(exc)
        return (True,)

    async def _op_spawn_child(
        self, entry: str, host: str | None, args_json: str, options: int, monitored: bool
    ) -> Sequence[Any]:
        try:
            pid = await self._runtime.spawn(
                entry,
                host,
                json.loads(args_json),
                self.run_state.spawn_options[int(options)],
                monitored=bool(monitored),
            )
        except WflowError as exc:
            return self._failed(exc)
        return (pid,)

    async def _op_exec_child(
        self, entry: str, host: str | None, args_json: str, options: int
    ) -> Sequence[Any]:
        runtime = self._runtime
        try:
            pid = await runtime.spawn(
                entry, host, json.loads(args_json), self.run_state.spawn_options[int(options)]
            )
            value = await runtime.wait(pid)
        except WflowError as exc:
            return self._failed(exc)
        return (self._to_lua(value, "result"),)

    async def _op_cancel_process(self, pid: str) -> Sequence[Any]:
        try:
            await self._runtime.cancel(pid)
        except WflowError as exc:
            return self._failed(exc)
        return (True,)

    async def _op_terminate_process(self, pid: str, reason: str | None) -> Sequence[Any]:
        try:
            await self._runtime.terminate(pid, reason)
        except WflowError as exc:
            return self._failed(exc)
        return (True,)

    async def _op_continue_as_new(self, args_json: str) -> Sequence[Any]:
        # A WflowError from upgrade propagates like any exception: it is no `nil, err`.
        self._runtime.upgrade(json.loads(args_json))
        raise LuaScriptError("process.upgrade: the runtime did not continue as new")

    # -- host calls (called from Lua, synchronously; see _protocol.OPERATIONS) -----------------

    def _op_start_call(self, target: str, args_json: str, options: int) -> tuple[Any, ...]:
        try:
            handle = self._runtime.start_call(
                target, json.loads(args_json), self.run_state.options[options]
            )
        except WflowError as exc:
            return None, self.run_state.values.error(exc)
        hid = self._new_id()
        self._handles[hid] = handle
        return (hid,)

    def _op_call_done(self, call_id: int) -> bool:
        return call_id in self._outcomes or self._handles[call_id].done()

    def _op_cancel_call(self, call_id: int) -> None:
        self._handles[call_id].cancel()

    def _op_call_channel(self, call_id: int) -> int:
        # Lua's future:channel() stays open after the outcome (`close=False`).
        channel = result_channel(self._handles[call_id], close=False, start=self._start_task)
        return self._add_channel(channel, self._outcome_to_lua)

    def _op_new_channel(self, capacity: int) -> int:
        return self._add_channel(Channel(int(capacity)))

    def _op_close_channel(self, channel_id: int) -> None:
        self._channels[channel_id].close()

    def _op_after_channel(self, ms: float) -> int:
        channel = after_channel(self._runtime, timedelta(milliseconds=ms), start=self._start_task)
        return self._add_channel(channel, self._time_to_lua)

    def _op_new_timer(self, ms: float) -> tuple[int, int]:
        cid = self._add_channel(Channel(1), self._time_to_lua)
        tid = self._new_id()
        timer = self._timers[tid] = _Timer(cid)
        self._arm(timer, ms)
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

    def _op_spawn_coroutine(self, thread_id: int) -> bool:
        self._start_task(self._drive(int(thread_id), ()))
        return True

    def _op_process_pid(self) -> str:
        return self._runtime.pid()

    def _op_entry_id(self) -> str:
        return self._runtime.info().entry_id

    def _op_inbox_channel(self) -> int:
        return self._adopt(self._runtime.mailbox().inbox(), self._message_to_lua)

    def _op_listen_channel(self, topic: str) -> int:
        return self._adopt(self._runtime.mailbox().listen(topic), self._payload_to_lua)

    def _op_events_channel(self) -> int:
        return self._adopt(self._runtime.mailbox().events(), self._event_to_lua)

    def _op_get_version(
        self, change_id: str, min_version: int, max_version: int
    ) -> tuple[Any, ...]:
        try:
            return (self._runtime.version(change_id, int(min_version), int(max_version)),)
        except WflowError as exc:
            return None, self.run_state.values.error(exc)

    def _op_set_state(self, state_json: str) -> tuple[Any, ...]:
        try:
            self._runtime.set_state(json.loads(state_json))
        except WflowError as exc:
            return None, self.run_state.values.error(exc)
        return (True,)

    def _op_set_attrs(self, search_json: str | None, memo_json: str | None) -> tuple[Any, ...]:
        try:
            self._runtime.set_attrs(
                None if search_json is None else json.loads(search_json),
                None if memo_json is None else json.loads(memo_json),
            )
        except WflowError as exc:
            return None, self.run_state.values.error(exc)
        return (True,)
