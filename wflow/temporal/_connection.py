"""The process API outside workflows: spawn, send, result, cancel, update, query, list."""

from __future__ import annotations

import asyncio
import builtins
import dataclasses
import uuid
from collections.abc import Mapping
from concurrent.futures import Future as ConcurrentFuture
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowHistory,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from wflow.model import ErrorKind, SpawnOptions, SpawnRequest, WflowError, format_pid, parse_pid
from wflow.registry import Registry, TemporalWorkerEntry
from wflow.temporal._client import connect_client
from wflow.temporal._error_mapping import to_wflow_error
from wflow.temporal._headers import client_with_context
from wflow.temporal._link_topics import PEERS_MEMO
from wflow.temporal._payloads import check_payload_sizes
from wflow.temporal._policies import conflict_policy
from wflow.temporal._process_host import ProcessExit
from wflow.temporal._process_router import ProcessRouter, is_process_entry, is_process_pid
from wflow.temporal._targets import plan_spawn

__all__ = ["BlockingConnection", "Connection", "WorkflowSummary", "connect"]

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class WorkflowSummary:
    """One line of `Connection.list()`.

    Attributes:
        pid: The workflow's PID.
        entry: The workflow type (entry ID).
        status: `RUNNING`, `COMPLETED`, `FAILED`, `CANCELED`, `TERMINATED`, ...
        start_time: When it started.
        close_time: When it closed, or None while running.
    """

    pid: str
    entry: str
    status: str
    start_time: datetime | None
    close_time: datetime | None


def _rpc_error(pid: str, exc: RPCError) -> WflowError:
    if exc.status == RPCStatusCode.NOT_FOUND and "namespace" in exc.message.lower():
        # The client's namespace is missing, not the workflow: say that, not "no workflow".
        return WflowError(f"{pid}: {exc.message}", ErrorKind.NOT_FOUND)
    if exc.status == RPCStatusCode.NOT_FOUND:
        return WflowError(f"no workflow {pid}", ErrorKind.NOT_FOUND)
    if exc.status == RPCStatusCode.ALREADY_EXISTS:
        return WflowError(f"workflow {pid} already exists", ErrorKind.ALREADY_EXISTS)
    return WflowError(f"{pid}: {exc.message}", ErrorKind.UNAVAILABLE)


_SEND_REFUSED = "messages can only go to running workflows"

# How a closed workflow ended, by Temporal's status name.
_ENDED = {
    "COMPLETED": "completed",
    "FAILED": "failed",
    "CANCELED": "canceled",
    "TERMINATED": "terminated",
    "TIMED_OUT": "timed out",
    "CONTINUED_AS_NEW": "continued as new",
}


async def _closed_or_missing(
    handle: WorkflowHandle[Any, Any], pid: str, exc: RPCError, refused: str
) -> WflowError:
    """The error for a `NOT_FOUND` answer to a signal, update, cancel or terminate.

    Temporal says `NOT_FOUND` both for a workflow that does not exist and for one that has
    closed ("workflow execution already completed"). The second is asked about here, so the
    message says the workflow has ended and how, not that there is no such workflow.

    Args:
        handle: The workflow's handle.
        pid: The workflow's PID, as the message names it.
        exc: What the server answered.
        refused: What only a running workflow accepts, e.g. `messages can only go to running
            workflows`.
    """
    if exc.status != RPCStatusCode.NOT_FOUND or "namespace" in exc.message.lower():
        return _rpc_error(pid, exc)
    try:
        description = await handle.describe()
    except RPCError:
        return _rpc_error(pid, exc)
    status = description.status.name if description.status is not None else "RUNNING"
    if status == "RUNNING":
        return _rpc_error(pid, exc)
    how = _ENDED.get(status, status.lower().replace("_", " "))
    when = description.close_time
    at = f" at {when.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC" if when else ""
    return WflowError(
        f"workflow {pid} has ended ({how}{at}); {refused}",
        ErrorKind.NOT_FOUND,
        retryable=False,
        details={"pid": pid, "status": status},
    )


