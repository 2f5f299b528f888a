"""An in-memory `WorkflowRuntime` and `ProcessClient`: drive workflows without a server.

`FakeRuntime` implements the whole intercepted-call vocabulary of `wflow.model` in memory:
function calls answer from a table of canned results and are recorded, timers advance a
virtual clock, messages are delivered by the test, children run as asyncio tasks. Lua and
Python workflows run on it unchanged, which makes it the quickest way to test a workflow's
logic; whether it really runs on Temporal is for the tests against a real server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, NoReturn

from wflow.model import (
    UPDATE_PID_PREFIX,
    ActivityOptions,
    ErrorKind,
    Event,
    Mailbox,
    Message,
    Peers,
    ProcessClient,
    SpawnOptions,
    SpawnRequest,
    WflowError,
    WorkflowInfo,
    WorkflowRuntime,
    format_pid,
    parse_pid,
)

__all__ = [
    "FAKE_PID",
    "FAKE_START",
    "FAKE_WORKER",
    "FakeCallHandle",
    "FakeChild",
    "FakeContinueAsNew",
    "FakeProcessClient",
    "FakeResult",
    "FakeRuntime",
]

FAKE_START = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)
"""Where a `FakeRuntime`'s workflow clock starts unless told otherwise."""

FAKE_WORKER = "app:temporal_worker"
"""The worker entry ID in the PIDs a fake runtime or process client hands out."""

FAKE_PID = format_pid(FAKE_WORKER, "wf-1")
"""The PID of the workflow running on a `FakeRuntime` (`workflow.pid()` / `process.self()`)."""

FakeResult = Any
"""A canned answer: a value, a `WflowError` (raised as the failure), or a callable.

A callable is called with the call's (or child's) arguments, and its return value is then
taken as the answer (so it may itself return a `WflowError`).
"""


def _answer(result: FakeResult, args: Sequence[Any]) -> Any:
    if callable(result):
        result = result(*args)
    if isinstance(result, WflowError):
        raise result
    return result


class FakeCallHandle:
    """A function call started with `FakeRuntime.start_call` (a `wflow.model.CallHandle`).

    Attributes:
        task: The asyncio task running the call.
        canceled: Whether `cancel` was called.
    """

    def __init__(self, task: asyncio.Task[Any]) -> None:
        """Wrap the task running the call."""
        self.task = task
        self.canceled = False

    def done(self) -> bool:
        """Return whether the call has finished."""
        return self.task.done()

    async def result(self) -> Any:
        """Wait for the call and return its value; raise its `WflowError`."""
        return await asyncio.shield(self.task)

    def cancel(self) -> None:
        """Cancel the call's task."""
        self.canceled = True
        self.task.cancel()


class FakeContinueAsNew(BaseException):
    """What `FakeRuntime.upgrade` raises, like Temporal's `ContinueAsNewError`.

    A `BaseException`, as Temporal's is, so workflow code that catches `Exception` does not
    swallow it.

    Attributes:
        new_args: The arguments of the next run.
        pending: The messages carried over to the next run, oldest first.
    """

    def __init__(self, args: list[Any], pending: list[Message]) -> None:
        """Record the next run's arguments and the carried-over messages."""
        super().__init__("continue as new")
        self.new_args = args
        self.pending = pending


@dataclasses.dataclass
class FakeChild:
    """A child workflow started on a `FakeRuntime` (one item of `FakeRuntime.spawned`).

    Attributes:
        entry: The child's workflow entry ID.
        host: The worker entry asked for, or None for the entry's own worker.
        args: The child's arguments.
        options: The spawn options.
        pid: The child's PID.
        monitored: Whether it posts an `EXIT` event to the parent's mailbox when it ends.
        task: The asyncio task computing its result.
        canceled: Whether the parent canceled it.
        terminated: The reason it was terminated with, or None.
    """

    entry: str
    host: str | None
    args: list[Any]
    options: SpawnOptions
    pid: str
    monitored: bool
    task: asyncio.Task[Any] | None = None
    canceled: bool = False
    terminated: str | None = None


