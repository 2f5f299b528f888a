"""Where a process operation goes: a host in this OS process, another host, or a workflow.

`ProcessRouter` serves the process API of everything that is not a workflow (processes,
functions, outside code through `Connection`). For a PID it decides:

- a **workflow** (its host part is a `temporal.worker`): the `Connection` (Temporal signals,
  starts, cancels);
- a **process on a host instance running in this OS process**: that `ProcessHost`, directly;
- a **process elsewhere**: through Temporal, a short relay workflow on the target instance's
  task queue that runs the operation there as an activity (`_process_transport.py`).

Workflows never use this router: their process operations must be recorded, so they run the
operation activity themselves (`_process_calls.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from wflow.model import ErrorKind, Event, Message, SpawnOptions, SpawnRequest, WflowError, parse_pid
from wflow.registry import PROCESS_KINDS, Registry
from wflow.temporal._link_topics import (
    LINK_DOWN_TOPIC,
    LINK_TOPIC,
    UNLINK_TOPIC,
    end_payload,
    payload_error,
)
from wflow.temporal._process_host import (
    ProcessExit,
    ProcessHost,
    ProcessSummary,
    host_queue,
    pid_queue,
    split_process_pid,
)

if TYPE_CHECKING:
    from wflow.temporal._connection import Connection

__all__ = [
    "EXIT_TOPIC",
    "LOCAL_HOSTS",
    "ProcessRouter",
    "ProcessSpawn",
    "exit_payload",
    "is_process_entry",
    "is_process_pid",
    "plan_process_spawn",
    "process_host_id",
    "spawn_options_of",
    "spawn_params",
]

EXIT_TOPIC = "wflow.exit"
"""The signal that carries a monitored process's `EXIT` event to a workflow."""

LOCAL_HOSTS: dict[str, ProcessHost] = {}
"""The host instances running in this OS process, by instance name."""


def is_process_pid(registry: Registry, pid: str) -> bool:
    """Return whether `pid` names a process (its host part is a `process.host` entry)."""
    host_id = pid.partition("/")[0]
    return host_id in registry and registry.get(host_id).kind == "process.host"


def is_process_entry(registry: Registry, entry: str, namespace: str) -> bool:
    """Return whether `entry` (an ID or bare name in `namespace`) is a process entry."""
    try:
        resolved = registry.resolve(entry, namespace, None)
    except WflowError:
        return False
    return registry.get(resolved).kind in PROCESS_KINDS


def process_host_id(registry: Registry, host: str | None, namespace: str) -> str:
    """Return the `process.host` entry a process spawn names (None: the project's only one).

    Raises:
        WflowError: `NOT_FOUND` / `INVALID` for a bad host; `INVALID` when `host` is None and
            the project has not exactly one `process.host`.
    """
    if host is not None:
        return registry.resolve(host, namespace, ("process.host",))
    hosts = [entry.id for entry in registry.of_kind("process.host")]
    if len(hosts) != 1:
        raise WflowError(
            "spawning a process needs its process.host (the project has "
            f"{len(hosts)}: {', '.join(hosts) or 'none'})",
            ErrorKind.INVALID,
        )
    return hosts[0]


def spawn_params(
    host_id: str,
    entry: str,
    namespace: str,
    args: Sequence[Any],
    options: SpawnOptions,
    monitor: str | None,
) -> dict[str, Any]:
    """Return the JSON form of a process spawn relayed to its host (`spawn_options_of` reads it).

    Raises:
        WflowError: `INVALID` naming an option only workflow starts have.
    """
    refused = options.workflow_keys_set()
    if refused:
        raise WflowError(
            f"{', '.join(refused)}: not available when spawning process {entry} (these "
            "options start Temporal workflows; a process takes a name and startup messages)",
            ErrorKind.INVALID,
        )
    return {
        "host": host_id,
        "entry": entry,
        "namespace": namespace,
        "args": list(args),
        "name": options.name,
        "messages": [list(message) for message in options.messages],
        "monitor": monitor,
    }


@dataclass(frozen=True)
class ProcessSpawn:
    """Where and how a process spawn goes: its host, that host's queue and the relayed params.

    Attributes:
        host_id: The `process.host` entry that runs the process.
        queue: The host's task queue (where a remote spawn is sent).
        params: The relayed request (`spawn_params`).
    """

    host_id: str
    queue: str
    params: dict[str, Any]


