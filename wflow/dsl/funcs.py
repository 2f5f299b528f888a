"""Calling function entries from a Python workflow (Lua: the `funcs` module).

Example:
    ```python
    from wflow import funcs

    receipt = await funcs.call(charge_card, payment)          # typed by charge_card
    status = await funcs.call("app.api:check_status", receipt["id"])
    fast = funcs.new().with_options(start_to_close_timeout="5s")
    pending = fast.start("app.api:ping")                       # Lua: funcs.async
    await pending.result()
    ```
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, Generic, TypeVar, overload

from wflow.dsl._decorators import entry_id_of
from wflow.model import (
    ActivityOptions,
    CallHandle,
    Channel,
    ErrorKind,
    WflowError,
    call_site,
    current_runtime,
    python_call_site,
    result_channel,
)

__all__ = [
    "Executor",
    "Future",
    "async_",
    "call",
    "heartbeat",
    "heartbeat_details",
    "is_cancelled",
    "new",
    "start",
]

R = TypeVar("R")


def _target_id(target: str | Callable[..., Any]) -> str:
    if isinstance(target, str):
        return target
    entry_id = entry_id_of(target)
    if entry_id is None:
        name = getattr(target, "__qualname__", repr(target))
        raise WflowError(
            f"{name} is not a wflow function: decorate it with @wflow.function(...) or pass "
            "the entry ID as a string",
            ErrorKind.INVALID,
        )
    return entry_id


class Future(Generic[R]):
    """A function call started without waiting (Lua: the future of `funcs.async`)."""

    def __init__(self, handle: CallHandle) -> None:
        self._handle = handle
        self._channel: Channel | None = None
        self._cancelled = False

    async def result(self) -> R:
        """Wait for the call; return its value or raise its `WflowError`."""
        value: R = await self._handle.result()
        return value

    def is_complete(self) -> bool:
        """Return whether the call has finished."""
        return self._handle.done()

    def cancel(self) -> None:
        """Request cancellation of the call."""
        self._cancelled = True
        self._handle.cancel()

    def is_cancelled(self) -> bool:
        """Return whether `cancel()` was called (Lua: `future:is_canceled()`)."""
        return self._cancelled

    async def error(self) -> WflowError | None:
        """Return the call's `WflowError` once it failed, None otherwise (never waits).

        Lua: `future:error()` → `err, true` / `nil, false`.
        """
        if not self._handle.done():
            return None
        try:
            await self._handle.result()
        except WflowError as exc:
            return exc
        return None

    def response(self) -> Channel:
        """Wippy's name of `channel()`."""
        return self.channel()

    def channel(self) -> Channel:
        """Return a channel receiving the value (or the `WflowError`) once, for `select`."""
        if self._channel is None:
            self._channel = result_channel(self._handle)
        return self._channel


class Executor:
    """Calls functions with a fixed set of options; immutable (Lua: `funcs.new()`)."""

    def __init__(self, options: ActivityOptions | None = None) -> None:
        """Create an executor with `options` (the defaults when None)."""
        self.options = options or ActivityOptions()

    def with_options(self, options: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Executor:
        """Return a new executor with options changed.

        Keys are `start_to_close_timeout` (or `timeout`), `schedule_to_close_timeout`,
        `schedule_to_start_timeout`, `heartbeat_timeout` (durations: `"5s"`, seconds, or
        timedelta), `task_queue`, `id`, `summary`, `priority`, `wait_for_cancellation`,
        `disable_eager_execution`, and `retry_policy` (a `RetryPolicy` or a dict of its
        fields). A mapping may use Lua's `activity.` prefix.

        Raises:
            WflowError: `INVALID` naming an unknown key or bad value.
        """
        merged = {**(options or {}), **kwargs}
        return Executor(self.options.merged(merged, number_unit=timedelta(seconds=1)))

    def with_context(self, values: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Executor:
        """Return a new executor that sends `values` along with each call."""
        return Executor(self.options.with_context({**(values or {}), **kwargs}))

    @overload
    async def call(self, target: Callable[..., Awaitable[R]], *args: Any) -> R: ...
    @overload
    async def call(self, target: Callable[..., R], *args: Any) -> R: ...
    @overload
    async def call(self, target: str, *args: Any) -> Any: ...
    async def call(self, target: str | Callable[..., Any], *args: Any) -> Any:
        """Call a function entry and wait for its result.

        Args:
            target: A function decorated with `@wflow.function`, or an entry ID (a bare name
                resolves in the workflow's namespace).
            *args: JSON-compatible arguments.

        Raises:
            WflowError: The function failed, with its kind, message and details.
        """
        # Where the workflow's code made the call, for Temporal's UI and traces.
        with call_site(python_call_site(1)):
            return await current_runtime().call(_target_id(target), args, self.options)

    @overload
    def start(self, target: Callable[..., Awaitable[R]], *args: Any) -> Future[R]: ...
    @overload
    def start(self, target: Callable[..., R], *args: Any) -> Future[R]: ...
    @overload
    def start(self, target: str, *args: Any) -> Future[Any]: ...
    def start(self, target: str | Callable[..., Any], *args: Any) -> Future[Any]:
        """Start a function call without waiting (Lua: `funcs.async`)."""
        with call_site(python_call_site(1)):
            return Future(current_runtime().start_call(_target_id(target), args, self.options))

    async_ = start


_default = Executor()


def new() -> Executor:
    """Return an executor with default options, to configure with `with_options`."""
    return Executor()


@overload
async def call(target: Callable[..., Awaitable[R]], *args: Any) -> R: ...
@overload
async def call(target: Callable[..., R], *args: Any) -> R: ...
@overload
async def call(target: str, *args: Any) -> Any: ...
async def call(target: str | Callable[..., Any], *args: Any) -> Any:
    """Call a function entry with default options and wait (see `Executor.call`)."""
    return await _default.call(target, *args)


@overload
def start(target: Callable[..., Awaitable[R]], *args: Any) -> Future[R]: ...
@overload
def start(target: Callable[..., R], *args: Any) -> Future[R]: ...
@overload
def start(target: str, *args: Any) -> Future[Any]: ...
def start(target: str | Callable[..., Any], *args: Any) -> Future[Any]:
    """Start a function call with default options (Lua: `funcs.async`)."""
    return _default.start(target, *args)


async_ = start


# -- inside a function: heartbeats and cancellation ---------------------------------------


def _function_context() -> Any:
    from wflow.dsl._python_engine import current_function_context

    context = current_function_context()
    if context is None:
        raise WflowError(
            "funcs.heartbeat / heartbeat_details / is_cancelled are only available in a "
            "function call",
            ErrorKind.INVALID,
        )
    return context


def heartbeat(*details: Any) -> None:
    """Record a heartbeat of the running function call, with `details` a retry can read.

    Needed for `heartbeat_timeout` to mean something and for cancellation to reach the call.
    """
    _function_context().heartbeat(*details)


def heartbeat_details() -> list[Any]:
    """Return the details of the previous attempt's last heartbeat (empty on the first)."""
    return list(_function_context().heartbeat_details)


def is_cancelled() -> bool:
    """Return whether the caller asked to cancel this call (seen at a heartbeat)."""
    return bool(_function_context().is_cancelled())
