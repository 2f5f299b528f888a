"""Messages, children and other workflows from a Python workflow or process (Lua: `process`).

The module is also callable: `@wflow.process("ns:name")` registers a `process.py` entry.

Example:
    ```python
    from wflow import process

    msg = await process.inbox().receive()          # blocks until a message arrives
    if msg.payload["approved"]: ...

    async for msg in process.inbox():              # every message, in order
        ...

    pid = await process.spawn_monitored("app.workflows:child", None, {"n": 1})
    event = await process.events().receive()       # Event("EXIT", pid, value=...)
    ```
"""

from __future__ import annotations

import inspect
import sys
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, NoReturn, TypeVar

from wflow.dsl._function_caller import FunctionCaller
from wflow.model import (
    CANCEL,
    EXIT,
    LINK_DOWN,
    Channel,
    ErrorKind,
    Message,
    SpawnOptions,
    SpawnRequest,
    WflowError,
    WorkflowRuntime,
    current_runtime,
    in_workflow,
)

__all__ = [
    "Inbox",
    "Spawner",
    "cancel",
    "event",
    "events",
    "exec",
    "get_options",
    "handle_updates",
    "inbox",
    "link",
    "listen",
    "monitor",
    "pid",
    "registry",
    "send",
    "set_options",
    "spawn",
    "spawn_linked",
    "spawn_linked_monitored",
    "spawn_monitored",
    "terminate",
    "unlink",
    "unlisten",
    "unmonitor",
    "upgrade",
    "with_context",
    "with_options",
]


class Inbox:
    """A receiving end: `await receive()`, or `async for` over it."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    async def receive(self) -> Any:
        """Wait for the next item."""
        value, ok = await self.channel.receive()
        if not ok:
            raise WflowError("the channel is closed", ErrorKind.CANCELED)
        return value

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        while True:
            value, ok = await self.channel.receive()
            if not ok:
                return
            yield value


def pid() -> str:
    """Return this workflow's PID."""
    return current_runtime().pid()


def inbox() -> Inbox:
    """Return the inbox: `Message`s whose topic no `listen` claims (updates included)."""
    return Inbox(current_runtime().mailbox().inbox())


def listen(topic: str, *, message: bool = False) -> Inbox:
    """Return the payloads of messages sent with `topic` (`message=True`: whole `Message`s).

    Raises:
        WflowError: `INVALID` when `topic` is listened to with the other `message` already.
    """
    return Inbox(current_runtime().mailbox().listen(topic, message=message))


def unlisten(listener: Inbox) -> bool:
    """Stop a `listen`: its topic's messages go to the inbox again (unreceived ones too).

    Returns whether `listener` was a listen channel; it is closed afterwards.
    """
    return current_runtime().mailbox().unlisten(listener.channel)


def events() -> Inbox:
    """Return `Event`s: `EXIT` of children and monitored processes, `CANCEL`, `LINK_DOWN`.

    `CANCEL` carries the canceler's `reason`. A workflow that asked for its events is told of
    a cancellation request by `CANCEL` and may clean up before it returns; one that never
    asked is canceled where it waits.
    """
    return Inbox(current_runtime().mailbox().events())


class _EventKinds:
    """`process.event.EXIT`, `CANCEL`, `LINK_DOWN`: the kinds of `Event`s (as in Lua)."""

    EXIT = EXIT
    CANCEL = CANCEL
    LINK_DOWN = LINK_DOWN


event = _EventKinds()
"""The event kinds: `if ev.kind == process.event.LINK_DOWN: ...`."""


async def monitor(pid: str) -> None:
    """Get an `EXIT` event on `events()` when workflow or process `pid` ends."""
    await current_runtime().monitor(pid)


async def unmonitor(pid: str) -> None:
    """Stop the `EXIT` events of `pid`."""
    await current_runtime().unmonitor(pid)


async def link(pid: str) -> None:
    """Link to `pid`: when either ends abnormally, the other ends too (or gets `LINK_DOWN`).

    With `set_options(trap_links=True)` the other side gets a `LINK_DOWN` event instead of
    ending. A normal end only dissolves the link.
    """
    await current_runtime().link(pid)


async def unlink(pid: str) -> None:
    """Remove the link to `pid`."""
    await current_runtime().unlink(pid)


def get_options() -> dict[str, Any]:
    """Return the process options: `{"trap_links": bool, "upgradable": False}`."""
    return current_runtime().process_options()