def plan_process_spawn(
    registry: Registry, request: SpawnRequest, namespace: str, monitor: str | None
) -> ProcessSpawn:
    """Resolve the host of process `request.entry` and build what is relayed to that host.

    Raises:
        WflowError: From `process_host_id` and `spawn_params`.
    """
    host_id = process_host_id(registry, request.host, namespace)
    params = spawn_params(host_id, request.entry, namespace, request.args, request.options, monitor)
    return ProcessSpawn(host_id, host_queue(registry, host_id), params)


def spawn_options_of(params: Mapping[str, Any]) -> SpawnOptions:
    """Return the spawn options of relayed `spawn_params`."""
    messages = params.get("messages") or []
    return SpawnOptions(
        name=params.get("name"),
        messages=tuple((str(topic), payload) for topic, payload in messages),
    )


def exit_payload(pid: str, outcome: ProcessExit) -> dict[str, Any]:
    """Return the JSON form of an `EXIT` event (the payload of `EXIT_TOPIC`)."""
    error = outcome.error.to_dict() if outcome.error is not None else None
    return {"from": pid, "value": outcome.value, "error": error}


def exit_event(payload: Mapping[str, Any]) -> Event:
    """Return the `EXIT` event of an `exit_payload`."""
    error = payload.get("error")
    return Event(
        "EXIT",
        payload.get("from"),
        payload.get("value"),
        WflowError.from_dict(error) if isinstance(error, dict) else None,
    )


def _summary(process: ProcessSummary) -> dict[str, Any]:
    return {
        "pid": process.pid,
        "entry": process.entry_id,
        "started": process.started,
        "service": process.service,
        "state": process.state,
    }


def _local(pid: str) -> ProcessHost | None:
    _, instance = split_process_pid(pid)
    return LOCAL_HOSTS.get(instance)


def _local_of_host(host_id: str) -> ProcessHost | None:
    for host in LOCAL_HOSTS.values():
        if host.host_id == host_id:
            return host
    return None


