"""A session: servers, clients and in-process workers for one project."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle

from wflow.model import format_duration
from wflow.registry import Registry, TemporalClientEntry
from wflow.temporal._attempt_cap import MAX_ATTEMPTS_MEMO
from wflow.temporal._client import connect_client, with_entry_settings
from wflow.temporal._error_mapping import to_wflow_error
from wflow.temporal._exit_scope import ExitStackScope
from wflow.temporal._failure_reports import (
    FailureReport,
    FailureSink,
    error_kind_and_message,
    location_in_stack_trace,
    returned_error_location,
)
from wflow.temporal._payloads import check_payload_sizes, with_wflow_converter
from wflow.temporal._process_hosting import ProcessHosting
from wflow.temporal._process_transport import OP_ACTIVITY
from wflow.temporal._servers import DEFAULT_ADDRESS, is_local_address
from wflow.temporal._targets import default_workflow_id, workflow_entry, workflow_metadata
from wflow.temporal._worker import build_workers

__all__ = ["Session", "describe_event"]

_CLOSING_EVENTS = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    }
)


def describe_event(event: HistoryEvent) -> str | None:
    """Return a one-line, human description of a history event worth showing, or None."""
    kind = event.event_type
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        name = event.activity_task_scheduled_event_attributes.activity_type.name
        if name == OP_ACTIVITY:
            # One activity type for every process operation: its summary says which.
            return _plain_text(event.user_metadata.summary) or "process operation"
        return f"calling {name}"
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        failure = event.activity_task_failed_event_attributes.failure
        return f"call failed: {failure.message}"
    if kind == EventType.EVENT_TYPE_TIMER_STARTED:
        timeout = event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
        return f"sleeping {format_duration(timeout)}"
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        return f"received {event.workflow_execution_signaled_event_attributes.signal_name}"
    if kind == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        attrs = event.start_child_workflow_execution_initiated_event_attributes
        return f"starting child {attrs.workflow_type.name}"
    if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
        return (
            f"workflow task failed: {event.workflow_task_failed_event_attributes.failure.message}"
        )
    return None


def _plain_text(payload: Payload) -> str | None:
    """Return a JSON string payload's text (None when encoded otherwise, e.g. encrypted)."""
    if payload.metadata.get("encoding") != b"json/plain":
        return None
    try:
        text = json.loads(payload.data)
    except ValueError:
        return None
    return text if isinstance(text, str) else None