class Connection:
    """A project's view of its Temporal cluster(s), for code outside workflows.

    Create one with `wflow.connect(project)`; PIDs name the worker, so one connection serves
    every `temporal.worker` of the project. Every method that takes a PID also takes a bare
    workflow ID, which `resolve` turns into its PID.

    Args:
        registry: The loaded project.
        clients: Connected clients by `temporal.client` entry ID (None for a worker without).
    """

    def __init__(self, registry: Registry, clients: Mapping[str | None, Client]) -> None:
        self.registry = registry
        self._clients = dict(clients)
        # Processes (PIDs on a `process.host`, process entries) go through the router.
        self.processes = ProcessRouter(self)

    def default_client(self) -> Client:
        """Return the client of the project's default `temporal.client`."""
        client = self._clients.get(None) or next(iter(self._clients.values()), None)
        if client is None:
            raise WflowError("no Temporal connection", ErrorKind.UNAVAILABLE)
        return client

    async def signal(self, pid: str, topic: str, payload: Any) -> None:
        """Signal workflow `pid` without asking its mailbox first (wflow's own events)."""
        try:
            await self._handle(pid).signal(topic, payload)
        except RPCError as exc:
            raise _rpc_error(pid, exc) from None

    @property
    def clients(self) -> dict[str | None, Client]:
        """The connected clients by `temporal.client` entry ID (None: the default one)."""
        return dict(self._clients)

    def _client_of_worker(self, worker: str | TemporalWorkerEntry) -> Client:
        client_entry = self.registry.client_of(worker)
        key = client_entry.id if client_entry is not None else None
        client = self._clients.get(key) or self._clients.get(None)
        if client is None:
            worker_id = worker if isinstance(worker, str) else worker.id
            raise WflowError(f"no connection for worker {worker_id}", ErrorKind.UNAVAILABLE)
        return client

    def _handle(self, pid: str) -> WorkflowHandle[Any, Any]:
        worker_id, workflow_id = parse_pid(pid)
        return self._client_of_worker(worker_id).get_workflow_handle(workflow_id)

    def _queues_by_client(self) -> list[tuple[str | None, Client, dict[str, list[str]]]]:
        """Each distinct client with the project's workers on it: task queue -> worker IDs."""
        groups: dict[int, tuple[str | None, Client, dict[str, list[str]]]] = {}
        for worker in self.registry.workers():
            try:
                client = self._client_of_worker(worker)
            except WflowError:
                continue  # no connection for this worker: nothing of it can be found
            entry = self.registry.client_of(worker)
            _, _, queues = groups.setdefault(
                id(client), (entry.id if entry is not None else None, client, {})
            )
            queues.setdefault(self.registry.task_queue_of(worker), []).append(worker.id)
        return list(groups.values())

    async def resolve(self, pid_or_id: str) -> str:
        """Return the PID of `pid_or_id`: a PID as it is, a bare workflow ID looked up.

        A bare workflow ID (anything that does not parse as `<worker entry ID>/<workflow ID>`)
        is described on each of the project's clients; the task queue it runs on names the
        worker, and so the PID. The workflow may be running or closed (within the namespace's
        retention).

        Args:
            pid_or_id: A PID, or a workflow ID.

        Returns:
            The PID.

        Raises:
            WflowError: `NOT_FOUND` when no client knows a workflow with that ID, or it runs on
                a task queue no worker of the project polls; `INVALID` when it is ambiguous
                (found on two workers, e.g. in two namespaces); `UNAVAILABLE` when a server
                does not answer.
        """
        try:
            parse_pid(pid_or_id)
        except WflowError:
            pass
        else:
            return pid_or_id
        workflow_id = pid_or_id
        groups = self._queues_by_client()
        descriptions = await asyncio.gather(
            *(self._describe(client, workflow_id) for _, client, _ in groups)
        )
        found: set[str] = set()
        elsewhere: list[str] = []
        searched: list[str] = []
        for (entry_id, client, queues), (description, problem) in zip(
            groups, descriptions, strict=True
        ):
            where = _where(entry_id, client)
            searched.append(f"{where}{f' ({problem})' if problem else ''}")
            if description is None:
                continue
            workers = queues.get(description.task_queue)
            if not workers:
                elsewhere.append(f"{where}, task queue {description.task_queue!r}")
                continue
            # Two workers polling one queue: the one the workflow's entry runs on names it.
            owners = [
                w
                for w in workers
                if any(
                    e.workflow_type() == description.workflow_type
                    for e in self.registry.workflows_on(w)
                )
            ]
            found.add(format_pid(sorted(owners or workers)[0], workflow_id))
        if len(found) == 1:
            return found.pop()
        if found:
            raise WflowError(
                f"workflow ID {workflow_id!r} is ambiguous: it names "
                f"{' and '.join(sorted(found))}; give the PID instead",
                ErrorKind.INVALID,
                details={"workflow_id": workflow_id, "pids": sorted(found)},
            )
        if elsewhere:
            raise WflowError(
                f"workflow {workflow_id!r} exists on {'; '.join(elsewhere)}, which no "
                "temporal.worker of the project polls: it is not one of the project's workflows",
                ErrorKind.NOT_FOUND,
                details={"workflow_id": workflow_id, "searched": searched},
            )
        raise WflowError(
            f"no workflow with ID {workflow_id!r} on {'; '.join(searched) or 'no client'}",
            ErrorKind.NOT_FOUND,
            details={"workflow_id": workflow_id, "searched": searched},
        )

    @staticmethod
    async def _describe(
        client: Client, workflow_id: str
    ) -> tuple[WorkflowExecutionDescription | None, str | None]:
        """Describe `workflow_id` on `client`: (description or None, why not found or None)."""
        try:
            return await client.get_workflow_handle(workflow_id).describe(), None
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise _rpc_error(workflow_id, exc) from None
            if "namespace" in exc.message.lower():
                return None, exc.message.rstrip(".")  # the namespace, not the workflow, is missing
            return None, None

    async def spawn(
        self,
        entry: str,
        host: str | None = None,
        *args: Any,
        options: SpawnOptions | None = None,
    ) -> str:
        """Start workflow `entry` on worker `host` (default: the entry's worker); return its PID.

        Raises:
            WflowError: `NOT_FOUND` for an unknown entry or worker, `ALREADY_EXISTS` when the
                ID is taken and the conflict policy says fail.
        """
        options = options or SpawnOptions()
        if is_process_entry(self.registry, entry, ""):
            return await self.processes.spawn(SpawnRequest(entry, host, args, options))
        # Outside workflows there is no caller: a bare host resolves in the entry's namespace.
        plan = plan_spawn(self.registry, entry, host, "", options, uuid.uuid4())
        check_payload_sizes(args, plan.target.id)
        pid = plan.pid
        client = self._client_of_worker(plan.worker)
        if options.context or options.namespace:
            client = client_with_context(client, options.context, options.namespace)
        extra: dict[str, Any] = {}
        policy = options.conflict_policy()
        first, rest = (
            (options.messages[0], options.messages[1:]) if options.messages else (None, ())
        )
        if first is not None and not options.execution_error_when_already_started:
            # Signal-with-start: the first message goes with the start, or to the running
            # workflow when the ID is taken (it cannot fail on a running ID).
            extra["start_signal"] = first[0]
            extra["start_signal_args"] = [first[1]]
            policy = policy or "use_existing"
            first = None
        if options.execution_error_when_already_started:
            policy = "fail"
        try:
            handle = await client.start_workflow(
                plan.workflow_type,
                args=list(args),
                id_conflict_policy=conflict_policy(policy),
                **plan.start_options,
                **extra,
            )
        except WorkflowAlreadyStartedError:
            raise WflowError(f"workflow {pid} is already running", "ALREADY_EXISTS") from None
        except RPCError as exc:
            raise _rpc_error(pid, exc) from None
        # The other startup messages follow in order (Temporal starts with one signal at most).
        for topic, payload in (*([first] if first is not None else []), *rest):
            try:
                await handle.signal(topic, payload)
            except RPCError as exc:
                raise _rpc_error(pid, exc) from None
        return pid

    async def send(self, pid: str, topic: str, payload: Any = None) -> None:
        """Send a message (a Temporal signal named `topic`) to `pid`, a PID or bare workflow ID.

        The receiver's mailbox is asked first: when it holds its bound of unreceived
        messages the send is refused, so nothing is accepted that would not be kept.

        Raises:
            WflowError: `RATE_LIMITED` when the mailbox is full; `NOT_FOUND` when no such
                workflow runs.
        """
        if is_process_pid(self.registry, pid):
            await self.processes.send(pid, topic, payload)
            return
        pid = await self.resolve(pid)
        check_payload_sizes(payload, f"message {topic!r} to {pid}", "payload")
        handle = self._handle(pid)
        try:
            room = await asyncio.wait_for(handle.query("wflow.mailbox"), 10)
        except (WorkflowQueryFailedError, asyncio.TimeoutError, RPCError) as exc:
            if isinstance(exc, RPCError) and exc.status == RPCStatusCode.NOT_FOUND:
                raise await _closed_or_missing(handle, pid, exc, _SEND_REFUSED) from None
            room = None  # no worker answers now: signals wait durably, so send anyway
        if isinstance(room, dict) and room.get("pending", 0) >= room.get("bound", 1):
            raise WflowError(
                f"mailbox of {pid} is full ({room['pending']} unreceived messages, bound "
                f"{room['bound']}); message {topic!r} was not sent",
                ErrorKind.RATE_LIMITED,
                details=room,
            )
        try:
            await handle.signal(topic, payload)
        except RPCError as exc:
            raise await _closed_or_missing(handle, pid, exc, _SEND_REFUSED) from None

    async def result(self, pid: str) -> Any:
        """Wait for workflow `pid` (a PID or bare workflow ID); return its result or raise."""
        if is_process_pid(self.registry, pid):
            return await self.processes.result(pid)
        pid = await self.resolve(pid)
        try:
            return await self._handle(pid).result()
        except WorkflowFailureError as exc:
            raise to_wflow_error(exc.cause) from None
        except RPCError as exc:
            raise _rpc_error(pid, exc) from None

    async def cancel(self, pid: str, reason: str | None = None) -> None:
        """Request cancellation of workflow `pid` (a PID or bare workflow ID), with `reason`."""
        if is_process_pid(self.registry, pid):
            await self.processes.cancel(pid, reason=reason)
            return
        pid = await self.resolve(pid)
        handle = self._handle(pid)
        refused = "only a running workflow can be canceled"
        try:
            # The server accepts a cancel request for a closed workflow and does nothing:
            # ask first, so the caller hears that it has ended.
            status = (await handle.describe()).status
            if status is not None and status.name != "RUNNING":
                missing = RPCError(
                    "workflow execution already completed", RPCStatusCode.NOT_FOUND, b""
                )
                raise await _closed_or_missing(handle, pid, missing, refused)
            await handle.cancel(reason=reason or "")
        except RPCError as exc:
            raise await _closed_or_missing(handle, pid, exc, refused) from None

    async def terminate(self, pid: str, reason: str | None = None) -> None:
        """Terminate workflow `pid` (a PID or bare workflow ID) at once."""
        if is_process_pid(self.registry, pid):
            await self.processes.terminate(pid, reason)
            return
        pid = await self.resolve(pid)
        handle = self._handle(pid)
        # A terminated workflow runs no more code, so its monitors and links hear of it from
        # here: asked before, told after (`_workflow_links`).
        peers = await self._peers_of(handle)
        try:
            await handle.terminate(reason=reason)
        except RPCError as exc:
            refused = "only a running workflow can be terminated"
            raise await _closed_or_missing(handle, pid, exc, refused) from None
        error = WflowError(f"terminated: {reason}" if reason else "terminated", ErrorKind.CANCELED)
        outcome = ProcessExit(error=error)
        await asyncio.gather(
            *(self.processes.deliver_exit(w, pid, outcome) for w in peers.get("watchers", [])),
            *(self.processes.deliver_link_down(p, pid, outcome) for p in peers.get("links", [])),
        )

    async def _peers_of(self, handle: WorkflowHandle[Any, Any]) -> dict[str, list[str]]:
        """Return the watchers and links a workflow keeps in its memo (no worker asked)."""
        try:
            peers = await (await handle.describe()).memo_value(PEERS_MEMO, None)
        except RPCError:  # gone: terminate says so
            return {}
        return peers if isinstance(peers, dict) else {}

    async def list_processes(self) -> builtins.list[dict[str, Any]]:
        """Return the running processes of the project's process hosts (pid, entry, ...)."""
        return await self.processes.list()

    async def lookup(self, name: str) -> str | None:
        """Return the PID of the process registered as `name` (or service `name`), or None."""
        return await self.processes.lookup(name)

    async def update(self, pid: str, name: str, payload: Any = None) -> Any:
        """Send update `name` to `pid` (a PID or bare workflow ID); return the `ok` reply.

        Raises:
            WflowError: The workflow answered `nak` (kind `INVALID`, message `rejected: ...`)
                or `error` (its kind and message).
        """
        pid = await self.resolve(pid)
        handle = self._handle(pid)
        try:
            return await handle.execute_update(name, payload)
        except WorkflowUpdateFailedError as exc:
            raise to_wflow_error(exc.cause) from None
        except RPCError as exc:
            refused = "updates can only go to running workflows"
            raise await _closed_or_missing(handle, pid, exc, refused) from None

    async def query(self, pid: str, name: str = "state") -> Any:
        """Ask workflow `pid` (a PID or bare workflow ID) a query (`state`, `pid`)."""
        pid = await self.resolve(pid)
        try:
            return await self._handle(pid).query(name)
        except WorkflowQueryFailedError as exc:
            raise WflowError(f"query {name!r} on {pid}: {exc}", ErrorKind.NOT_FOUND) from None
        except RPCError as exc:
            timed_out = exc.status in (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED)
            if timed_out or "timeout" in exc.message.lower():
                # A query is answered by a worker; the server only says its wait ran out.
                raise WflowError(
                    f"query {name!r} on {pid}: no worker answered ({exc.message}); a worker "
                    f"polling the workflow's task queue must be running to answer queries",
                    ErrorKind.UNAVAILABLE,
                ) from None
            raise _rpc_error(pid, exc) from None

    async def history(self, pid: str) -> WorkflowHistory:
        """Return the history of workflow `pid` (a PID or bare workflow ID), its latest run's.

        Raises:
            WflowError: `NOT_FOUND` for no such workflow, `UNAVAILABLE` when no server answers.
        """
        pid = await self.resolve(pid)
        handle = self._handle(pid)
        try:
            history = await handle.fetch_history()
        except RPCError as exc:
            raise _rpc_error(pid, exc) from None
        codec = self._client_of_worker(parse_pid(pid)[0]).data_converter.payload_codec
        if codec is not None:
            # The client's codec chain (wflow.temporal._codecs): readers see the values.
            from wflow.temporal._codecs import decode_in_place

            for event in history.events:
                await decode_in_place(event, codec)
        return history

    async def reset(
        self,
        pid: str,
        *,
        to_call: int | None = None,
        to_last_failure: bool = False,
        reason: str | None = None,
    ) -> tuple[str, str]:
        """Reset workflow `pid` to just before step `to_call` (or its last failed call).

        The new run replays the history up to that point with the code the workers run now
        (a fixed function, say) and makes that step and everything after it again.

        Returns:
            The step's description and the new run's ID.

        Raises:
            WflowError: `INVALID` for a step that cannot be reset to, `NOT_FOUND` for no such
                workflow (or no failed call with `to_last_failure`).
        """
        from wflow.temporal._reset import reset_point, reset_workflow

        pid = await self.resolve(pid)
        history = await self.history(pid)
        point = reset_point(history, to_call=to_call, to_last_failure=to_last_failure)
        worker_id, workflow_id = parse_pid(pid)
        # The latest run's ID: the run whose history was read.
        description = await self._handle(pid).describe()
        text = f"step {point.step.number}: {point.step.call_text()}"
        new_run = await reset_workflow(
            self._client_of_worker(worker_id),
            workflow_id,
            description.run_id or "",
            point,
            reason or f"wflow reset to {text}",
        )
        return text, new_run

    async def list(
        self, query: str | None = None, *, limit: int = 100
    ) -> builtins.list[WorkflowSummary]:
        """List the project's workflows, newest first, across its workers.

        Only workflows on the project's task queues whose type is one of its workflow entries
        are listed.

        Args:
            query: A Temporal visibility filter to narrow the list, e.g.
                `ExecutionStatus = 'Running'` or `WorkflowType = 'app:order'`.
            limit: At most this many.

        Raises:
            WflowError: `INVALID` when the server refuses the query.
        """
        # Workflow type -> entry ID (a type is the entry ID or `meta.temporal.workflow.name`).
        types = {entry.workflow_type(): entry.id for entry in self.registry.workflows()}
        by_queue = {self.registry.task_queue_of(w): w for w in self.registry.workers()}
        found: builtins.list[WorkflowSummary] = []
        seen: set[int] = set()
        listed: set[str] = set()
        queues = " OR ".join(f"TaskQueue = '{queue}'" for queue in sorted(by_queue))
        text = f"({query}) AND ({queues})" if query and queues else (query or queues or None)
        for client in self._clients.values():
            if id(client) in seen:
                continue
            seen.add(id(client))
            try:
                async for execution in client.list_workflows(text, limit=limit):
                    worker = by_queue.get(execution.task_queue)
                    if execution.workflow_type not in types or worker is None:
                        continue
                    pid = format_pid(worker.id, execution.id)
                    if pid in listed:
                        continue  # two clients of one cluster (`--address`) list it twice
                    listed.add(pid)
                    status = execution.status or WorkflowExecutionStatus.RUNNING
                    found.append(
                        WorkflowSummary(
                            pid=pid,
                            entry=types[execution.workflow_type],
                            status=status.name,
                            start_time=execution.start_time,
                            close_time=execution.close_time,
                        )
                    )
            except RPCError as exc:
                if query is not None and exc.status == RPCStatusCode.INVALID_ARGUMENT:
                    raise WflowError(
                        f"invalid visibility query {query!r}: {exc.message}", ErrorKind.INVALID
                    ) from None
                raise
        found.sort(key=lambda s: s.start_time or datetime.min, reverse=True)
        return found[:limit]


