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

The channels and timers of a run are `WorkflowChannels`' (`_workflow_channels.py`); the
driver serves the other workflow operations: function calls, sleep, processes, versions.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from datetime import timedelta
from typing import Any

from lua_bridge._chunks import Chunk
from lua_bridge._limits import LuaLimits
from lua_bridge._lua_errors import LuaScriptError
from lua_bridge._lua_run import LuaRun
from lua_bridge._lua_values import error_from_fail
from lua_bridge._protocol import RequestHandlers
from lua_bridge._workflow_channels import WorkflowChannels
from wflow.model import (
    CallHandle,
    SpawnRequest,
    WflowError,
    WorkflowRuntime,
    call_site,
    message_payload,
    result_channel,
)

__all__ = ["WorkflowDriver"]


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
        self._tasks: set[asyncio.Future[Any]] = set()
        self._failure: BaseException | None = None
        self._root: asyncio.Task[Any] | None = None
        self._next_id = 0
        self._channels = WorkflowChannels(runtime, self._start_task, self._new_id)
        handlers = (self, self._channels)
        self._requests = RequestHandlers("workflow", handlers)
        self.run_state = LuaRun(
            side="workflow",
            clock=runtime,
            chunks=chunks,
            limits=limits,
            handlers=handlers,
            park_after=limits.park_after,
        )
        self._channels.run_state = self.run_state

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
            lua_args = [self.run_state.data(arg, f"args[{i}]") for i, arg in enumerate(args, 1)]
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

    # -- requests (yielded by Lua, awaited here; see _protocol.OPERATIONS) ---------------------

    async def _op_call_function(
        self, target: str, args_json: str, options: int, where: str | None = None
    ) -> Sequence[Any]:
        try:
            with call_site(where):
                value = await self._runtime.call(
                    target, json.loads(args_json), self.run_state.options[options]
                )
        except WflowError as exc:
            return self.run_state.failed(exc)
        return (self.run_state.data(value, "result"),)

    async def _op_call_result(self, call_id: int) -> Sequence[Any]:
        ok, value = await self._outcome(int(call_id))
        if ok:
            return (self.run_state.data(value, "result"),)
        return self.run_state.failed(value)

    async def _op_sleep(self, ms: float, where: str | None = None) -> Sequence[Any]:
        with call_site(where):
            await self._runtime.sleep(timedelta(milliseconds=ms))
        return (True,)

    async def _op_send_message(
        self, pid: str, topic: str, payload_json: str, as_error: bool
    ) -> Sequence[Any]:
        try:
            payload = message_payload(json.loads(payload_json))
            if as_error and isinstance(payload, dict):
                payload = WflowError.from_dict(payload)
            await self._runtime.send(pid, topic, payload)
        except WflowError as exc:
            return self.run_state.failed(exc)
        return (True,)

    async def _op_spawn_child(
        self, entry: str, host: str | None, args_json: str, options: int, monitored: bool
    ) -> Sequence[Any]:
        try:
            spawn_options = self.run_state.spawn_options[int(options)]
            if monitored:
                spawn_options = spawn_options.monitored_copy()
            pid = await self._runtime.spawn(
                SpawnRequest(entry, host, json.loads(args_json), spawn_options)
            )
        except WflowError as exc:
            return self.run_state.failed(exc)
        return (pid,)

    async def _op_exec_child(
        self, entry: str, host: str | None, args_json: str, options: int
    ) -> Sequence[Any]:
        runtime = self._runtime
        try:
            spawn_options = self.run_state.spawn_options[int(options)]
            pid = await runtime.spawn(
                SpawnRequest(entry, host, json.loads(args_json), spawn_options)
            )
            value = await runtime.wait(pid)
        except WflowError as exc:
            return self.run_state.failed(exc)
        return (self.run_state.data(value, "result"),)

    async def _op_cancel_process(self, pid: str, reason: str | None = None) -> Sequence[Any]:
        return await self._true_or_failed(self._runtime.cancel(pid, reason))

    async def _op_terminate_process(self, pid: str, reason: str | None) -> Sequence[Any]:
        return await self._true_or_failed(self._runtime.terminate(pid, reason))

    async def _op_register_name(self, name: str, pid: str | None) -> Sequence[Any]:
        return await self._true_or_failed(self._runtime.register_name(name, pid))

    async def _op_lookup_name(self, name: str) -> Sequence[Any]:
        try:
            return (await self._runtime.lookup_name(name),)
        except WflowError as exc:
            return self.run_state.failed(exc)

    # Monitors and links (wflow.model.Peers; Wippy's process.monitor/link/...).

    async def _op_monitor_process(self, pid: str) -> Sequence[Any]:
        return await self._true_or_failed(self._runtime.monitor(pid))

    async def _op_unmonitor_process(self, pid: str) -> Sequence[Any]:
        return await self._true_or_failed(self._runtime.unmonitor(pid))

    async def _op_link_process(self, pid: str) -> Sequence[Any]:
        return await self._true_or_failed(self._runtime.link(pid))

    async def _op_unlink_process(self, pid: str) -> Sequence[Any]:
        return await self._true_or_failed(self._runtime.unlink(pid))

    async def _true_or_failed(self, request: Awaitable[None]) -> Sequence[Any]:
        """Lua's `true` once `request` is done, or `nil, err` for its `WflowError`."""
        try:
            await request
        except WflowError as exc:
            return self.run_state.failed(exc)
        return (True,)

    async def _op_continue_as_new(self, args_json: str) -> Sequence[Any]:
        # A WflowError from upgrade propagates like any exception: it is no `nil, err`.
        self._runtime.upgrade(json.loads(args_json))
        raise LuaScriptError("process.upgrade: the runtime did not continue as new")

    # -- host calls (called from Lua, synchronously; see _protocol.OPERATIONS) -----------------

    def _op_start_call(
        self, target: str, args_json: str, options: int, where: str | None = None
    ) -> tuple[Any, ...]:
        try:
            with call_site(where):
                handle = self._runtime.start_call(
                    target, json.loads(args_json), self.run_state.options[options]
                )
        except WflowError as exc:
            return self.run_state.failed(exc)
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
        return self._channels.add(channel, self._channels.outcome_to_lua)

    def _op_spawn_coroutine(self, thread_id: int) -> bool:
        self._start_task(self._drive(int(thread_id), ()))
        return True

    def _op_process_pid(self) -> str:
        return self._runtime.pid()

    def _op_entry_id(self) -> str:
        return self._runtime.info().entry_id

    def _op_get_version(
        self, change_id: str, min_version: int, max_version: int
    ) -> tuple[Any, ...]:
        try:
            return (self._runtime.version(change_id, int(min_version), int(max_version)),)
        except WflowError as exc:
            return self.run_state.failed(exc)

    def _op_process_options(self) -> Any:
        return self.run_state.data(self._runtime.process_options(), "options")

    def _op_set_process_options(self, options_json: str) -> tuple[Any, ...]:
        return self._true_or_error(
            lambda: self._runtime.set_process_options(json.loads(options_json))
        )

    def _op_set_state(self, state_json: str) -> tuple[Any, ...]:
        return self._true_or_error(lambda: self._runtime.set_state(json.loads(state_json)))

    def _op_set_attrs(self, search_json: str | None, memo_json: str | None) -> tuple[Any, ...]:
        search = None if search_json is None else json.loads(search_json)
        memo = None if memo_json is None else json.loads(memo_json)
        return self._true_or_error(lambda: self._runtime.set_attrs(search, memo))

    def _true_or_error(self, action: Callable[[], None]) -> tuple[Any, ...]:
        """Lua's `true` once `action` ran, or `nil, err` (an error object) for its `WflowError`."""
        try:
            action()
        except WflowError as exc:
            return self.run_state.failed(exc)
        return (True,)
