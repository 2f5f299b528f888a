"""Finding a project's workflows on its clusters: a PID from a bare workflow ID, the list.

`Connection.resolve` and `Connection.list` are these, on the connection's registry and clients:
a workflow is the project's when it runs on a task queue one of the project's
`temporal.worker` entries polls, and (for the list) its type is one of the project's workflow
entries.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from datetime import datetime

from temporalio.client import Client, WorkflowExecutionDescription, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from wflow.model import ErrorKind, WflowError, format_pid, parse_pid
from wflow.registry import Registry, TemporalWorkerEntry

__all__ = ["WorkflowSummary", "client_of_worker", "list_workflows", "resolve_pid", "rpc_error"]


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


def rpc_error(pid: str, exc: RPCError) -> WflowError:
    """The `WflowError` for a server's answer about workflow `pid` (or a bare workflow ID)."""
    if exc.status == RPCStatusCode.NOT_FOUND and "namespace" in exc.message.lower():
        # The client's namespace is missing, not the workflow: say that, not "no workflow".
        return WflowError(f"{pid}: {exc.message}", ErrorKind.NOT_FOUND)
    if exc.status == RPCStatusCode.NOT_FOUND:
        return WflowError(f"no workflow {pid}", ErrorKind.NOT_FOUND)
    if exc.status == RPCStatusCode.ALREADY_EXISTS:
        return WflowError(f"workflow {pid} already exists", ErrorKind.ALREADY_EXISTS)
    return WflowError(f"{pid}: {exc.message}", ErrorKind.UNAVAILABLE)


def client_of_worker(
    registry: Registry, clients: Mapping[str | None, Client], worker: str | TemporalWorkerEntry
) -> Client:
    """The connected client of `worker`'s `temporal.client` (the default one without).

    Raises:
        WflowError: `UNAVAILABLE` when there is no connection for it.
    """
    client_entry = registry.client_of(worker)
    key = client_entry.id if client_entry is not None else None
    client = clients.get(key) or clients.get(None)
    if client is None:
        worker_id = worker if isinstance(worker, str) else worker.id
        raise WflowError(f"no connection for worker {worker_id}", ErrorKind.UNAVAILABLE)
    return client


def _queues_by_client(
    registry: Registry, clients: Mapping[str | None, Client]
) -> list[tuple[str | None, Client, dict[str, list[str]]]]:
    """Each distinct client with the project's workers on it: task queue -> worker IDs."""
    groups: dict[int, tuple[str | None, Client, dict[str, list[str]]]] = {}
    for worker in registry.workers():
        try:
            client = client_of_worker(registry, clients, worker)
        except WflowError:
            continue  # no connection for this worker: nothing of it can be found
        entry = registry.client_of(worker)
        _, _, queues = groups.setdefault(
            id(client), (entry.id if entry is not None else None, client, {})
        )
        queues.setdefault(registry.task_queue_of(worker), []).append(worker.id)
    return list(groups.values())


async def resolve_pid(
    registry: Registry, clients: Mapping[str | None, Client], pid_or_id: str
) -> str:
    """`Connection.resolve` on `registry` and `clients`: a PID as it is, a bare ID looked up.

    Each of the clients describes the workflow ID; the task queue it runs on names the worker.
    The errors are those `Connection.resolve` documents.
    """
    try:
        parse_pid(pid_or_id)
    except WflowError:
        pass
    else:
        return pid_or_id
    workflow_id = pid_or_id
    groups = _queues_by_client(registry, clients)
    descriptions = await asyncio.gather(
        *(_describe(client, workflow_id) for _, client, _ in groups)
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
            if any(e.workflow_type() == description.workflow_type for e in registry.workflows_on(w))
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


async def _describe(
    client: Client, workflow_id: str
) -> tuple[WorkflowExecutionDescription | None, str | None]:
    """Describe `workflow_id` on `client`: (description or None, why not found or None)."""
    try:
        return await client.get_workflow_handle(workflow_id).describe(), None
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise rpc_error(workflow_id, exc) from None
        if "namespace" in exc.message.lower():
            return None, exc.message.rstrip(".")  # the namespace, not the workflow, is missing
        return None, None


async def list_workflows(
    registry: Registry,
    clients: Mapping[str | None, Client],
    query: str | None = None,
    *,
    limit: int = 100,
) -> list[WorkflowSummary]:
    """List the project's workflows, newest first, across its workers.

    Only workflows on the project's task queues whose type is one of its workflow entries
    are listed.

    Args:
        registry: The project.
        clients: Its connected clients.
        query: A Temporal visibility filter to narrow the list, e.g.
            `ExecutionStatus = 'Running'` or `WorkflowType = 'app:order'`.
        limit: At most this many.

    Raises:
        WflowError: `INVALID` when the server refuses the query.
    """
    # Workflow type -> entry ID (a type is the entry ID or `meta.temporal.workflow.name`).
    types = {entry.workflow_type(): entry.id for entry in registry.workflows()}
    by_queue = {registry.task_queue_of(w): w for w in registry.workers()}
    found: list[WorkflowSummary] = []
    seen: set[int] = set()
    listed: set[str] = set()
    queues = " OR ".join(f"TaskQueue = '{queue}'" for queue in sorted(by_queue))
    text = f"({query}) AND ({queues})" if query and queues else (query or queues or None)
    for client in clients.values():
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