class ProcessRouter:
    """The process API for processes, functions and outside code (see the module doc).

    Args:
        connection: Reaches workflows, and Temporal for processes elsewhere.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.registry = connection.registry
        self._tasks: set[asyncio.Task[Any]] = set()

    async def _remote(
        self, queue: str, op: str, params: dict[str, Any], timeout: float | None = None
    ) -> Any:
        from wflow.temporal._process_transport import relay

        client = self.connection.default_client()
        if timeout is None:
            return await relay(client, queue, op, params)
        return await relay(client, queue, op, params, timedelta(seconds=timeout))

    async def send(self, pid: str, topic: str, payload: Any, sender: str | None = None) -> None:
        """Send a message to workflow or process `pid`."""
        if not is_process_pid(self.registry, pid):
            await self.connection.send(pid, topic, payload)
            return
        host = _local(pid)
        if host is not None:
            host.deliver(pid, Message(topic, payload, sender))
            return
        params = {"pid": pid, "topic": topic, "payload": payload, "sender": sender}
        await self._remote(pid_queue(self.registry, pid), "send", params)

    async def spawn(
        self, request: SpawnRequest, *, spawner: str | None = None, namespace: str = ""
    ) -> str:
        """Start process or workflow `request.entry`; if monitored, `spawner` gets its `EXIT`."""
        entry, host, args, options = request.entry, request.host, request.args, request.options
        namespace = namespace.partition(":")[0] if ":" in namespace else namespace
        monitor = spawner if options.monitored else None
        if not is_process_entry(self.registry, entry, namespace):
            pid = await self.connection.spawn(entry, host, *args, options=options)
            if monitor is not None:
                self._watch_workflow(pid, monitor)
            return pid
        plan = plan_process_spawn(self.registry, request, namespace, monitor)
        local = _local_of_host(plan.host_id)
        if local is not None:
            return local.spawn(entry, args, options, monitor=monitor, namespace=namespace)
        spawned: str = await self._remote(plan.queue, "spawn", plan.params)
        return spawned

    def _watch_workflow(self, pid: str, monitor: str) -> None:
        async def watch() -> None:
            try:
                value = await self.connection.result(pid)
            except WflowError as exc:
                outcome = ProcessExit(error=exc)
            else:
                outcome = ProcessExit(value=value)
            await self.deliver_exit(monitor, pid, outcome)

        self._start(watch())

    def _start(self, coroutine: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def result(self, pid: str) -> Any:
        """Wait for workflow or process `pid` (a process: on this OS process's hosts)."""
        if not is_process_pid(self.registry, pid):
            return await self.connection.result(pid)
        host = _local(pid)
        if host is None:
            raise WflowError(
                f"{pid} runs on another host instance; wait for it with spawn_monitored and "
                "its EXIT event",
                ErrorKind.INVALID,
            )
        return await host.result(pid)

    async def cancel(self, pid: str, sender: str | None = None, reason: str | None = None) -> None:
        """Request cancellation of workflow or process `pid` (it gets `CANCEL` with `reason`)."""
        if not is_process_pid(self.registry, pid):
            await self.connection.cancel(pid, reason)
            return
        host = _local(pid)
        if host is not None:
            host.cancel(pid, sender, reason)
            return
        params = {"pid": pid, "sender": sender, "reason": reason}
        await self._remote(pid_queue(self.registry, pid), "cancel", params)

    async def terminate(self, pid: str, reason: str | None = None) -> None:
        """End workflow or process `pid` at once."""
        if not is_process_pid(self.registry, pid):
            await self.connection.terminate(pid, reason)
            return
        host = _local(pid)
        if host is not None:
            host.terminate(pid, reason)
            return
        params = {"pid": pid, "reason": reason}
        await self._remote(pid_queue(self.registry, pid), "terminate", params)

    async def lookup(self, name: str) -> str | None:
        """Return the PID registered as `name` on any `process.host` of the project, or None.

        Hosts in this OS process answer directly; others through Temporal (one instance each).
        """
        for entry in self.registry.of_kind("process.host"):
            local = _local_of_host(entry.id)
            if local is not None:
                found = local.lookup_name(name)
            else:
                params = {"host": entry.id, "name": name}
                try:
                    queue = host_queue(self.registry, entry.id)
                    found = await self._remote(queue, "lookup", params)
                except WflowError as exc:
                    if exc.kind in (ErrorKind.UNAVAILABLE, ErrorKind.TIMEOUT):
                        continue  # no instance of that host runs
                    raise
            if found is not None:
                return str(found)
        return None

    async def list(self) -> list[dict[str, Any]]:
        """Return the running processes of each `process.host` (one instance each, when remote).

        A host no instance of which answers within 3 seconds is left out.
        """
        found: list[dict[str, Any]] = []
        for entry in self.registry.of_kind("process.host"):
            local = _local_of_host(entry.id)
            if local is not None:
                found.extend(_summary(p) for p in local.list())
                continue
            try:
                queue = host_queue(self.registry, entry.id)
                rows = await self._remote(queue, "list", {"host": entry.id}, 3.0)
            except WflowError as exc:
                if exc.kind in (ErrorKind.UNAVAILABLE, ErrorKind.TIMEOUT):
                    continue
                raise
            found.extend(rows or [])
        return found

    # -- monitors and links --------------------------------------------------------------

    async def _on_process(self, op: str, pid: str, params: dict[str, Any]) -> None:
        host = _local(pid)
        if host is not None:
            await self.local_op(op, {"pid": pid, **params})
            return
        await self._remote(pid_queue(self.registry, pid), op, {"pid": pid, **params})

    async def monitor(self, pid: str, watcher: str) -> None:
        """Tell `watcher` (`EXIT`) when workflow or process `pid` ends."""
        if is_process_pid(self.registry, pid):
            await self._on_process("monitor", pid, {"watcher": watcher})
        else:
            parse_pid(pid)
            self._watch_workflow(pid, watcher)

    async def unmonitor(self, pid: str, watcher: str) -> None:
        """Stop telling `watcher` about `pid` (the watcher also drops its `EXIT` itself)."""
        if is_process_pid(self.registry, pid):
            with contextlib.suppress(WflowError):  # it ended: nothing to take back
                await self._on_process("unmonitor", pid, {"watcher": watcher})

    async def link(self, pid: str, peer: str) -> None:
        """Link workflow or process `pid` to process `peer`."""
        if is_process_pid(self.registry, pid):
            await self._on_process("link", pid, {"peer": peer})
        else:
            parse_pid(pid)
            await self.connection.signal(pid, LINK_TOPIC, {"from": peer})

    async def unlink(self, pid: str, peer: str) -> None:
        """Remove the link between `pid` and process `peer`."""
        with contextlib.suppress(WflowError):  # it ended: nothing left to unlink
            if is_process_pid(self.registry, pid):
                await self._on_process("unlink", pid, {"peer": peer})
            else:
                await self.connection.signal(pid, UNLINK_TOPIC, {"from": peer})

    def notify_link_down(self, peer: str, pid: str, outcome: ProcessExit) -> asyncio.Task[Any]:
        """Tell linked `peer` that process `pid` ended abnormally, in the background."""
        return self._start(self.deliver_link_down(peer, pid, outcome))

    async def deliver_link_down(self, peer: str, pid: str, outcome: ProcessExit) -> None:
        """Tell linked `peer` (workflow or process) about `pid`'s end; a gone peer is ignored."""
        payload = end_payload(pid, None, outcome.error)
        with contextlib.suppress(WflowError):
            if not is_process_pid(self.registry, peer):
                parse_pid(peer)
                await self.connection.signal(peer, LINK_DOWN_TOPIC, payload)
            else:
                await self._on_process("link_down", peer, {"event": payload})

    def notify_exit(self, monitor: str, pid: str, outcome: ProcessExit) -> asyncio.Task[Any]:
        """Tell `monitor` (a workflow or process) that `pid` ended, in the background."""
        return self._start(self.deliver_exit(monitor, pid, outcome))

    async def deliver_exit(self, monitor: str, pid: str, outcome: ProcessExit) -> None:
        """Post the `EXIT` event of `pid` to `monitor`; a monitor that is gone is ignored."""
        payload = exit_payload(pid, outcome)
        try:
            if not is_process_pid(self.registry, monitor):
                parse_pid(monitor)
                await self.connection.signal(monitor, EXIT_TOPIC, payload)
                return
            host = _local(monitor)
            if host is not None:
                host.post_event(monitor, exit_event(payload))
                return
            queue = pid_queue(self.registry, monitor)
            await self._remote(queue, "exit", {"monitor": monitor, "event": payload})
        except WflowError:
            pass  # the monitor ended first: nobody is left to tell

    async def local_op(self, op: str, params: Mapping[str, Any]) -> Any:
        """Run a relayed operation on a host instance of this OS process (the activity side).

        Raises:
            WflowError: `UNAVAILABLE` when the named instance does not run here; the
                operation's own error otherwise.
        """
        if op in ("spawn", "lookup", "list"):
            host = _local_of_host(str(params["host"]))
            if host is None:
                raise WflowError(f"process host {params['host']} does not run here", "UNAVAILABLE")
            if op == "lookup":
                return host.lookup_name(str(params["name"]))
            if op == "list":
                return [_summary(p) for p in host.list()]
            spawned = host.spawn(
                str(params["entry"]),
                list(params.get("args") or []),
                spawn_options_of(params),
                monitor=params.get("monitor"),
                namespace=str(params.get("namespace") or ""),
            )
            await host.guard.held()  # the caller's history moves on only with time held
            return spawned
        pid = str(params["monitor"] if op == "exit" else params["pid"])
        host = _local(pid)
        if host is None:
            raise WflowError(f"no process {pid} (its host instance is gone)", "NOT_FOUND")
        if op == "send":
            message = Message(str(params["topic"]), params.get("payload"), params.get("sender"))
            host.deliver(pid, message)
        elif op == "cancel":
            host.cancel(pid, params.get("sender"), params.get("reason"))
        elif op == "terminate":
            host.terminate(pid, params.get("reason"))
        elif op == "exit":
            host.post_event(pid, exit_event(params["event"]))
        elif op == "monitor":
            host.monitor(pid, str(params["watcher"]))
        elif op == "unmonitor":
            host.unmonitor(pid, str(params["watcher"]))
        elif op == "link":
            host.link(pid, str(params["peer"]))
        elif op == "unlink":
            host.unlink(pid, str(params["peer"]))
        elif op == "link_down":
            event = params["event"]
            host.link_down(pid, str(event["from"]), payload_error(event))
        else:
            raise WflowError(f"unknown process operation {op!r}", ErrorKind.INVALID)
        await host.guard.held()
        return None
