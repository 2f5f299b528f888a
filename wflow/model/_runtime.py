"""The intercepted-call vocabulary: what a running workflow may ask of its executor.

Python DSL workflows reach it through `current_runtime()`; Lua workflows through the
coroutine driver in `lua_bridge`, which turns each yielded request into one of these calls.
The Temporal executor implements it once for both.
"""

from __future__ import annotations

import contextvars
import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NoReturn, Protocol

from wflow.model._errors import ErrorKind, WflowError
from wflow.model._messages import Mailbox
from wflow.model._options import ActivityOptions
from wflow.model._spawn_request import SpawnRequest

__all__ = [
    "CallHandle",
    "ProcessClient",
    "WorkflowInfo",
    "WorkflowRuntime",
    "bind_runtime",
    "current_runtime",
    "in_workflow",
]


@dataclasses.dataclass(frozen=True)
class WorkflowInfo:
    """Facts about the running workflow (Lua: `workflow.info()`).

    Attributes:
        workflow_id: The workflow ID.
        run_id: The run ID of this run.
        workflow_type: The workflow type, which is the workflow entry ID.
        task_queue: The task queue the workflow runs on.
        namespace: The Temporal namespace.
        attempt: The attempt number, starting at 1.
        history_length: Events in the history so far (for deciding on continue-as-new).
        entry_id: The registry entry that is running.
        history_size: Bytes of history so far (Wippy's `info().history_size`).
        context: Values the starter attached to the workflow (Wippy's `process.with_context`;
            read with `ctx.get` / `ctx.all`); not part of `to_dict()`.
    """

    workflow_id: str
    run_id: str
    workflow_type: str
    task_queue: str
    namespace: str
    attempt: int
    history_length: int
    entry_id: str
    history_size: int = 0
    context: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dict (the Lua table form), without `context`."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        del out["context"]
        return out


class CallHandle(Protocol):
    """A function call started without waiting (Lua: the future of `funcs.async`)."""

    def done(self) -> bool:
        """Return whether the call has finished (successfully or not)."""
        ...

    async def result(self) -> Any:
        """Wait for the call and return its value; raise `WflowError` on failure."""
        ...

    def cancel(self) -> None:
        """Request cancellation of the call."""
        ...


