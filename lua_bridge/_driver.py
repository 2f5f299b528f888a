"""The coroutine drivers: resume Lua, await the runtime for each request, resume again.

Workflow code runs in Lua coroutines. An intercepted call that waits yields a request
(`"call"`, `"sleep"`, `"recv"`, ...) to `WorkflowDriver`, which awaits the matching
`WorkflowRuntime` method and resumes the coroutine with the result, or with `nil, err` when
the runtime raised `WflowError`. The driver is plain asyncio: inside Temporal it runs on the
workflow's deterministic event loop; it uses no threads and no real time.

`coroutine.spawn` and the helpers behind `time.after`, `time.timer` and `future:channel()` are
extra asyncio tasks; all of them are cancelled when the run ends.

Exceptions from the runtime: a `WflowError` becomes `nil, err` in Lua; any other exception
(a bug, or a control-flow signal such as the runtime's continue-as-new from `upgrade`)
propagates out of `run` untouched, and Lua code cannot catch it with `pcall`.

Channels: the Lua side names channels by integer id. Channels the bridge creates
(`channel.new`, `time.after`, `future:channel()`) carry stashed Lua values; the mailbox's
channels (inbox, listen, events) carry Python values (`Message`, payloads, `Event`), turned
into Lua values when received.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine, Mapping, Sequence
from datetime import timedelta
from typing import Any

import lupa.lua54 as lupa54

from lua_bridge._entries import Chunk
from lua_bridge._errors import LuaResourceError, LuaScriptError
from lua_bridge._limits import LuaLimits
from lua_bridge._session import LocalClock, LuaSession, payload_of
from lua_bridge._values import error_from_fail
from wflow.model import (
    CallHandle,
    Channel,
    ErrorKind,
    Event,
    FunctionContext,
    Message,
    ProcessClient,
    WflowError,
    WorkflowRuntime,
    select,
)

__all__ = ["WorkflowDriver", "run_function"]

_PROCESS_OPS = frozenset({"psend", "pspawn", "pexec", "pcancel", "pterminate", "pupgrade"})


class _Timer:
    def __init__(self, channel_id: int) -> None:
        self.channel_id = channel_id
        self.task: asyncio.Task[None] | None = None


class WorkflowDriver:
    """Runs one workflow entry against a `WorkflowRuntime`."""

    def __init__(
        self, runtime: WorkflowRuntime, chunks: Mapping[str, Chunk], limits: LuaLimits
    ) -> None:
        self._runtime = runtime
        self._handles: dict[int, CallHandle] = {}
        self._outcomes: dict[int, tuple[bool, Any]] = {}
        self._channels: dict[int, Channel] = {}
        # Channel id -> what its items are: "inbox" (Message), "listen" (payload), "events"
        # (Event); absent for channels of stashed Lua values.
        self._kinds: dict[int, str] = {}
        self._adopted: dict[int, int] = {}
        self._timers: dict[int, _Timer] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._failure: BaseException | None = None
        self._root: asyncio.Task[Any] | None = None
        self._next_id = 0
        self.session = LuaSession(
            where="workflows",
            clock=runtime,
            chunks=chunks,
            limits=limits,
            extra_host={
                "start_call": self._start_call,
                "call_done": self._call_done,
                "call_cancel": self._call_cancel,
                "call_channel": self._call_channel,
                "channel_new": self._channel_new,
                "channel_close": self._channel_close,
                "after": self._after,
                "timer_new": self._timer_new,
                "timer_stop": self._timer_stop,
                "timer_reset": self._timer_reset,
                "spawn": self._spawn,
                "p_pid": runtime.pid,
                "p_id": lambda: runtime.info().entry_id,
                "p_inbox": lambda: self._adopt(runtime.mailbox().inbox(), "inbox"),
                "p_listen": lambda topic: self._adopt(runtime.mailbox().listen(topic), "listen"),
                "p_events": lambda: self._adopt(runtime.mailbox().events(), "events"),
                "p_version": self._version,
                "p_set_state": self._set_state,
                "p_set_attrs": self._set_attrs,
            },
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
            tid = self.session.start(key, method)
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
            self.session.close()

    async def _drive(self, tid: int, send: Sequence[Any]) -> Any:
        session = self.session
        while True:
            out = session.step(tid, *send)
            tag = out[0]
            if tag == "yield":
                send = await self._dispatch(out[1], out[2:])
            elif tag == "done":
                return json.loads(out[1])
            elif tag == "fail":
                raise error_from_fail(out[1], out[2], out[3], out[4])
            else:
                raise LuaScriptError(str(out[1]), str(out[2]) if len(out) > 2 else "")

    def _to_lua(self, value: Any, path: str = "value") -> Any:
        try:
            return self.session.values.to_lua(value, path)
        except lupa54.LuaMemoryError:
            raise LuaResourceError("memory", self.session.limits.max_memory) from None

    def _lua_error(self, error: WflowError) -> Any:
        try:
            return self.session.values.error(error)
        except lupa54.LuaMemoryError:
            raise LuaResourceError("memory", self.session.limits.max_memory) from None

    async def _dispatch(self, op: str, args: Sequence[Any]) -> Sequence[Any]:
        if op == "call":
            target, args_json, options = args
            try:
                value = await self._runtime.call(
                    target, json.loads(args_json), self.session.options[options]
                )
            except WflowError as exc:
                return (None, self._lua_error(exc))
            return (self._to_lua(value, "result"),)
        if op == "result":
            ok, value = await self._outcome(int(args[0]))
            if ok:
                return (self._to_lua(value, "result"),)
            return (None, self._lua_error(value))
        if op == "sleep":
            await self._runtime.sleep(timedelta(milliseconds=args[0]))
            return (True,)
        if op == "recv":
            cid = int(args[0])
            value, ok = await self._channels[cid].receive()
            return (self._received(cid, value, ok), ok)
        if op == "send":
            try:
                await self._channels[int(args[0])].send(args[1])
            except WflowError as exc:
                self.session.call_lua(self.session.b.unstash, args[1])
                return (None, self._lua_error(exc))
            return (True,)
        if op == "select":
            default = bool(args[0])
            channels = [self._channels[int(cid)] for cid in args[1:]]
            result = await select(channels, default=default)
            if result.index < 0:
                return (result.index, None, False)
            cid = int(args[1 + result.index])
            return (result.index, self._received(cid, result.value, result.ok), result.ok)
        if op in _PROCESS_OPS:
            return await self._process(op, args)
        raise LuaScriptError(f"internal error in the Lua bridge: unknown request {op!r}")

    async def _process(self, op: str, args: Sequence[Any]) -> Sequence[Any]:
        runtime = self._runtime
        if op == "pupgrade":
            runtime.upgrade(json.loads(args[0]))
            raise LuaScriptError("process.upgrade: the runtime did not continue as new")
        try:
            if op == "psend":
                pid, topic, payload_json, as_error = args
                payload = payload_of(json.loads(payload_json))
                if as_error and isinstance(payload, dict):
                    payload = WflowError.from_dict(payload)
                await runtime.send(pid, topic, payload)
                return (True,)
            if op == "pspawn":
                entry, host, args_json, options, monitored = args
                pid = await runtime.spawn(
                    entry,
                    host,
                    json.loads(args_json),
                    self.session.spawn_options[int(options)],
                    monitored=bool(monitored),
                )
                return (pid,)
            if op == "pexec":
                entry, host, args_json, options = args
                pid = await runtime.spawn(
                    entry, host, json.loads(args_json), self.session.spawn_options[int(options)]
                )
                value = await runtime.wait(pid)
                return (self._to_lua(value, "result"),)
            if op == "pcancel":
                await runtime.cancel(args[0])
                return (True,)
            if op == "pterminate":
                await runtime.terminate(args[0], args[1])
                return (True,)
        except WflowError as exc:
            return (None, self._lua_error(exc))
        raise LuaScriptError(f"internal error in the Lua bridge: unknown request {op!r}")

    # -- mailbox channels ---------------------------------------------------------------

    def _adopt(self, channel: Channel, kind: str) -> int:
        cid = self._adopted.get(id(channel))
        if cid is None:
            cid = self._new_id()
            self._channels[cid] = channel
            self._kinds[cid] = kind
            self._adopted[id(channel)] = cid
        return cid

    def _received(self, cid: int, value: Any, ok: bool) -> Any:
        """Return the stash id of a received item as Lua sees it."""
        kind = self._kinds.get(cid)
        if kind is None or not ok:
            return value
        session = self.session
        if kind == "inbox" and isinstance(value, Message):
            data = self._to_lua(value.payload, "message.payload")
            lua_value = session.call_lua(session.b.new_message, value.topic, value.sender, data)
        elif kind == "events" and isinstance(value, Event):
            result = self._to_lua(value.value, "event.value") if value.error is None else None
            error = self._lua_error(value.error) if value.error is not None else None
            lua_value = session.call_lua(
                session.b.new_event, value.kind, value.sender, result, error
            )
        else:
            lua_value = self._to_lua(value, "payload")
        return session.call_lua(session.b.stash, lua_value)

    # -- synchronous process host functions ----------------------------------------------

    def _version(self, change_id: str, min_version: int, max_version: int) -> tuple[Any, ...]:
        try:
            return (self._runtime.version(change_id, int(min_version), int(max_version)),)
        except WflowError as exc:
            return None, self.session.values.error(exc)

    def _set_state(self, text: str) -> tuple[Any, ...]:
        try:
            self._runtime.set_state(json.loads(text))
        except WflowError as exc:
            return None, self.session.values.error(exc)
        return (True,)

    def _set_attrs(self, search: str | None, memo: str | None) -> tuple[Any, ...]:
        try:
            self._runtime.set_attrs(
                None if search is None else json.loads(search),
                None if memo is None else json.loads(memo),
            )
        except WflowError as exc:
            return None, self.session.values.error(exc)
        return (True,)

    # -- tasks --------------------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _start_task(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
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

    # -- host functions (called from Lua, synchronously) ---------------------------------

    def _start_call(self, target: str, args_json: str, options: int) -> tuple[Any, ...]:
        try:
            handle = self._runtime.start_call(
                target, json.loads(args_json), self.session.options[options]
            )
        except WflowError as exc:
            return None, self.session.values.error(exc)
        hid = self._new_id()
        self._handles[hid] = handle
        return (hid,)

    def _call_done(self, hid: int) -> bool:
        return hid in self._outcomes or self._handles[hid].done()

    def _call_cancel(self, hid: int) -> None:
        self._handles[hid].cancel()

    def _call_channel(self, hid: int) -> int:
        cid = self._new_id()
        channel = self._channels[cid] = Channel(1)

        async def deliver() -> None:
            ok, value = await self._outcome(hid)
            lua_value = self._to_lua(value, "result") if ok else self._lua_error(value)
            channel.try_send(self.session.call_lua(self.session.b.stash, lua_value))

        self._start_task(deliver())
        return cid

    def _channel_new(self, capacity: int) -> int:
        cid = self._new_id()
        self._channels[cid] = Channel(int(capacity))
        return cid

    def _channel_close(self, cid: int) -> None:
        self._channels[cid].close()

    async def _fire_after(self, ms: float, channel: Channel) -> None:
        await self._runtime.sleep(timedelta(milliseconds=ms))
        session = self.session
        now = session.call_lua(session.b.new_time, session.now_ns())
        channel.try_send(session.call_lua(session.b.stash, now))

    def _after(self, ms: float) -> int:
        cid = self._new_id()
        channel = self._channels[cid] = Channel(1)
        self._start_task(self._fire_after(ms, channel))
        return cid

    def _timer_new(self, ms: float) -> tuple[int, int]:
        cid = self._new_id()
        self._channels[cid] = Channel(1)
        timer = _Timer(cid)
        tid = self._new_id()
        self._timers[tid] = timer
        timer.task = self._start_task(self._fire_after(ms, self._channels[cid]))
        return tid, cid

    def _timer_stop(self, tid: int) -> bool:
        timer = self._timers[tid]
        active = timer.task is not None and not timer.task.done()
        if timer.task is not None:
            timer.task.cancel()
            timer.task = None
        return active

    def _timer_reset(self, tid: int, ms: float) -> bool:
        was_active = self._timer_stop(tid)
        timer = self._timers[tid]
        timer.task = self._start_task(self._fire_after(ms, self._channels[timer.channel_id]))
        return was_active

    def _spawn(self, tid: int) -> bool:
        self._start_task(self._drive(int(tid), ()))
        return True


class _FunctionProcesses:
    """The `process` host functions of a function call: the call's blocking `ProcessClient`.

    A `WflowError` from the client becomes `nil, err`; other exceptions propagate.
    """

    def __init__(self, context: FunctionContext | None) -> None:
        self.context = context
        self.client: ProcessClient | None = None if context is None else context.processes
        self.session: LuaSession | None = None

    def host(self) -> dict[str, Any]:
        return {
            "pc_available": lambda: self.client is not None,
            "p_id": lambda: None if self.context is None else self.context.entry_id,
            "pc_spawn": self._spawn,
            "pc_exec": self._exec,
            "pc_send": self._send,
            "pc_cancel": self._cancel,
            "pc_terminate": self._terminate,
        }

    def _client(self) -> tuple[ProcessClient, LuaSession]:
        if self.client is None or self.session is None:  # the Lua side checks pc_available
            raise WflowError("process API unavailable here", ErrorKind.UNAVAILABLE)
        return self.client, self.session

    def _fail(self, exc: WflowError) -> tuple[Any, ...]:
        _, session = self._client()
        return None, session.values.error(exc)

    def _spawn(self, entry: str, host: str | None, args: str, options: int) -> tuple[Any, ...]:
        client, session = self._client()
        try:
            return (client.spawn(entry, host, json.loads(args), session.spawn_options[options]),)
        except WflowError as exc:
            return self._fail(exc)

    def _exec(self, entry: str, host: str | None, args: str, options: int) -> tuple[Any, ...]:
        client, session = self._client()
        try:
            pid = client.spawn(entry, host, json.loads(args), session.spawn_options[options])
            value = client.result(pid)
        except WflowError as exc:
            return self._fail(exc)
        return (session.values.to_lua(value, "result"),)

    def _send(self, pid: str, topic: str, payload: str) -> tuple[Any, ...]:
        client, _ = self._client()
        try:
            client.send(pid, topic, payload_of(json.loads(payload)))
        except WflowError as exc:
            return self._fail(exc)
        return (True,)

    def _cancel(self, pid: str) -> tuple[Any, ...]:
        client, _ = self._client()
        try:
            client.cancel(pid)
        except WflowError as exc:
            return self._fail(exc)
        return (True,)

    def _terminate(self, pid: str, reason: str | None) -> tuple[Any, ...]:
        client, _ = self._client()
        try:
            client.terminate(pid, reason)
        except WflowError as exc:
            return self._fail(exc)
        return (True,)


def run_function(
    chunks: Mapping[str, Chunk],
    key: str,
    method: str,
    limits: LuaLimits,
    args: Sequence[Any],
    context: FunctionContext | None = None,
) -> Any:
    """Run a `function.lua` entry once, synchronously, on real time.

    `process.spawn` / `send` / `exec` / `cancel` / `terminate` use `context.processes`
    (blocking calls on this worker thread).

    Raises:
        WflowError: The function returned `nil, err` (its kind), or failed: an unhandled Lua
            error or a resource limit becomes `INTERNAL` with the Lua message.
        Exception: Any non-`WflowError` exception a `ProcessClient` method raised.
    """
    processes = _FunctionProcesses(context)
    session = LuaSession(
        where="functions",
        clock=LocalClock(),
        chunks=chunks,
        limits=limits,
        extra_host=processes.host(),
    )
    processes.session = session
    try:
        tid = session.start(key, method)
        lua_args = [session.values.to_lua(arg, f"args[{i}]") for i, arg in enumerate(args, 1)]
        out = session.step(tid, *lua_args)
        tag = out[0]
        if tag == "done":
            return json.loads(out[1])
        if tag == "fail":
            raise error_from_fail(out[1], out[2], out[3], out[4])
        if tag == "yield":
            raise WflowError(
                f"internal error in the Lua bridge: unexpected request {out[1]!r} in a function",
                ErrorKind.INTERNAL,
            )
        raise WflowError(
            str(out[1]),
            ErrorKind.INTERNAL,
            details={"traceback": str(out[2])} if len(out) > 2 and out[2] else None,
        )
    except LuaScriptError as exc:
        raise WflowError(exc.message, ErrorKind.INTERNAL) from None
    except LuaResourceError as exc:
        raise WflowError(str(exc), ErrorKind.INTERNAL, retryable=False) from None
    except lupa54.LuaMemoryError:
        raise WflowError(
            f"memory limit of {limits.max_memory} bytes exceeded",
            ErrorKind.INTERNAL,
            retryable=False,
        ) from None
    finally:
        session.close()
