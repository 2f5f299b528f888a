"""Fetching workflow histories by PID or visibility query, and reading them from JSON files."""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from wflow.model import ErrorKind, WflowError, format_pid, parse_pid
from wflow.registry import Registry
from wflow.temporal._client import connect_client

__all__ = ["HistorySource", "read_history_file"]


class HistorySource:
    """Fetches a project's workflow histories from its cluster(s), as a client only.

    Connects lazily, once per `temporal.client` entry a PID's worker names; never starts a
    server (like the process commands).

    Args:
        registry: The project.
        address: Overrides every client's address (`--address`).
    """

    def __init__(self, registry: Registry, *, address: str | None = None) -> None:
        self.registry = registry
        self._address = address
        self._clients: dict[str | None, Client] = {}

    async def _client(self, worker_id: str | None) -> Client:
        entry = self.registry.client_of(worker_id) if worker_id is not None else None
        key = entry.id if entry is not None else None
        if key not in self._clients:
            self._clients[key] = await connect_client(entry, address=self._address)
        return self._clients[key]

    async def fetch(self, pid: str) -> WorkflowHistory:
        """Return the history of workflow `pid` (`<worker entry ID>/<workflow ID>`).

        Its latest run's, when the ID was reused or continued as new.

        Raises:
            WflowError: `INVALID` for a malformed PID, `NOT_FOUND` for a worker the project
                does not have or no such workflow, `UNAVAILABLE` when no server answers.
        """
        worker_id, workflow_id = parse_pid(pid)
        workers = sorted(worker.id for worker in self.registry.workers())
        if worker_id not in workers:
            raise WflowError(
                f"invalid PID {pid!r}: {worker_id} is not a temporal.worker of the project "
                f"(its workers: {', '.join(workers) or 'none'})",
                ErrorKind.INVALID,
            )
        client = await self._client(worker_id)
        try:
            return await client.get_workflow_handle(workflow_id).fetch_history()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise WflowError(f"no workflow {pid}", ErrorKind.NOT_FOUND) from None
            raise WflowError(f"{pid}: {exc.message}", ErrorKind.UNAVAILABLE) from None

    async def query(self, visibility_query: str, *, limit: int = 1000) -> list[str]:
        """Return the PIDs of the project's workflows a visibility query finds, newest first.

        Only workflows on the project's task queues whose type is one of its workflow entries
        are returned (only those can be replayed against its code).

        Args:
            visibility_query: A Temporal list filter, e.g. `WorkflowType = 'app:order'` or
                `ExecutionStatus = 'Running'`.
            limit: At most this many.

        Raises:
            WflowError: `INVALID` when the server refuses the query.
        """
        by_queue = {self.registry.task_queue_of(w): w for w in self.registry.workers()}
        types = {entry.id for entry in self.registry.workflows()}
        queues = " OR ".join(f"TaskQueue = '{queue}'" for queue in sorted(by_queue))
        text = f"({visibility_query}) AND ({queues})" if queues else visibility_query
        pids: list[str] = []
        seen: set[int] = set()
        for worker in self.registry.workers():
            client = await self._client(worker.id)
            if id(client) in seen:
                continue
            seen.add(id(client))
            try:
                async for execution in client.list_workflows(text, limit=limit):
                    owner = by_queue.get(execution.task_queue)
                    if owner is not None and execution.workflow_type in types:
                        pids.append(format_pid(owner.id, execution.id))
            except RPCError as exc:
                if exc.status == RPCStatusCode.INVALID_ARGUMENT:
                    raise WflowError(
                        f"invalid visibility query {visibility_query!r}: {exc.message}",
                        ErrorKind.INVALID,
                    ) from None
                raise WflowError(
                    f"listing workflows: {exc.message}", ErrorKind.UNAVAILABLE
                ) from None
        return pids[:limit]


def read_history_file(path: Path) -> WorkflowHistory:
    """Read a history exported as JSON (`wflow history --raw`, `temporal workflow show -o json`).

    The workflow ID is the file's stem: the export does not hold it.

    Raises:
        WflowError: `INVALID` naming the file when it cannot be read or is not a history.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise WflowError(f"cannot read history file {path}: {reason}", ErrorKind.INVALID) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WflowError(
            f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); expected a history as "
            "`wflow history --raw` or `temporal workflow show --output json` writes it",
            ErrorKind.INVALID,
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise WflowError(
            f"{path}: not a workflow history: expected a JSON object with an `events` list "
            "(as `wflow history --raw` or `temporal workflow show --output json` writes it)",
            ErrorKind.INVALID,
        )
    if not data["events"]:
        raise WflowError(f"{path}: the history has no events", ErrorKind.INVALID)
    try:
        return WorkflowHistory.from_json(path.stem, data)
    except Exception as exc:
        raise WflowError(
            f"{path}: not a valid workflow history: {exc}", ErrorKind.INVALID
        ) from None