class WorkflowRuntime(Protocol):
    """What a workflow's code may do that must be recorded and replayed.

    Every method is deterministic on replay: values come from the workflow's history or from
    its deterministic clock and randomness.
    """

    def info(self) -> WorkflowInfo:
        """Return facts about the running workflow."""
        ...

    def now(self) -> datetime:
        """Return the workflow clock, timezone-aware UTC."""
        ...

    def uuid4(self) -> uuid.UUID:
        """Return a random UUID that replays identically."""
        ...

    def uuid7(self) -> uuid.UUID:
        """Return a time-ordered UUID from the workflow clock and randomness."""
        ...

    def random_seed(self) -> int:
        """Return a 64-bit seed drawn from the workflow's deterministic randomness."""
        ...

    async def sleep(self, duration: timedelta) -> None:
        """Wait on a durable timer."""
        ...

    async def call(self, target: str, args: Sequence[Any], options: ActivityOptions) -> Any:
        """Call a function entry and wait for its result.

        Args:
            target: The function entry ID, or a bare name in the workflow's namespace.
            args: JSON-compatible arguments, one payload each.
            options: Timeouts, retry policy, task queue, context.

        Raises:
            WflowError: The function failed, timed out or was canceled, with that kind.
        """
        ...

    def start_call(self, target: str, args: Sequence[Any], options: ActivityOptions) -> CallHandle:
        """Start a function call without waiting for it."""
        ...

    # Processes: messages, children, versions, state.

    def pid(self) -> str:
        """Return this workflow's PID (`<worker entry ID>/<workflow ID>`)."""
        ...

    def mailbox(self) -> Mailbox:
        """Return this run's mailbox (inbox, listen channels, events)."""
        ...

    async def send(self, pid: str, topic: str, payload: Any) -> None:
        """Send a message to workflow `pid` (a Temporal signal named `topic`).

        A `pid` of the form `update:<id>` answers an update instead: topics `ack`, `nak`
        (payload: reason), `ok` (payload: result) and `error` (payload: message).

        Raises:
            WflowError: `NOT_FOUND` when no such workflow runs; `INVALID` for a bad PID.
        """
        ...

    async def spawn(self, request: SpawnRequest) -> str:
        """Start `request.entry` as a child on worker `request.host` and return its PID.

        With `request.options.monitored`, the child posts an `EXIT` event on `mailbox().events()`
        when it finishes.
        """
        ...

    async def wait(self, pid: str) -> Any:
        """Wait for child `pid` to finish and return its result; raise its `WflowError`."""
        ...

    async def cancel(self, pid: str, reason: str | None = None) -> None:
        """Request cancellation of workflow `pid`; it sees a `CANCEL` event with `reason`."""
        ...

    async def terminate(self, pid: str, reason: str | None = None) -> None:
        """Terminate workflow `pid` at once."""
        ...

    # Monitors and links (see `wflow.model.Peers`).

    async def monitor(self, pid: str) -> None:
        """Get an `EXIT` event when workflow or process `pid` ends.

        Raises:
            WflowError: `INVALID` for a bad PID; `NOT_FOUND` when `pid` is not running.
        """
        ...

    async def unmonitor(self, pid: str) -> None:
        """Stop `EXIT` events of `pid`."""
        ...

    async def link(self, pid: str) -> None:
        """Link to `pid`: an abnormal end of either ends the other, or (trapped) is an event.

        Raises:
            WflowError: `INVALID` for a bad PID; `NOT_FOUND` when `pid` is not running.
        """
        ...

    async def unlink(self, pid: str) -> None:
        """Remove the link to `pid`."""
        ...

    def process_options(self) -> dict[str, Any]:
        """Return `process.get_options()`."""
        ...

    def set_process_options(self, changes: Mapping[str, Any]) -> None:
        """Apply `process.set_options{...}` (`trap_links`)."""
        ...

    async def register_name(self, name: str, pid: str | None) -> None:
        """Register `name` for `pid` (None: the caller) on the caller's process host.

        Raises:
            WflowError: `INVALID` in a workflow (only processes register names);
                `ALREADY_EXISTS` when a running process holds the name.
        """
        ...

    async def lookup_name(self, name: str) -> str | None:
        """Return the PID registered as `name` (or of service `name`) on a process host."""
        ...

    def version(self, change_id: str, min_version: int, max_version: int) -> int:
        """Return the version of a changed piece of code for this run.

        New runs get `max_version`; runs started before the change replay with the version
        they took (`min_version` if they predate every versioned change).
        """
        ...

    def set_state(self, value: Any) -> None:
        """Set what the `state` query returns."""
        ...

    def set_attrs(self, search: Mapping[str, Any] | None, memo: Mapping[str, Any] | None) -> None:
        """Upsert search attributes and memo fields of this workflow."""
        ...

    def upgrade(self, args: Sequence[Any]) -> NoReturn:
        """Continue as a new run with `args`, carrying unreceived messages over."""
        ...


class ProcessClient(Protocol):
    """The process API outside workflows (CLI, Python programs, functions).

    Methods block until the server answered; PIDs are those workflows report.
    """

    def spawn(self, request: SpawnRequest) -> str:
        """Start `request.entry` on its host (None: the entry's worker); return its PID."""
        ...

    def send(self, pid: str, topic: str, payload: Any) -> None:
        """Send a message; `RATE_LIMITED` when the receiver's mailbox is full."""
        ...

    def result(self, pid: str) -> Any:
        """Wait for workflow `pid` and return its result; raise its `WflowError`."""
        ...

    def cancel(self, pid: str, reason: str | None = None) -> None:
        """Request cancellation of workflow `pid`, telling it `reason`."""
        ...

    def terminate(self, pid: str, reason: str | None = None) -> None:
        """Terminate workflow `pid`."""
        ...


_current: contextvars.ContextVar[WorkflowRuntime | None] = contextvars.ContextVar(
    "wflow_runtime", default=None
)


def current_runtime() -> WorkflowRuntime:
    """Return the runtime of the workflow whose code is running.

    Raises:
        WflowError: `INVALID` when called outside a workflow.
    """
    runtime = _current.get()
    if runtime is None:
        raise WflowError("this call is only available inside a running workflow", ErrorKind.INVALID)
    return runtime


def in_workflow() -> bool:
    """Return whether workflow code is running in this context."""
    return _current.get() is not None


def bind_runtime(runtime: WorkflowRuntime | None) -> contextvars.Token[WorkflowRuntime | None]:
    """Make `runtime` the current one for this task and the tasks it creates."""
    return _current.set(runtime)