class FakeRuntime:
    """An in-memory `wflow.model.WorkflowRuntime` with a virtual clock.

    Function calls are recorded in `calls` and answered from `results` (after `delays`
    seconds of real time, if given); an unknown function fails with `NOT_FOUND`. Sleeps are
    recorded in `sleeps`, advance the clock at once and take a millionth of their length in
    real time. UUIDs and random seeds derive from `seed`, so a run is reproducible.

    Process half: an in-memory `Mailbox` that the test fills with `deliver` / `deliver_later`;
    children run as asyncio tasks computing `children[entry]` (a `FakeResult`) after
    `child_delays[entry]` seconds and are recorded in `spawned`; messages to other workflows
    are recorded in `sent`, answers to updates (`update:<id>` PIDs) in `replies`; `upgrade`
    raises `FakeContinueAsNew`.

    Example:
        ```python
        runtime = FakeRuntime({"app.api:charge_card": {"ok": True}})
        result = await run_workflow(order_processor, [order], runtime=runtime)
        assert [target for target, _, _ in runtime.calls] == ["app.api:charge_card"]
        ```

    Attributes:
        results: Canned answers of function calls by target (as the workflow names it).
        delays: Seconds of real time a call to a target takes.
        clock: The workflow clock.
        seed: The seed of the deterministic UUIDs and random seeds.
        calls: Every function call made: target, arguments, options.
        sleeps: Every timer started, in order.
        children: Canned results of child workflows by entry ID.
        child_delays: Seconds of real time a child of an entry takes.
        spawned: Every child started, in order.
        sent: Every message sent to another workflow: PID, topic, payload.
        replies: Update answers by update ID: (topic, payload) in order.
        versions: The version `version(change_id, ...)` answers (default: the maximum).
        version_calls: Every `version` call: change ID, minimum, maximum.
        state: The last value given to `set_state`.
        attrs: Every `set_attrs` call: search attributes, memo.
        known_pids: PIDs of workflows that exist besides the children (may receive messages).
        names: Registered process names (`process.registry`): name -> PID.
        history_length: What `info().history_length` reports.
    """

    def __init__(
        self,
        results: Mapping[str, FakeResult] | None = None,
        *,
        now: datetime = FAKE_START,
        seed: int = 42,
        delays: Mapping[str, float] | None = None,
        children: Mapping[str, FakeResult] | None = None,
        child_delays: Mapping[str, float] | None = None,
        versions: Mapping[str, int] | None = None,
        known_pids: Sequence[str] = (),
    ) -> None:
        """Create a runtime.

        Args:
            results: Canned answers of function calls by target.
            now: Where the workflow clock starts.
            seed: Seed of the deterministic UUIDs and random seeds.
            delays: Seconds of real time a call to a target takes.
            children: Canned results of child workflows by entry ID.
            child_delays: Seconds of real time a child of an entry takes.
            versions: Versions to answer by change ID (default: the newest allowed).
            known_pids: PIDs of other workflows that exist and may receive messages.
        """
        self.results: dict[str, FakeResult] = dict(results or {})
        self.delays: dict[str, float] = dict(delays or {})
        self.clock = now
        self.seed = seed
        self.calls: list[tuple[str, list[Any], ActivityOptions]] = []
        self.sleeps: list[timedelta] = []
        self._uuids = 0
        self._mailbox = Mailbox()
        self.children: dict[str, FakeResult] = dict(children or {})
        self.child_delays: dict[str, float] = dict(child_delays or {})
        self.spawned: list[FakeChild] = []
        self.sent: list[tuple[str, str, Any]] = []
        self.replies: dict[str, list[tuple[str, Any]]] = {}
        self.versions: dict[str, int] = dict(versions or {})
        self.version_calls: list[tuple[str, int, int]] = []
        self.state: Any = None
        self.attrs: list[tuple[Any, Any]] = []
        self.known_pids = set(known_pids)
        self.peers = Peers()
        self.peer_calls: list[tuple[str, str]] = []
        self.link_failures: list[WflowError] = []
        self.names: dict[str, str] = {}
        self.history_length = 3

    # -- driving the workflow from the test ------------------------------------------------

    def deliver(self, topic: str, payload: Any = None, sender: str | None = None) -> None:
        """Deliver a message now, as a signal (or an update, sender `update:<id>`) would.

        Args:
            topic: The message's topic (the signal name).
            payload: Its payload.
            sender: The sender's PID, or None for a message from outside any workflow.
        """
        self._mailbox.deliver(Message(topic, payload, sender))

    def deliver_later(
        self, delay: float, topic: str, payload: Any = None, sender: str | None = None
    ) -> None:
        """Deliver a message after `delay` seconds of real time (needs a running loop).

        Args:
            delay: Seconds to wait.
            topic: The message's topic.
            payload: Its payload.
            sender: The sender's PID, or None.
        """
        asyncio.get_running_loop().call_later(delay, self.deliver, topic, payload, sender)

    def child(self, pid: str) -> FakeChild:
        """Return the child started with PID `pid`.

        Raises:
            KeyError: No child has that PID.
        """
        for child in self.spawned:
            if child.pid == pid:
                return child
        raise KeyError(pid)

    # -- WorkflowRuntime ------------------------------------------------------------------

    def info(self) -> WorkflowInfo:
        """Return facts about the fake run (workflow ID `wf-1`, entry `app:wf`)."""
        return WorkflowInfo(
            "wf-1", "run-1", "app:wf", "orders", "default", 1, self.history_length, "app:wf"
        )

    def now(self) -> datetime:
        """Return the virtual clock."""
        return self.clock

    def uuid4(self) -> uuid.UUID:
        """Return the next UUID derived from the seed."""
        self._uuids += 1
        return uuid.UUID(int=(self.seed << 64) | self._uuids, version=4)

    def uuid7(self) -> uuid.UUID:
        """Return the next version-7 UUID derived from the seed."""
        self._uuids += 1
        value = (self.seed << 64) | self._uuids
        value = (value & ~(0xF << 76)) | (0x7 << 76)
        value = (value & ~(0x3 << 62)) | (0x2 << 62)
        return uuid.UUID(int=value)

    def random_seed(self) -> int:
        """Return the seed."""
        return self.seed

    async def sleep(self, duration: timedelta) -> None:
        """Record the timer and advance the clock by `duration`."""
        self.sleeps.append(duration)
        await asyncio.sleep(duration.total_seconds() / 1e6)
        self.clock = max(self.clock, self.clock + duration)

    async def call(self, target: str, args: Sequence[Any], options: ActivityOptions) -> Any:
        """Record the call and answer it from `results`.

        Raises:
            WflowError: `NOT_FOUND` for a target without a canned result, or the canned error.
        """
        self.calls.append((target, list(args), options))
        await asyncio.sleep(self.delays.get(target, 0.0))
        if target not in self.results:
            raise WflowError(f"no such function {target}", "NOT_FOUND")
        return _answer(self.results[target], args)

    def start_call(
        self, target: str, args: Sequence[Any], options: ActivityOptions
    ) -> FakeCallHandle:
        """Start `call` as a task and return its handle."""
        task = asyncio.get_running_loop().create_task(self.call(target, args, options))
        return FakeCallHandle(task)

    def pid(self) -> str:
        """Return `FAKE_PID`."""
        return FAKE_PID

    def mailbox(self) -> Mailbox:
        """Return the run's mailbox."""
        return self._mailbox

    async def send(self, pid: str, topic: str, payload: Any) -> None:
        """Record a message to `pid` (in `sent`), or an update answer (in `replies`).

        Raises:
            WflowError: `INVALID` for a malformed PID; `NOT_FOUND` when `pid` is neither a
                child nor one of `known_pids`.
        """
        await asyncio.sleep(0)
        if pid.startswith(UPDATE_PID_PREFIX):
            self.replies.setdefault(pid.removeprefix(UPDATE_PID_PREFIX), []).append(
                (topic, payload)
            )
            return
        parse_pid(pid)
        if pid not in self.known_pids and not any(c.pid == pid for c in self.spawned):
            raise WflowError(f"no workflow {pid}", ErrorKind.NOT_FOUND)
        self.sent.append((pid, topic, payload))

    async def spawn(self, request: SpawnRequest) -> str:
        """Start a child computing `children[request.entry]`; return its PID.

        Raises:
            WflowError: `NOT_FOUND` for an entry without a canned result.
        """
        entry, host, args, options = request.entry, request.host, request.args, request.options
        await asyncio.sleep(0)
        if entry not in self.children:
            raise WflowError(f"no workflow entry {entry}", ErrorKind.NOT_FOUND)
        workflow_id = options.workflow_id_for(entry) or f"child-{len(self.spawned) + 1}"
        pid = format_pid(host or FAKE_WORKER, workflow_id)
        for existing in self.spawned:
            running = existing.task is not None and not existing.task.done()
            if existing.pid == pid and running and options.conflict_policy() == "use_existing":
                return pid
        child = FakeChild(entry, host, list(args), options, pid, options.monitored)
        child.task = asyncio.get_running_loop().create_task(self._run_child(child))
        # Nobody may wait for a child; its failure is no unhandled task error.
        child.task.add_done_callback(lambda t: t.cancelled() or t.exception())
        self.spawned.append(child)
        return pid

    async def _run_child(self, child: FakeChild) -> Any:
        try:
            await asyncio.sleep(self.child_delays.get(child.entry, 0.0))
            result = _answer(self.children[child.entry], child.args)
        except asyncio.CancelledError:
            error = WflowError(
                "terminated" if child.terminated else "child workflow canceled",
                ErrorKind.CANCELED,
            )
            self._child_ended(child.pid, None, error)
            raise error from None
        except WflowError as exc:
            self._child_ended(child.pid, None, exc)
            raise
        self._child_ended(child.pid, result, None)
        return result

    def _child_ended(self, pid: str, value: Any, error: WflowError | None) -> None:
        # As on Temporal: every child reports EXIT (unless unmonitored); a linked child's
        # abnormal end is LINK_DOWN when trapped, else recorded in `link_failures`.
        outcome = self.peers.link_down(pid, error) if pid in self.peers.links else None
        if isinstance(outcome, Event):
            self._mailbox.post_event(outcome)
        elif outcome is not None:
            self.link_failures.append(outcome)
        exit_event = self.peers.exit_event(pid, value, error)
        if exit_event is not None:
            self._mailbox.post_event(exit_event)

    async def monitor(self, pid: str) -> None:
        """Record `("monitor", pid)` in `peer_calls`."""
        await asyncio.sleep(0)
        parse_pid(pid)
        self.peer_calls.append(("monitor", pid))
        self.peers.monitor(pid)

    async def unmonitor(self, pid: str) -> None:
        """Record `("unmonitor", pid)`; the child's `EXIT` is dropped."""
        await asyncio.sleep(0)
        self.peer_calls.append(("unmonitor", pid))
        self.peers.unmonitor(pid)

    async def link(self, pid: str) -> None:
        """Record `("link", pid)`; a linked child's failure is `LINK_DOWN` or a link failure."""
        await asyncio.sleep(0)
        parse_pid(pid)
        self.peer_calls.append(("link", pid))
        self.peers.link(pid)

    async def unlink(self, pid: str) -> None:
        """Record `("unlink", pid)`."""
        await asyncio.sleep(0)
        self.peer_calls.append(("unlink", pid))
        self.peers.unlink(pid)

    def process_options(self) -> dict[str, Any]:
        """Return the process options (`trap_links`)."""
        return self.peers.options()

    def set_process_options(self, changes: Mapping[str, Any]) -> None:
        """Apply process options."""
        self.peers.set_options(changes)

    async def wait(self, pid: str) -> Any:
        """Wait for child `pid` and return its result; raise its `WflowError`."""
        task = self.child(pid).task
        assert task is not None
        return await asyncio.shield(task)

    async def cancel(self, pid: str, reason: str | None = None) -> None:
        """Cancel child `pid`.

        Raises:
            WflowError: `NOT_FOUND` when no child has that PID.
        """
        await asyncio.sleep(0)
        try:
            child = self.child(pid)
        except KeyError:
            raise WflowError(f"no workflow {pid}", ErrorKind.NOT_FOUND) from None
        child.canceled = True
        assert child.task is not None
        child.task.cancel()

    async def terminate(self, pid: str, reason: str | None = None) -> None:
        """Terminate child `pid`."""
        await asyncio.sleep(0)
        child = self.child(pid)
        child.terminated = reason or "terminated"
        assert child.task is not None
        child.task.cancel()

    async def register_name(self, name: str, pid: str | None) -> None:
        """Record `name` for `pid` (default `FAKE_PID`) in `names`."""
        await asyncio.sleep(0)
        self.names[name] = pid or FAKE_PID

    async def lookup_name(self, name: str) -> str | None:
        """Return `names[name]`, or None."""
        await asyncio.sleep(0)
        return self.names.get(name)

    def version(self, change_id: str, min_version: int, max_version: int) -> int:
        """Record the call; answer `versions[change_id]`, by default `max_version`.

        Raises:
            WflowError: `INVALID` when the configured version is outside the range.
        """
        self.version_calls.append((change_id, min_version, max_version))
        version = self.versions.get(change_id, max_version)
        if not min_version <= version <= max_version:
            raise WflowError(
                f"version {version} of {change_id!r} is outside {min_version}..{max_version}",
                ErrorKind.INVALID,
            )
        return version

    def set_state(self, value: Any) -> None:
        """Keep `value` in `state`."""
        self.state = value

    def set_attrs(self, search: Mapping[str, Any] | None, memo: Mapping[str, Any] | None) -> None:
        """Record the upsert in `attrs`."""
        self.attrs.append((search, memo))

    def upgrade(self, args: Sequence[Any]) -> NoReturn:
        """Raise `FakeContinueAsNew` with `args` and the unreceived messages."""
        raise FakeContinueAsNew(list(args), self._mailbox.drain())


