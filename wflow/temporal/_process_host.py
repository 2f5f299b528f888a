"""A `process.host` instance: the processes it runs, their mailboxes, exits and names.

One `ProcessHost` per `process.host` entry runs inside each `wflow worker` / `wflow dev` /
`wflow run` (a `Session`). Each start of a host is an *instance* with a random name; the PIDs of
its processes are `<host entry ID>/<instance>-<n>`, so a PID names the host and the instance
that holds the process. Everything here is in memory: when the host stops, its processes are
gone (a process is not durable; a workflow is).

How messages reach a host from elsewhere is `_process_transport.py`'s business; this module
is what happens once they arrived.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from wflow.model import (
    ErrorKind,
    Event,
    Message,
    ProcessClient,
    SpawnOptions,
    WflowError,
    WorkflowProgram,
    engine_for,
    link_down_first,
)
from wflow.registry import PROCESS_KINDS, ProcessHostEntry, Registry
from wflow.temporal._process_clock import SkipGuard
from wflow.temporal._process_runtime import ProcessRuntime

if TYPE_CHECKING:
    from wflow.temporal._process_router import ProcessRouter

__all__ = [
    "CANCEL_GRACE",
    "ProcessExit",
    "ProcessHost",
    "ProcessSummary",
    "host_queue",
    "instance_queue",
    "pid_queue",
    "queue_prefix",
    "split_process_pid",
]

CANCEL_GRACE = 5.0
"""Seconds a process has, after its `CANCEL` event, to end before it is terminated."""

_log = logging.getLogger("wflow.processes")
_KEPT_EXITS = 1000


def queue_prefix(registry: Registry) -> str:
    """Return the `tq_prefix` of process-host task queues: the project's default client's.

    Hosts have no `client` of their own; they poll through the default client (the first
    `temporal.client`), so its prefix keeps two projects (or two test runs) sharing a
    server apart, as it does for workflow task queues.
    """
    clients = registry.clients()
    return clients[0].tq_prefix if clients else ""


def host_queue(registry: Registry, host_id: str) -> str:
    """Return the task queue every instance of host `host_id` polls (spawns, name lookups)."""
    return f"{queue_prefix(registry)}wflow-processes/{host_id}"


def instance_queue(registry: Registry, host_id: str, instance: str) -> str:
    """Return the task queue of one instance of a host (messages to its processes)."""
    return f"{queue_prefix(registry)}wflow-processes/{host_id}/{instance}"


def pid_queue(registry: Registry, pid: str) -> str:
    """Return the task queue of the host instance that holds process `pid`."""
    return instance_queue(registry, *split_process_pid(pid))


def split_process_pid(pid: str) -> tuple[str, str]:
    """Return `(host entry ID, instance)` of a process PID `<host>/<instance>-<n>`.

    Raises:
        WflowError: `INVALID` when `pid` is not of that form.
    """
    host_id, _, local = pid.partition("/")
    instance, dash, number = local.partition("-")
    if ":" not in host_id or not instance or not dash or not number.isdigit():
        raise WflowError(
            f"invalid process PID {pid!r}: expected '<process.host entry ID>/<instance>-<n>'",
            ErrorKind.INVALID,
        )
    return host_id, instance


@dataclasses.dataclass(frozen=True)
class ProcessExit:
    """How a process ended: its value, or its error."""

    value: Any = None
    error: WflowError | None = None


@dataclasses.dataclass(frozen=True)
class ProcessSummary:
    """One running process, as `wflow ls` shows it."""

    pid: str
    entry_id: str
    started: float
    service: str | None
    state: Any


@dataclasses.dataclass
class _Running:
    pid: str
    entry_id: str
    runtime: ProcessRuntime
    task: asyncio.Task[Any]
    started: float
    monitors: set[str]
    service: str | None = None
    terminated: str | None = None


ExitListener = Callable[[str, str, ProcessExit], None]
"""Told `(pid, entry ID, exit)` whenever a process of the host ends (the supervisor)."""


async def _run(program: WorkflowProgram, runtime: ProcessRuntime, args: list[Any]) -> Any:
    """Run a process's code until it ends, or an untrapped link failure ends it."""
    main = asyncio.ensure_future(program.run(runtime, args))
    try:
        down_first = await link_down_first(main, runtime.down)
    except asyncio.CancelledError:  # terminated, canceled late, or the host stops
        main.cancel()
        raise
    if down_first and runtime.link_error is not None:
        raise runtime.link_error
    return await main