def set_options(options: Mapping[str, Any] | None = None, /, **kwargs: Any) -> None:
    """Set process options: `set_options(trap_links=True)` (Lua: `{trap_links = true}`).

    Raises:
        WflowError: `INVALID` for an unknown option or a value that is no boolean.
    """
    current_runtime().set_process_options({**(options or {}), **kwargs})


def _caller() -> WorkflowRuntime | FunctionCaller:
    """The running workflow's or process's runtime; in a function call, its process API."""
    if not in_workflow():
        from wflow.dsl._python_engine import current_function_context

        context = current_function_context()
        if context is not None and context.processes is not None:
            return FunctionCaller(context.processes)
    return current_runtime()


async def send(pid: str, topic: str, payload: Any = None) -> None:
    """Send a message to workflow `pid` (or answer an update, see `handle_updates`)."""
    await _caller().send(pid, topic, payload)


class Spawner:
    """Starts workflows with fixed options; immutable (Lua: `process.with_options{}`)."""

    def __init__(self, options: SpawnOptions | None = None) -> None:
        """Create a spawner with `options`."""
        self.options = options or SpawnOptions()

    def with_options(self, options: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Spawner:
        """Return a spawner with options changed.

        Keys are `SpawnOptions`' (`id`, `task_queue`, `execution_timeout`, `run_timeout`,
        `task_timeout`, `id_conflict_policy`, `id_reuse_policy`,
        `execution_error_when_already_started`, `retry_policy`, `cron_schedule`, `memo`,
        `search_attributes`, `enable_eager_start`, `start_delay`, `parent_close_policy`,
        `wait_for_cancellation`, `namespace`, `priority`, `summary`, `details`,
        `versioning_override`), bare as keyword arguments or written as Wippy's docs do
        (`{"temporal.workflow.id": ...}`); numbers are seconds.

        Raises:
            WflowError: `INVALID` naming an unknown key or a bad value.
        """
        merged = {**(options or {}), **kwargs}
        return Spawner(self.options.merged(merged, number_unit=timedelta(seconds=1)))

    def with_context(self, values: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Spawner:
        """Return a spawner whose workflows start with these context values.

        The workflow reads them with `wflow.ctx.get` / `wflow.ctx.all`, and so do the
        functions it calls (Lua: `process.with_context{...}`, `spawner:with_context{...}`).
        """
        return Spawner(self.options.with_context({**(values or {}), **kwargs}))

    def with_name(self, name: str) -> Spawner:
        """Return a spawner whose workflow ID derives from `name` (second spawn: same PID)."""
        return Spawner(self.options.with_name(name))

    def with_message(self, topic: str, payload: Any = None) -> Spawner:
        """Return a spawner that also delivers `(topic, payload)` with the start.

        Several calls queue several messages, delivered in order; a spawn that returns a
        running workflow (`id_conflict_policy="use_existing"`, a name already running)
        delivers them to it.
        """
        return Spawner(self.options.with_message(topic, payload))

    async def spawn(self, entry: str, host: str | None = None, *args: Any) -> str:
        """Start a child workflow and return its PID."""
        return await _caller().spawn(SpawnRequest(entry, host, args, self.options))

    async def spawn_monitored(self, entry: str, host: str | None = None, *args: Any) -> str:
        """Start a child workflow whose end posts an `EXIT` event."""
        options = self.options.monitored_copy()
        return await _caller().spawn(SpawnRequest(entry, host, args, options))

    async def spawn_linked(self, entry: str, host: str | None = None, *args: Any) -> str:
        """Start a child linked to this workflow or process (see `link`)."""
        pid = await self.spawn(entry, host, *args)
        await current_runtime().link(pid)
        return pid

    async def spawn_linked_monitored(self, entry: str, host: str | None = None, *args: Any) -> str:
        """Start a child that is linked and monitored (`EXIT` event when it ends)."""
        pid = await self.spawn_monitored(entry, host, *args)
        await current_runtime().link(pid)
        return pid

    async def exec(self, entry: str, host: str | None = None, *args: Any) -> Any:
        """Start a child workflow and wait for its result."""
        runtime = _caller()
        return await runtime.wait(
            await runtime.spawn(SpawnRequest(entry, host, args, self.options))
        )


def with_options(options: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Spawner:
    """Return a spawner with options (see `Spawner.with_options`)."""
    return Spawner().with_options(options, **kwargs)


def with_context(values: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Spawner:
    """Return a spawner with context values (see `Spawner.with_context`)."""
    return Spawner().with_context(values, **kwargs)


async def spawn(entry: str, host: str | None = None, *args: Any) -> str:
    """Start a child workflow on worker `host` (None: the entry's worker); return its PID."""
    return await Spawner().spawn(entry, host, *args)


async def spawn_monitored(entry: str, host: str | None = None, *args: Any) -> str:
    """Start a child workflow whose end posts an `EXIT` event on `events()`."""
    return await Spawner().spawn_monitored(entry, host, *args)


async def spawn_linked(entry: str, host: str | None = None, *args: Any) -> str:
    """Start a child linked to this workflow or process; return its PID."""
    return await Spawner().spawn_linked(entry, host, *args)


async def spawn_linked_monitored(entry: str, host: str | None = None, *args: Any) -> str:
    """Start a linked child whose end also posts an `EXIT` event."""
    return await Spawner().spawn_linked_monitored(entry, host, *args)


async def exec(entry: str, host: str | None = None, *args: Any) -> Any:
    """Start a child workflow and wait for its result."""
    return await Spawner().exec(entry, host, *args)


async def cancel(pid: str, reason: str | None = None) -> None:
    """Request cancellation of workflow or process `pid`.

    The target sees a `CANCEL` event carrying `reason` on its `events()` (a workflow: when it
    reads `events()`; else its code is canceled as before) and may clean up before it ends.
    """
    await _caller().cancel(pid, reason)


async def terminate(pid: str, reason: str | None = None) -> None:
    """Terminate workflow `pid`."""
    await _caller().terminate(pid, reason)


class _Names:
    """`process.registry`: find processes by name instead of passing PIDs around."""

    async def register(self, name: str, pid: str | None = None) -> None:
        """Register `name` for `pid` (default: this process) on this process's host.

        Raises:
            WflowError: `INVALID` in a workflow; `ALREADY_EXISTS` when a running process
                holds the name.
        """
        await current_runtime().register_name(name, pid)

    async def lookup(self, name: str) -> str | None:
        """Return the PID registered as `name` (a service: its entry ID), or None."""
        return await _caller().lookup_name(name)


registry = _Names()
"""Process names: `await process.registry.lookup("app:session_manager")`."""


def upgrade(*args: Any) -> NoReturn:
    """Continue as a new run with `args`; unreceived messages go along."""
    current_runtime().upgrade(args)


UpdateHandler = Callable[[Any], Awaitable[Any]]
Validator = Callable[[Any], None]


async def handle_updates(
    handlers: Mapping[str, UpdateHandler],
    *,
    validators: Mapping[str, Validator] | None = None,
    until: Callable[[], bool] = lambda: False,
) -> None:
    """Serve updates from the inbox with Python handlers until `until()` is true.

    Each update message is answered with the same protocol Lua scripts use: a validator that
    raises rejects it (`nak`), else it is accepted (`ack`) and the handler's return value is
    the reply (`ok`), or its `WflowError` is (`error`). Non-update messages stay unanswered
    and are skipped.
    """
    box = inbox()
    while not until():
        message: Message = await box.receive()
        if not message.is_update:
            continue
        assert message.sender is not None
        validator = (validators or {}).get(message.topic)
        handler = handlers.get(message.topic)
        if handler is None:
            await send(message.sender, "nak", f"no handler for update {message.topic!r}")
            continue
        if validator is not None:
            try:
                validator(message.payload)
            except Exception as exc:
                await send(message.sender, "nak", str(exc))
                continue
        await send(message.sender, "ack")
        try:
            result = await handler(message.payload)
        except WflowError as exc:
            await send(message.sender, "error", exc)
        else:
            await send(message.sender, "ok", result)


F = TypeVar("F", bound=Callable[..., Any])


def _process_decorator(entry_id: str, *, mailbox_bound: int = 1000) -> Callable[[F], F]:
    """`@wflow.process("ns:name")`: register an `async def` function as a `process.py` entry.

    The function runs as a process on a `process.host`: ordinary code on real time, with this
    module's API (`inbox`, `send`, `spawn`, ...), not replayed, gone when its host stops.
    """

    def register(fn: F) -> F:
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(f"@wflow.process({entry_id!r}) needs an async def function")
        from wflow.registry import register_decorated

        register_decorated("process.py", entry_id, fn, mailbox_bound=mailbox_bound)
        fn.__wflow_entry__ = entry_id  # type: ignore[attr-defined]
        return fn

    return register


class _CallableModule(types.ModuleType):
    """This module, callable: `wflow.process(...)` is the decorator of process entries."""

    def __call__(self, entry_id: str, *, mailbox_bound: int = 1000) -> Callable[[F], F]:
        return _process_decorator(entry_id, mailbox_bound=mailbox_bound)


sys.modules[__name__].__class__ = _CallableModule
