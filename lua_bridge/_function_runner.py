"""Running a `function.lua` entry: one synchronous call on real time.

A function is not replayed, so its Lua state reads the real clock and real randomness
(`LocalClock`), `time.sleep` really sleeps, and the `process` operations are blocking calls on
the call's `ProcessClient` (`FunctionContext.processes`). They are the function side's host
calls of `_protocol.OPERATIONS`, served by `FunctionHost`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import lupa.lua54 as lupa54

from lua_bridge._chunks import Chunk
from lua_bridge._limits import LuaLimits
from lua_bridge._lua_errors import LuaResourceError, LuaScriptError
from lua_bridge._lua_run import LocalClock, LuaRun
from lua_bridge._lua_values import error_from_fail
from wflow.model import (
    ErrorKind,
    FunctionContext,
    ProcessClient,
    SpawnRequest,
    WflowError,
    message_payload,
)

__all__ = ["FunctionHost", "run_function"]


class FunctionHost:
    """The function side's own host calls: real sleep, entry ID, the blocking `ProcessClient`.

    A `WflowError` from the client becomes `nil, err`; other exceptions propagate.

    Args:
        context: The call's context, or None (then `process.*` raise "unavailable").
    """

    def __init__(self, context: FunctionContext | None) -> None:
        self.context = context
        self.client: ProcessClient | None = None if context is None else context.processes
        self.run_state: LuaRun | None = None

    def _client(self) -> tuple[ProcessClient, LuaRun]:
        if self.client is None or self.run_state is None:  # Lua checks process_api_available
            raise WflowError("process API unavailable here", ErrorKind.UNAVAILABLE)
        return self.client, self.run_state

    def _failed(self, exc: WflowError) -> tuple[Any, ...]:
        _, run_state = self._client()
        return run_state.failed(exc)

    # -- host calls (see _protocol.OPERATIONS) ------------------------------------------------

    def _op_sleep(self, ms: float, where: str | None = None) -> None:
        time.sleep(ms / 1000)

    def _op_entry_id(self) -> str | None:
        return None if self.context is None else self.context.entry_id

    def _op_heartbeat(self, details_json: str) -> bool:
        if self.context is not None:
            self.context.heartbeat(*json.loads(details_json))
        return True

    def _op_heartbeat_details(self) -> str:
        return json.dumps(list(self.context.heartbeat_details) if self.context else [])

    def _op_call_canceled(self) -> bool:
        return self.context is not None and self.context.is_cancelled()

    def _op_context_json(self) -> str:
        return json.dumps(dict(self.context.values) if self.context is not None else {})

    def _op_process_api_available(self) -> bool:
        return self.client is not None

    def _op_spawn_child(
        self, entry: str, host: str | None, args_json: str, options: int, monitored: bool = False
    ) -> tuple[Any, ...]:
        # `monitored` is always false here: spawn_monitored is workflow-only (checked in Lua).
        client, run_state = self._client()
        try:
            spawn_options = run_state.spawn_options[options]
            return (client.spawn(SpawnRequest(entry, host, json.loads(args_json), spawn_options)),)
        except WflowError as exc:
            return self._failed(exc)

    def _op_exec_child(
        self, entry: str, host: str | None, args_json: str, options: int
    ) -> tuple[Any, ...]:
        client, run_state = self._client()
        try:
            spawn_options = run_state.spawn_options[options]
            pid = client.spawn(SpawnRequest(entry, host, json.loads(args_json), spawn_options))
            value = client.result(pid)
        except WflowError as exc:
            return self._failed(exc)
        return (run_state.data(value, "result"),)

    def _op_send_message(
        self, pid: str, topic: str, payload_json: str, as_error: bool = False
    ) -> tuple[Any, ...]:
        # `as_error` (an error answering a workflow update) applies to workflows only.
        client, _ = self._client()
        return self._true_or_failed(
            lambda: client.send(pid, topic, message_payload(json.loads(payload_json)))
        )

    def _op_cancel_process(self, pid: str, reason: str | None = None) -> tuple[Any, ...]:
        client, _ = self._client()
        return self._true_or_failed(lambda: client.cancel(pid, reason))

    def _op_terminate_process(self, pid: str, reason: str | None) -> tuple[Any, ...]:
        client, _ = self._client()
        return self._true_or_failed(lambda: client.terminate(pid, reason))

    def _true_or_failed(self, action: Callable[[], None]) -> tuple[Any, ...]:
        """Lua's `true` once `action` ran, or `nil, err` for its `WflowError`."""
        try:
            action()
        except WflowError as exc:
            return self._failed(exc)
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
            error or a resource limit becomes a non-retryable `INTERNAL` with the Lua message.
        Exception: Any non-`WflowError` exception a `ProcessClient` method raised.
    """
    function_host = FunctionHost(context)
    run_state = LuaRun(
        side="function",
        clock=LocalClock(),
        chunks=chunks,
        limits=limits,
        handlers=(function_host,),
    )
    function_host.run_state = run_state
    try:
        tid = run_state.start(key, method)
        lua_args = [run_state.data(arg, f"args[{i}]") for i, arg in enumerate(args, 1)]
        return _outcome(run_state.step(tid, *lua_args))
    except LuaScriptError as exc:
        # Wippy's docs: a runtime crash is `INTERNAL` and not retryable (the same code would
        # crash the same way on every attempt).
        raise WflowError(exc.message, ErrorKind.INTERNAL, retryable=False) from None
    except LuaResourceError as exc:
        raise WflowError(str(exc), ErrorKind.INTERNAL, retryable=False) from None
    except lupa54.LuaMemoryError:
        raise WflowError(
            f"memory limit of {limits.max_memory} bytes exceeded",
            ErrorKind.INTERNAL,
            retryable=False,
        ) from None
    finally:
        run_state.close()


def _outcome(out: tuple[Any, ...]) -> Any:
    """Return the result of a function's one slice, or raise its `WflowError`."""
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
    # An unhandled Lua error (or a result or error value that cannot cross): Wippy's failure
    # table makes a runtime crash `INTERNAL` and not retryable, since the same code crashes the
    # same way on every attempt. Temporal then does not retry it, whatever the retry policy.
    raise WflowError(
        str(out[1]),
        ErrorKind.INTERNAL,
        retryable=False,
        details={"traceback": str(out[2])} if len(out) > 2 and out[2] else None,
    )
