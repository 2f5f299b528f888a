"""The process API outside workflows: spawn, send, result, cancel, update, query, list."""

from __future__ import annotations

import asyncio
import builtins
import uuid
from collections.abc import Mapping
from concurrent.futures import Future as ConcurrentFuture
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowHistory,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from wflow.model import ErrorKind, SpawnOptions, SpawnRequest, WflowError, parse_pid
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
from wflow.temporal._workflow_search import (
    WorkflowSummary,
    client_of_worker,
    list_workflows,
    resolve_pid,
    rpc_error,
)

__all__ = ["BlockingConnection", "Connection", "WorkflowSummary", "connect"]

T = TypeVar("T")


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
        return rpc_error(pid, exc)
    try:
        description = await handle.describe()
    except RPCError:
        return rpc_error(pid, exc)
    status = description.status.name if description.status is not None else "RUNNING"
    if status == "RUNNING":
        return rpc_error(pid, exc)
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
            raise rpc_error(pid, exc) from None

    @property
    def clients(self) -> dict[str | None, Client]:
        """The connected clients by `temporal.client` entry ID (None: the default one)."""
        return dict(self._clients)

    def _client_of_worker(self, worker: str | TemporalWorkerEntry) -> Client:
        return client_of_worker(self.registry, self._clients, worker)

    def _handle(self, pid: str) -> WorkflowHandle[Any, Any]:
        worker_id, workflow_id = parse_pid(pid)
        return self._client_of_worker(worker_id).get_workflow_handle(workflow_id)

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
        return await resolve_pid(self.registry, self._clients, pid_or_id)

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
            raise rpc_error(pid, exc) from None
        # The other startup messages follow in order (Temporal starts with one signal at most).
        for topic, payload in (*([first] if first is not None else []), *rest):
            try:
                await handle.signal(topic, payload)
            except RPCError as exc:
                raise rpc_error(pid, exc) from None
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
            raise rpc_error(pid, exc) from None

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

    async def query(
        self, pid: str, name: str = "state", *, timeout: timedelta | None = None
    ) -> Any:
        """Ask workflow `pid` (a PID or bare workflow ID) a query (`state`, `pid`).

        Args:
            pid: A PID or bare workflow ID.
            name: The query.
            timeout: How long to wait for a worker to answer; None for the server's own
                limit (about 30 s).

        Raises:
            WflowError: `UNAVAILABLE` when no worker answered in time; `NOT_FOUND` for an
                unknown workflow or query.
        """
        pid = await self.resolve(pid)
        try:
            return await self._handle(pid).query(name, rpc_timeout=timeout)
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
            raise rpc_error(pid, exc) from None

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
            raise rpc_error(pid, exc) from None
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
        return await list_workflows(self.registry, self._clients, query, limit=limit)


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