class Session(ExitStackScope):
    """Servers, clients and workers for one project, for the lifetime of an `async with`.

    Args:
        registry: The loaded project.
        mode: `"auto"` connects to each `temporal.client` entry's address, starting the
            embedded dev server when a local address has no server; `"time-skipping"` runs
            everything on the time-skipping test server.
        state_dir: Where the embedded server keeps its database; `PROJECT/.wflow` by default.
        address: Overrides every client's address.
        progress: Called with one line per step of workflows this session executes.
        start_workers: Start the project's workers in this process.
        client: Use this connected client for every `temporal.client` entry instead of
            connecting (and starting no server); for tests and embedding.
        failures: Told about each failure of user code: every failed function attempt and
            workflow task the in-process workers run, and the failures recorded in the history
            of workflows this session executes (`wflow.temporal._failure_reports`).
        sync_schedules: Create or update the project's `temporal.schedule` entries on the
            cluster once the workers run (`wflow worker` and `wflow dev` do); undeclared ones
            are reported through `progress`.
        services: Told one line per start, exit, restart and exhaustion of a
            `process.service` this session's process hosts run.
    """

    def __init__(
        self,
        registry: Registry,
        *,
        mode: Literal["auto", "time-skipping"] = "auto",
        state_dir: Path | None = None,
        address: str | None = None,
        progress: Callable[[str], None] | None = None,
        start_workers: bool = True,
        client: Client | None = None,
        failures: FailureSink | None = None,
        sync_schedules: bool = False,
        services: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        self.registry = registry
        self._sync_schedules = sync_schedules
        self._mode = mode
        root = registry.root
        self._state_dir = state_dir or (root / ".wflow" if root else Path(".wflow"))
        self._address = address
        self._progress = progress
        self._start_workers = start_workers
        self._clients: dict[str | None, Client] = {}
        self._given_client = client
        self._failures = failures
        self._services = services
        self.processes: ProcessHosting | None = None
        self._workflow_types: dict[str, str] = {}
        self.server_address: str | None = None
        self.ui_url: str | None = None

    async def _open(self) -> None:
        await self._connect()
        if self._start_workers:
            for worker in build_workers(self.registry, self._clients, failures=self._failures):
                await self._stack.enter_async_context(worker)
            # Process hosts (and their services) run where the workers run.
            self.processes = await self._stack.enter_async_context(
                ProcessHosting(self.registry, self._clients, self._services)
            )
        if self._sync_schedules and self.registry.schedules():
            from wflow.temporal._schedules import sync_schedules

            report = await sync_schedules(self.registry, self._clients)
            for line in report.lines():
                if self._progress is not None:
                    self._progress(line)

    async def _register_declared_search_attributes(self) -> None:
        """Teach a local server (given client, time-skipping) its clients' declared attributes."""
        from wflow.temporal._search_attributes import register_search_attributes

        for entry in self.registry.clients():
            if entry.search_attributes:
                await register_search_attributes(self._clients[entry.id], entry.search_attributes)

    async def _connect(self) -> None:
        from wflow.temporal._servers import ensure_local_server, start_time_skipping

        if self._given_client is not None:
            given = with_wflow_converter(self._given_client)
            for entry in [*self.registry.clients(), None]:
                self._clients[entry.id if entry is not None else None] = (
                    with_entry_settings(given, entry) if entry is not None else given
                )
            self.server_address = self._given_client.service_client.config.target_host
            if is_local_address(self.server_address):
                await self._register_declared_search_attributes()
            return
        if self._mode == "time-skipping":
            env = await start_time_skipping()
            self._stack.push_async_callback(env.shutdown)
            self.server_address = "time-skipping test server"
            for entry in [*self.registry.clients(), None]:
                self._clients[entry.id if entry is not None else None] = (
                    with_entry_settings(env.client, entry) if entry is not None else env.client
                )
            await self._register_declared_search_attributes()
            return
        entries: list[TemporalClientEntry | None] = [*self.registry.clients()] or [None]
        for entry in entries:
            address = self._address or (entry.address if entry is not None else DEFAULT_ADDRESS)
            namespace = entry.temporal_namespace if entry is not None else "default"
            if is_local_address(address):
                server = await ensure_local_server(
                    self._state_dir, address, namespace, client=entry
                )
                if server is not None:
                    self._stack.push_async_callback(server.stop)
                    self.ui_url = self.ui_url or server.ui_url
            client = await connect_client(entry, address=address)
            self._clients[entry.id if entry is not None else None] = client
            if entry is not None and entry.search_attributes and is_local_address(address):
                # The embedded dev server (or any local one) learns the declared attributes.
                from wflow.temporal._search_attributes import register_search_attributes

                await register_search_attributes(client, entry.search_attributes)
            self.server_address = self.server_address or address
        if None not in self._clients:
            self._clients[None] = next(iter(self._clients.values()))

    def client_for_workflow(self, entry_id: str) -> tuple[Client, str]:
        """Return the client and task queue that start workflow `entry_id`."""
        entry = workflow_entry(self.registry, entry_id, "")
        worker = self.registry.worker_of(entry.id, "workflow")
        client_entry = self.registry.client_of(worker)
        client = self._clients[client_entry.id if client_entry is not None else None]
        return client, self.registry.task_queue_of(worker)

    async def start(
        self,
        entry_id: str,
        args: Sequence[Any],
        *,
        workflow_id: str | None = None,
        max_attempts: int | None = None,
    ) -> WorkflowHandle[Any, Any]:
        """Start workflow `entry_id` and return its handle.

        Args:
            entry_id: The workflow entry.
            args: Its arguments.
            workflow_id: The workflow ID (default: the entry ID and a random suffix).
            max_attempts: Cap every function call of this workflow (and its children) at
                that many attempts (`wflow.temporal._attempt_cap`); None keeps Temporal's
                retry policies.
        """
        client, task_queue = self.client_for_workflow(entry_id)
        check_payload_sizes(args, entry_id)
        workflow_id = workflow_id or default_workflow_id(entry_id, uuid.uuid4())
        self._workflow_types[workflow_id] = entry_id
        memo = {MAX_ATTEMPTS_MEMO: max_attempts} if max_attempts is not None else None
        target = workflow_entry(self.registry, entry_id, "")
        summary, details = workflow_metadata(target, self.registry)
        return await client.start_workflow(
            target.workflow_type(),
            args=list(args),
            id=workflow_id,
            task_queue=task_queue,
            memo=memo,
            static_summary=summary,
            static_details=details,
        )

    async def result(self, handle: WorkflowHandle[Any, Any]) -> Any:
        """Wait for a workflow's result, reporting progress; raise `WflowError` on failure."""
        follower = None
        if self._progress is not None or self._failures is not None:
            follower = asyncio.create_task(self._follow(handle))
        finished = False
        try:
            result = await handle.result()
            finished = True
            return result
        except WorkflowFailureError as exc:
            finished = True
            raise to_wflow_error(exc.cause) from None
        finally:
            if follower is not None:
                if finished:
                    # Let it show the history's last steps (a time-skipping run can end
                    # before its first poll); its iteration ends with the workflow.
                    with contextlib.suppress(asyncio.TimeoutError, Exception):
                        await asyncio.wait_for(asyncio.shield(follower), timeout=3)
                follower.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await follower

    async def execute(
        self,
        entry_id: str,
        args: Sequence[Any],
        *,
        workflow_id: str | None = None,
        max_attempts: int | None = None,
    ) -> Any:
        """Start workflow `entry_id` and wait for its result (arguments as for `start`).

        Raises:
            WflowError: The workflow failed, with the kind it failed with.
        """
        handle = await self.start(
            entry_id, args, workflow_id=workflow_id, max_attempts=max_attempts
        )
        if self._progress is not None:
            self._progress(f"started {entry_id} as {handle.id}")
        return await self.result(handle)

    async def run_workers_until(self, stop: asyncio.Event) -> None:
        """Keep the workers running until `stop` is set."""
        await stop.wait()

    async def _follow(self, handle: WorkflowHandle[Any, Any]) -> None:
        activities: dict[int, str] = {}
        async for event in self._history(handle):
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                name = event.activity_task_scheduled_event_attributes.activity_type.name
                activities[event.event_id] = name
            report = self._history_failure(handle, event, activities)
            if report is not None and self._failures is not None:
                self._failures(report)
                continue
            line = describe_event(event)
            if line is not None and self._progress is not None:
                self._progress(line)

    async def _history(self, handle: WorkflowHandle[Any, Any]) -> AsyncIterator[HistoryEvent]:
        if self._mode != "time-skipping":
            async for event in handle.fetch_history_events(wait_new_event=True):
                yield event
            return
        # The Java test server never answers a long poll for new history events (it blocks
        # without events until the workflow ends); poll the whole history instead.
        seen = 0
        while True:
            events = [event async for event in handle.fetch_history_events()]
            for event in events[seen:]:
                yield event
            seen = len(events)
            if events and events[-1].event_type in _CLOSING_EVENTS:
                return
            await asyncio.sleep(0.2)

    def _history_failure(
        self,
        handle: WorkflowHandle[Any, Any],
        event: HistoryEvent,
        activities: dict[int, str],
    ) -> FailureReport | None:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            attrs = event.activity_task_failed_event_attributes
            failure = attrs.failure
            entry_id = activities.get(attrs.scheduled_event_id, "?")
            what: Literal["call", "workflow task"] = "call"
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            failure = event.workflow_task_failed_event_attributes.failure
            entry_id = self._workflow_types.get(handle.id, "?")
            what = "workflow task"
        else:
            return None
        kind_name, message, location = error_kind_and_message(
            failure.application_failure_info.type or "UNKNOWN", failure.message
        )
        location = location or location_in_stack_trace(failure.message, failure.stack_trace)
        if location is None and what == "call" and entry_id in self.registry:
            location = returned_error_location(self.registry.get(entry_id))
        return FailureReport(
            what=what,
            workflow_id=handle.id,
            entry_id=entry_id,
            kind=kind_name,
            message=message,
            location=location,
            final="retries over" if what == "call" else None,
            source="history",
        )