class FakeProcessClient:
    """A blocking `wflow.model.ProcessClient` that records and runs nothing.

    For code outside workflows (functions, scripts) that spawns and messages workflows:
    `spawn` hands out PIDs for entries with a canned result in `results`, `result` answers
    from it.

    Attributes:
        results: Canned results of workflows by entry ID (each a `FakeResult`).
        spawned: Every workflow started: entry, host, arguments, options.
        sent: Every message sent: PID, topic, payload.
        canceled: Every PID canceled.
        cancel_reasons: The reason given with each cancellation, by PID.
        terminated: Every termination: PID, reason.
        pids: Entry and arguments of each PID handed out.
    """

    def __init__(self, results: Mapping[str, FakeResult] | None = None) -> None:
        """Create a client answering workflows of the entries in `results`."""
        self.results: dict[str, FakeResult] = dict(results or {})
        self.spawned: list[tuple[str, str | None, list[Any], SpawnOptions]] = []
        self.sent: list[tuple[str, str, Any]] = []
        self.canceled: list[str] = []
        self.cancel_reasons: dict[str, str | None] = {}
        self.terminated: list[tuple[str, str | None]] = []
        self.pids: dict[str, tuple[str, list[Any]]] = {}

    def spawn(self, request: SpawnRequest) -> str:
        """Record the start and return the new workflow's PID.

        Raises:
            WflowError: `NOT_FOUND` for an entry without a canned result.
        """
        entry, host, args, options = request.entry, request.host, request.args, request.options
        if entry not in self.results:
            raise WflowError(f"no workflow entry {entry}", ErrorKind.NOT_FOUND)
        self.spawned.append((entry, host, list(args), options))
        workflow_id = options.workflow_id_for(entry) or f"wf-{len(self.spawned)}"
        pid = format_pid(host or FAKE_WORKER, workflow_id)
        self.pids[pid] = (entry, list(args))
        return pid

    def send(self, pid: str, topic: str, payload: Any) -> None:
        """Record the message.

        Raises:
            WflowError: `INVALID` for a malformed PID.
        """
        parse_pid(pid)
        self.sent.append((pid, topic, payload))

    def result(self, pid: str) -> Any:
        """Answer the canned result of the workflow's entry.

        Raises:
            WflowError: `NOT_FOUND` for a PID this client did not hand out, or the canned
                error.
        """
        if pid not in self.pids:
            raise WflowError(f"no workflow {pid}", ErrorKind.NOT_FOUND)
        entry, args = self.pids[pid]
        return _answer(self.results[entry], args)

    def cancel(self, pid: str, reason: str | None = None) -> None:
        """Record the cancellation (its reason in `cancel_reasons`)."""
        self.canceled.append(pid)
        self.cancel_reasons[pid] = reason

    def terminate(self, pid: str, reason: str | None = None) -> None:
        """Record the termination."""
        self.terminated.append((pid, reason))


if TYPE_CHECKING:  # both fakes implement their protocols (checked by mypy only)

    def _runtime(runtime: FakeRuntime) -> WorkflowRuntime:
        return runtime

    def _client(client: FakeProcessClient) -> ProcessClient:
        return client
