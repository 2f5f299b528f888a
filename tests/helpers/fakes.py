"""Shared fakes for the Lua bridge tests: an in-memory WorkflowRuntime and registry entries."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tests.helpers.paths import FIXTURES as REPO_FIXTURES
from wflow.model import (
    UPDATE_PID_PREFIX,
    ActivityOptions,
    ErrorKind,
    Event,
    Mailbox,
    Message,
    SpawnOptions,
    WflowError,
    WorkflowInfo,
    format_pid,
    parse_pid,
)

FIXTURES = REPO_FIXTURES / "lua"
START = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)


@dataclasses.dataclass
class FakeLimits:
    max_memory: int | str | None = None
    max_instructions: int | None = None


@dataclasses.dataclass
class FakeEntry:
    id: str
    path: Path
    kind: str = "workflow.lua"
    method: str = "main"
    modules: list[str] = dataclasses.field(
        default_factory=lambda: ["funcs", "time", "uuid", "json", "errors", "workflow", "channel"]
    )
    imports: dict[str, str] = dataclasses.field(default_factory=dict)
    limits: Any = None
    file: str = "/project/_index.yaml"
    line: int | None = 7

    @property
    def namespace(self) -> str:
        return self.id.split(":", 1)[0]

    @property
    def source(self) -> str:
        return f"file://{self.path.name}"

    def source_path(self) -> Path:
        return self.path


class FakeRegistry:
    def __init__(self, *entries: FakeEntry) -> None:
        self.entries = {e.id: e for e in entries}

    def get(self, entry_id: str) -> FakeEntry:
        return self.entries[entry_id]

    def resolve(self, ref: str, namespace: str) -> str:
        full = ref if ":" in ref else f"{namespace}:{ref}"
        if full not in self.entries:
            raise KeyError(full)
        return full


def lua_entry(tmp_path: Path, source: str, name: str = "wf", **kwargs: Any) -> FakeEntry:
    path = tmp_path / f"{name}.lua"
    path.write_text(source, encoding="utf-8")
    return FakeEntry(id=f"app:{name}", path=path, **kwargs)


async def run_workflow(
    tmp_path: Path,
    source: str,
    args: Sequence[Any] = (),
    runtime: FakeRuntime | None = None,
    **kwargs: Any,
) -> Any:
    from lua_bridge import LuaEngine

    entry = lua_entry(tmp_path, source, **kwargs)
    program = LuaEngine().workflow_program(entry, None)
    return await program.run(runtime or FakeRuntime(), args)


def run_sync(tmp_path: Path, source: str, args: Sequence[Any] = (), **kwargs: Any) -> Any:
    return asyncio.run(run_workflow(tmp_path, source, args, **kwargs))


class FakeHandle:
    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.canceled = False

    def done(self) -> bool:
        return self.task.done()

    async def result(self) -> Any:
        return await asyncio.shield(self.task)

    def cancel(self) -> None:
        self.canceled = True
        self.task.cancel()


Result = Any | Callable[..., Any]


WORKER = "app:temporal_worker"
SELF_PID = format_pid(WORKER, "wf-1")


class FakeContinueAsNew(BaseException):
    """What `FakeRuntime.upgrade` raises (like Temporal's ContinueAsNewError, a BaseException)."""

    def __init__(self, args: list[Any], pending: list[Message]) -> None:
        super().__init__("continue as new")
        self.new_args = args
        self.pending = pending


@dataclasses.dataclass
class FakeChild:
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
    """Records intercepted calls; returns canned results; virtual clock advanced by sleeps.

    Process half: an in-memory `Mailbox` (`deliver` puts messages in), children run as asyncio
    tasks computing `children[entry](*args)` (a value, a `WflowError` to fail, or a callable)
    after `child_delays[entry]` seconds; update replies are collected in `replies`.
    """

    def __init__(
        self,
        results: dict[str, Result] | None = None,
        *,
        now: datetime = START,
        seed: int = 42,
        delays: dict[str, float] | None = None,
        children: dict[str, Result] | None = None,
        child_delays: dict[str, float] | None = None,
        versions: dict[str, int] | None = None,
        known_pids: Sequence[str] = (),
    ) -> None:
        self.results = results or {}
        self.delays = delays or {}
        self.clock = now
        self.seed = seed
        self.calls: list[tuple[str, list[Any], ActivityOptions]] = []
        self.sleeps: list[timedelta] = []
        self._uuids = 0
        self._mailbox = Mailbox()
        self.children = children or {}
        self.child_delays = child_delays or {}
        self.spawned: list[FakeChild] = []
        self.sent: list[tuple[str, str, Any]] = []
        self.replies: dict[str, list[tuple[str, Any]]] = {}
        self.versions = versions or {}
        self.version_calls: list[tuple[str, int, int]] = []
        self.state: Any = None
        self.attrs: list[tuple[Any, Any]] = []
        self.known_pids = set(known_pids)
        self.history_length = 3

    # -- test helpers -------------------------------------------------------------------

    def deliver(self, topic: str, payload: Any = None, sender: str | None = None) -> None:
        """Deliver a message as a signal (or an update, with sender `update:<id>`) would."""
        self._mailbox.deliver(Message(topic, payload, sender))

    def deliver_later(
        self, delay: float, topic: str, payload: Any = None, sender: str | None = None
    ) -> None:
        asyncio.get_running_loop().call_later(delay, self.deliver, topic, payload, sender)

    def child(self, pid: str) -> FakeChild:
        for child in self.spawned:
            if child.pid == pid:
                return child
        raise KeyError(pid)

    def info(self) -> WorkflowInfo:
        return WorkflowInfo(
            "wf-1", "run-1", "app:wf", "orders", "default", 1, self.history_length, "app:wf"
        )

    def now(self) -> datetime:
        return self.clock

    def uuid4(self) -> uuid.UUID:
        self._uuids += 1
        return uuid.UUID(int=(self.seed << 64) | self._uuids, version=4)

    def uuid7(self) -> uuid.UUID:
        self._uuids += 1
        value = (self.seed << 64) | self._uuids
        value = (value & ~(0xF << 76)) | (0x7 << 76)
        value = (value & ~(0x3 << 62)) | (0x2 << 62)
        return uuid.UUID(int=value)

    def random_seed(self) -> int:
        return self.seed

    async def sleep(self, duration: timedelta) -> None:
        self.sleeps.append(duration)
        await asyncio.sleep(duration.total_seconds() / 1e6)
        self.clock = max(self.clock, self.clock + duration)

    async def call(self, target: str, args: Sequence[Any], options: ActivityOptions) -> Any:
        self.calls.append((target, list(args), options))
        delay = self.delays.get(target, 0.0)
        if delay:
            await asyncio.sleep(delay)
        else:
            await asyncio.sleep(0)
        if target not in self.results:
            raise WflowError(f"no such function {target}", "NOT_FOUND")
        result = self.results[target]
        if callable(result):
            result = result(*args)
        if isinstance(result, WflowError):
            raise result
        return result

    def start_call(self, target: str, args: Sequence[Any], options: ActivityOptions) -> FakeHandle:
        task = asyncio.get_running_loop().create_task(self.call(target, args, options))
        return FakeHandle(task)

    # -- process half ---------------------------------------------------------------------

    def pid(self) -> str:
        return SELF_PID

    def mailbox(self) -> Mailbox:
        return self._mailbox

    async def send(self, pid: str, topic: str, payload: Any) -> None:
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

    async def spawn(
        self,
        entry: str,
        host: str | None,
        args: Sequence[Any],
        options: SpawnOptions,
        *,
        monitored: bool = False,
    ) -> str:
        await asyncio.sleep(0)
        if entry not in self.children:
            raise WflowError(f"no workflow entry {entry}", ErrorKind.NOT_FOUND)
        workflow_id = options.workflow_id_for(entry) or f"child-{len(self.spawned) + 1}"
        pid = format_pid(host or WORKER, workflow_id)
        for existing in self.spawned:
            running = existing.task is not None and not existing.task.done()
            if existing.pid == pid and running and options.conflict_policy() == "use_existing":
                return pid
        child = FakeChild(entry, host, list(args), options, pid, monitored)
        child.task = asyncio.get_running_loop().create_task(self._run_child(child))
        # Nobody may wait for a child; its failure is no unhandled task error.
        child.task.add_done_callback(lambda t: t.cancelled() or t.exception())
        self.spawned.append(child)
        return pid

    async def _run_child(self, child: FakeChild) -> Any:
        try:
            await asyncio.sleep(self.child_delays.get(child.entry, 0.0))
            result = self.children[child.entry]
            if callable(result):
                result = result(*child.args)
            if isinstance(result, WflowError):
                raise result
        except asyncio.CancelledError:
            error = WflowError(
                "terminated" if child.terminated else "child workflow canceled",
                ErrorKind.CANCELED,
            )
            if child.monitored:
                self._mailbox.post_event(Event("EXIT", child.pid, None, error))
            raise error from None
        except WflowError as exc:
            if child.monitored:
                self._mailbox.post_event(Event("EXIT", child.pid, None, exc))
            raise
        if child.monitored:
            self._mailbox.post_event(Event("EXIT", child.pid, result, None))
        return result

    async def wait(self, pid: str) -> Any:
        task = self.child(pid).task
        assert task is not None
        return await asyncio.shield(task)

    async def cancel(self, pid: str) -> None:
        await asyncio.sleep(0)
        try:
            child = self.child(pid)
        except KeyError:
            raise WflowError(f"no workflow {pid}", ErrorKind.NOT_FOUND) from None
        child.canceled = True
        assert child.task is not None
        child.task.cancel()

    async def terminate(self, pid: str, reason: str | None = None) -> None:
        await asyncio.sleep(0)
        child = self.child(pid)
        child.terminated = reason or "terminated"
        assert child.task is not None
        child.task.cancel()

    def version(self, change_id: str, min_version: int, max_version: int) -> int:
        self.version_calls.append((change_id, min_version, max_version))
        version = self.versions.get(change_id, max_version)
        if not min_version <= version <= max_version:
            raise WflowError(
                f"version {version} of {change_id!r} is outside {min_version}..{max_version}",
                ErrorKind.INVALID,
            )
        return version

    def set_state(self, value: Any) -> None:
        self.state = value

    def set_attrs(self, search: Any, memo: Any) -> None:
        self.attrs.append((search, memo))

    def upgrade(self, args: Sequence[Any]) -> Any:
        raise FakeContinueAsNew(list(args), self._mailbox.drain())


class FakeProcessClient:
    """A blocking `ProcessClient` for function.lua tests: records, and runs nothing."""

    def __init__(self, results: dict[str, Any] | None = None) -> None:
        self.results = results or {}
        self.spawned: list[tuple[str, str | None, list[Any], SpawnOptions]] = []
        self.sent: list[tuple[str, str, Any]] = []
        self.canceled: list[str] = []
        self.terminated: list[tuple[str, str | None]] = []
        self.pids: dict[str, tuple[str, list[Any]]] = {}

    def spawn(
        self, entry: str, host: str | None, args: Sequence[Any], options: SpawnOptions
    ) -> str:
        if entry not in self.results:
            raise WflowError(f"no workflow entry {entry}", ErrorKind.NOT_FOUND)
        self.spawned.append((entry, host, list(args), options))
        workflow_id = options.workflow_id_for(entry) or f"wf-{len(self.spawned)}"
        pid = format_pid(host or WORKER, workflow_id)
        self.pids[pid] = (entry, list(args))
        return pid

    def send(self, pid: str, topic: str, payload: Any) -> None:
        parse_pid(pid)
        self.sent.append((pid, topic, payload))

    def result(self, pid: str) -> Any:
        if pid not in self.pids:
            raise WflowError(f"no workflow {pid}", ErrorKind.NOT_FOUND)
        entry, args = self.pids[pid]
        result = self.results[entry]
        if callable(result):
            result = result(*args)
        if isinstance(result, WflowError):
            raise result
        return result

    def cancel(self, pid: str) -> None:
        self.canceled.append(pid)

    def terminate(self, pid: str, reason: str | None = None) -> None:
        self.terminated.append((pid, reason))