def _where(entry_id: str | None, client: Client) -> str:
    """Name a client for messages: its entry, address and namespace."""
    name = f"temporal.client {entry_id} " if entry_id is not None else ""
    return f"{name}({client.service_client.config.target_host}, namespace {client.namespace})"


async def connect(project: str | Path | Registry, *, address: str | None = None) -> Connection:
    """Connect to the cluster(s) a project's `temporal.client` entries name.

    Args:
        project: A project folder, a definition file, or a loaded registry.
        address: Overrides every client's address.

    Raises:
        ConfigError: The project does not load.
        WflowError: `UNAVAILABLE` when a server does not answer.
    """
    if isinstance(project, (str, Path)):
        from wflow.registry import load_project

        registry = load_project(project)
    else:
        registry = project
    clients: dict[str | None, Client] = {}
    for entry in registry.clients():
        clients[entry.id] = await connect_client(entry, address=address)
    if not clients or address is not None:
        clients[None] = clients.get(None) or await connect_client(None, address=address)
    return Connection(registry, clients)


class BlockingConnection:
    """`Connection` for code on worker threads (functions), which blocks instead of awaiting.

    Args:
        connection: The connection whose event loop runs in another thread.
        loop: That loop.
    """

    def __init__(self, connection: Connection, loop: asyncio.AbstractEventLoop) -> None:
        self._connection = connection
        self._loop = loop

    def _run(self, coroutine: Any) -> Any:
        future: ConcurrentFuture[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result()

    def spawn(self, request: SpawnRequest) -> str:
        """Start a workflow or process; see `Connection.spawn`."""
        connection = self._connection
        pid: str = self._run(
            connection.spawn(request.entry, request.host, *request.args, options=request.options)
        )
        return pid

    def send(self, pid: str, topic: str, payload: Any) -> None:
        """Send a message; see `Connection.send`."""
        self._run(self._connection.send(pid, topic, payload))

    def result(self, pid: str) -> Any:
        """Wait for a workflow's result; see `Connection.result`."""
        return self._run(self._connection.result(pid))

    def cancel(self, pid: str, reason: str | None = None) -> None:
        """Request cancellation; see `Connection.cancel`."""
        self._run(self._connection.cancel(pid, reason))

    def terminate(self, pid: str, reason: str | None = None) -> None:
        """Terminate; see `Connection.terminate`."""
        self._run(self._connection.terminate(pid, reason))

    def lookup(self, name: str) -> str | None:
        """Find a registered process; see `Connection.lookup`."""
        found: str | None = self._run(self._connection.lookup(name))
        return found