class ProcessHost:
    """One running instance of a `process.host` entry.

    Args:
        entry: The host entry.
        registry: The project.
        router: Reaches workflows and processes elsewhere (for the processes' own calls).
        namespace: The Temporal namespace (reported in `workflow.info()`).
        blocking_client: Makes the blocking process API for functions a process calls.
    """

    def __init__(
        self,
        entry: ProcessHostEntry,
        registry: Registry,
        router: ProcessRouter,
        namespace: str,
        blocking_client: Callable[[], ProcessClient | None],
    ) -> None:
        self.entry = entry
        self.host_id = entry.id
        self.registry = registry
        self.router = router
        self.namespace = namespace
        self.instance = secrets.token_hex(4)
        self.instance_queue = instance_queue(registry, entry.id, self.instance)
        self._blocking_client = blocking_client
        self._processes: dict[str, _Running] = {}
        self._exits: dict[str, asyncio.Future[ProcessExit]] = {}
        # How the latest processes ended, for a `result` asked after the end.
        self._ended_recently: collections.OrderedDict[str, ProcessExit] = collections.OrderedDict()
        self._names: dict[str, str] = {}
        self._next = 0
        self._listeners: list[ExitListener] = []
        self._stopping = False
        # Replaced by one that holds time when the server is the time-skipping one.
        self.guard = SkipGuard()

    def blocking_client(self) -> ProcessClient | None:
        """The blocking process API for functions the host's processes call."""
        return self._blocking_client()

    def on_exit(self, listener: ExitListener) -> None:
        """Tell `listener` about every process exit."""
        self._listeners.append(listener)

    # -- spawning ------------------------------------------------------------------------

    def spawn(
        self,
        entry_ref: str,
        args: Sequence[Any],
        options: SpawnOptions,
        *,
        monitor: str | None = None,
        service: str | None = None,
        namespace: str = "",
    ) -> str:
        """Start process `entry_ref` here and return its PID.

        Args:
            entry_ref: A process entry ID (or bare name in `namespace`).
            args: Its arguments.
            options: Spawn options: `messages` are delivered first, in order (also to the
                running process a taken `name` returns); `name` registers the PID.
            monitor: A PID told (`EXIT` event) when the process ends.
            service: The service entry this process runs for, if any.
            namespace: Where a bare `entry_ref` resolves.

        Raises:
            WflowError: `NOT_FOUND` / `INVALID` for a bad entry, `RATE_LIMITED` when the host
                runs `max_processes` already, `UNAVAILABLE` while the host stops.
        """
        if self._stopping:
            raise WflowError(f"process host {self.host_id} is stopping", ErrorKind.UNAVAILABLE)
        entry = self.registry.get(self.registry.resolve(entry_ref, namespace, PROCESS_KINDS))
        if options.name is not None and options.name in self._names:
            existing = self._names[options.name]
            if existing in self._processes:
                for topic, payload in options.messages:
                    self.deliver(existing, Message(topic, payload, monitor))
                return existing
        limit = self.entry.host.max_processes
        if len(self._processes) >= limit:
            raise WflowError(
                f"process host {self.host_id} runs {limit} processes already (host.max_processes)",
                ErrorKind.RATE_LIMITED,
            )
        program = engine_for(entry.kind).workflow_program(entry, self.registry)
        self._next += 1
        pid = f"{self.host_id}/{self.instance}-{self._next}"
        bound = int(getattr(entry, "mailbox_bound", 1000))
        runtime = ProcessRuntime(self, entry.id, pid, bound)
        for topic, payload in options.messages:
            runtime.mailbox().deliver(Message(topic, payload, monitor))
        self.guard.kick()  # the new process runs its start until it first waits
        task = asyncio.get_running_loop().create_task(_run(program, runtime, list(args)))
        running = _Running(pid, entry.id, runtime, task, time.time(), set(), service)
        if monitor is not None:
            running.monitors.add(monitor)
        self._processes[pid] = running
        self._exits[pid] = asyncio.get_running_loop().create_future()
        if options.name is not None:
            self._names[options.name] = pid
        task.add_done_callback(lambda t: self._ended(running, t))
        _log.debug("process %s started (%s)", pid, entry.id)
        return pid

    def _ended(self, running: _Running, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            reason = running.terminated or "canceled"
            outcome = ProcessExit(error=WflowError(reason, ErrorKind.CANCELED))
        elif isinstance(task.exception(), WflowError):
            outcome = ProcessExit(error=task.exception())  # type: ignore[arg-type]
        elif task.exception() is not None:
            exc = task.exception()
            outcome = ProcessExit(error=WflowError(str(exc), ErrorKind.INTERNAL))
        else:
            outcome = ProcessExit(value=task.result())
        self._processes.pop(running.pid, None)
        for name in [n for n, p in self._names.items() if p == running.pid]:
            del self._names[name]
        self._ended_recently[running.pid] = outcome
        while len(self._ended_recently) > _KEPT_EXITS:
            self._ended_recently.popitem(last=False)
        future = self._exits.pop(running.pid, None)
        if future is not None and not future.done():
            future.set_result(outcome)
        for listener in self._listeners:
            listener(running.pid, running.entry_id, outcome)
        for monitor in running.monitors:
            self.guard.begin()
            telling = self.router.notify_exit(monitor, running.pid, outcome)
            telling.add_done_callback(lambda _: self.guard.end())
        if outcome.error is not None:
            for peer in sorted(running.runtime.peers.links):
                self.guard.begin()
                telling = self.router.notify_link_down(peer, running.pid, outcome)
                telling.add_done_callback(lambda _: self.guard.end())

    # -- operations on running processes ----------------------------------------------------

    def _running(self, pid: str) -> _Running:
        running = self._processes.get(pid)
        if running is None:
            raise WflowError(f"no process {pid} (it ended, or its host restarted)", "NOT_FOUND")
        return running

    def deliver(self, pid: str, message: Message) -> None:
        """Put `message` in the mailbox of process `pid`.

        Raises:
            WflowError: `NOT_FOUND` when no such process runs here; `RATE_LIMITED` when its
                mailbox holds `mailbox_bound` unreceived messages.
        """
        mailbox = self._running(pid).runtime.mailbox()
        if not mailbox.has_room():
            raise WflowError(
                f"the mailbox of {pid} is full",
                ErrorKind.RATE_LIMITED,
                details={"pending": mailbox.pending(), "bound": mailbox.bound},
            )
        mailbox.deliver(message)
        self.guard.kick()

    def post_event(self, pid: str, event: Event) -> None:
        """Put `event` on the events channel of process `pid` (ignored when it ended).

        An `EXIT` of a peer the process unmonitored is dropped.
        """
        running = self._processes.get(pid)
        if running is None:
            return
        if event.kind == "EXIT" and event.sender is not None:
            kept = running.runtime.peers.exit_event(event.sender, event.value, event.error)
            if kept is None:
                return
        running.runtime.mailbox().post_event(event)
        self.guard.kick()

    def _ended_earlier(self, pid: str) -> ProcessExit:
        outcome = self._ended_recently.get(pid)
        if outcome is None:
            raise WflowError(f"no process {pid} (it ended, or its host restarted)", "NOT_FOUND")
        return outcome

    def monitor(self, pid: str, watcher: str) -> None:
        """Tell `watcher` (`EXIT` event) when process `pid` ends (now, if it just ended)."""
        running = self._processes.get(pid)
        if running is not None:
            running.monitors.add(watcher)
            return
        self.router.notify_exit(watcher, pid, self._ended_earlier(pid))

    def unmonitor(self, pid: str, watcher: str) -> None:
        """Stop telling `watcher` about the end of process `pid`."""
        running = self._processes.get(pid)
        if running is not None:
            running.monitors.discard(watcher)

    def link(self, pid: str, peer: str) -> None:
        """Link process `pid` to `peer` (told `LINK_DOWN` now if `pid` just failed)."""
        running = self._processes.get(pid)
        if running is not None:
            running.runtime.peers.link(peer)
            return
        outcome = self._ended_earlier(pid)
        if outcome.error is not None:
            self.router.notify_link_down(peer, pid, outcome)

    def unlink(self, pid: str, peer: str) -> None:
        """Remove the link between process `pid` and `peer`."""
        running = self._processes.get(pid)
        if running is not None:
            running.runtime.peers.unlink(peer)

    def link_down(self, pid: str, sender: str, error: WflowError | None) -> None:
        """Linked `sender` ended: a `LINK_DOWN` event (trapped) or the end of process `pid`."""
        running = self._processes.get(pid)
        if running is None:
            return
        outcome = running.runtime.peers.link_down(sender, error)
        if isinstance(outcome, Event):
            running.runtime.mailbox().post_event(outcome)
        elif outcome is not None and not running.runtime.down.done():
            running.runtime.link_error = outcome
            running.runtime.down.set_result(None)

    def cancel(self, pid: str, sender: str | None = None, reason: str | None = None) -> None:
        """Post a `CANCEL` event; terminate the process if it runs `CANCEL_GRACE` later."""
        running = self._running(pid)
        running.runtime.mailbox().post_event(Event("CANCEL", sender, reason=reason))
        self.guard.kick()
        loop = asyncio.get_running_loop()
        loop.call_later(CANCEL_GRACE, self._cancel_late, running)

    def _cancel_late(self, running: _Running) -> None:
        if not running.task.done():
            running.terminated = "canceled (did not end within the grace period)"
            running.task.cancel()

    def terminate(self, pid: str, reason: str | None = None) -> None:
        """End process `pid` at once; its exit error is `CANCELED` with `reason`."""
        running = self._running(pid)
        running.terminated = f"terminated: {reason}" if reason else "terminated"
        running.task.cancel()

    async def result(self, pid: str) -> Any:
        """Wait for process `pid` to end; return its value or raise its error."""
        future = self._exits.get(pid)
        if future is None and pid in self._ended_recently:
            future = asyncio.get_running_loop().create_future()
            future.set_result(self._ended_recently[pid])
        if future is None:
            raise WflowError(f"no process {pid} (it ended, or its host restarted)", "NOT_FOUND")
        outcome = await asyncio.shield(future)
        if outcome.error is not None:
            raise outcome.error
        return outcome.value

    def running(self, pid: str) -> bool:
        """Return whether process `pid` runs here."""
        return pid in self._processes

    # -- names ---------------------------------------------------------------------------

    def register_name(self, name: str, pid: str) -> None:
        """Register `name` for `pid` on this host (released when that process ends).

        Raises:
            WflowError: `INVALID` for an empty name; `ALREADY_EXISTS` when a running process
                holds it.
        """
        if not isinstance(name, str) or not name:
            raise WflowError("a registered name must be a non-empty string", ErrorKind.INVALID)
        holder = self._names.get(name)
        if holder is not None and holder != pid and holder in self._processes:
            raise WflowError(f"name {name!r} is registered by {holder}", "ALREADY_EXISTS")
        self._names[name] = pid

    def lookup_name(self, name: str) -> str | None:
        """Return the PID registered here as `name`, or None."""
        pid = self._names.get(name)
        return pid if pid is not None and pid in self._processes else None

    def list(self) -> list[ProcessSummary]:
        """Return the running processes."""
        return [
            ProcessSummary(r.pid, r.entry_id, r.started, r.service, r.runtime.state)
            for r in self._processes.values()
        ]

    async def stop(self) -> None:
        """Terminate every process and wait for them to end."""
        self._stopping = True
        tasks = []
        for running in list(self._processes.values()):
            running.terminated = f"host {self.host_id} stopped"
            running.task.cancel()
            tasks.append(running.task)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
