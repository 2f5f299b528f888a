"""The one implementation of `WorkflowRuntime`, on Temporal's workflow API."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import temporalio.common
import temporalio.exceptions
from temporalio import workflow

from wflow.model import (
    ActivityOptions,
    WflowError,
    WorkflowInfo,
    current_call_site,
    format_duration,
    make_uuid7,
)
from wflow.registry import Entry, Registry
from wflow.temporal._call_handles import TaskCallHandle
from wflow.temporal._error_mapping import to_wflow_error
from wflow.temporal._headers import outgoing_context, workflow_context
from wflow.temporal._payloads import check_payload_sizes
from wflow.temporal._policies import retry_policy
from wflow.temporal._processes import RunProcesses
from wflow.temporal._targets import function_entry

__all__ = ["TemporalRuntime"]


def _summary(call: str) -> str:
    """What Temporal's web UI shows for a call: `funcs.call app.api:charge_card at order.lua:3`."""
    where = current_call_site()
    return f"{call} at {where}" if where else call


class _ActivityHandle(TaskCallHandle):
    """A started call; wraps the activity task so failures surface as `WflowError`."""

    def _translate(self, exc: BaseException) -> WflowError | None:
        if isinstance(exc, temporalio.exceptions.ActivityError):
            return to_wflow_error(exc)
        return None


class _CallTarget:
    """A function entry a run calls, with what each call needs of it, looked up once."""

    __slots__ = ("_task_queue", "entry_id", "local")

    def __init__(self, entry: Entry) -> None:
        self.entry_id = entry.id  # a property that builds the string: read once
        self.local = entry.runs_as_local_activity()
        self._task_queue: str | None = None

    def task_queue(self, registry: Registry) -> str:
        """The task queue of the entry's activity worker (read when a call names none)."""
        if self._task_queue is None:
            self._task_queue = registry.task_queue_of(registry.worker_of(self.entry_id, "activity"))
        return self._task_queue


class TemporalRuntime(RunProcesses):
    """Executes the intercepted calls of one workflow run on Temporal.

    The process half (messages, children, versions, state) is `RunProcesses`; this class adds
    function calls, timers, the clock and randomness.

    Args:
        entry_id: The workflow entry being run.
        namespace: Its registry namespace, for resolving bare function names.
        registry: The project registry.
    """

    def __init__(self, entry_id: str, namespace: str, registry: Registry) -> None:
        super().__init__(entry_id, namespace, registry)
        self._call_targets: dict[str, _CallTarget] = {}

    @property
    def processes(self) -> RunProcesses:
        """The process half of this runtime (the workflow class's handlers call it)."""
        return self

    def info(self) -> WorkflowInfo:
        """Return facts about the running workflow."""
        info = workflow.info()
        return WorkflowInfo(
            workflow_id=info.workflow_id,
            run_id=info.run_id,
            workflow_type=info.workflow_type,
            task_queue=info.task_queue,
            namespace=info.namespace,
            attempt=info.attempt,
            history_length=info.get_current_history_length(),
            entry_id=self._entry_id,
            history_size=info.get_current_history_size(),
            context=workflow_context(),
        )

    def now(self) -> datetime:
        """Return the workflow clock."""
        return workflow.now()

    def uuid4(self) -> uuid.UUID:
        """Return a deterministic random UUID."""
        return workflow.uuid4()

    def uuid7(self) -> uuid.UUID:
        """Return a UUIDv7 from the workflow clock and deterministic randomness."""
        return make_uuid7(int(workflow.now().timestamp() * 1000), workflow.random().getrandbits(74))

    def random_seed(self) -> int:
        """Return 64 deterministic random bits."""
        return workflow.random().getrandbits(64)

    async def sleep(self, duration: timedelta) -> None:
        """Wait on a durable timer (its summary names the call and where it was made)."""
        await workflow.sleep(duration, summary=_summary(f"time.sleep {format_duration(duration)}"))

    def _call_target(self, target: str) -> _CallTarget:
        # A run resolves the same few targets again and again (a loop of calls): the registry
        # does not change under a run, so each is looked up once per run, not once per call.
        found = self._call_targets.get(target)
        if found is None:
            try:
                entry = function_entry(self._registry, target, self._namespace)
            except WflowError as exc:
                raise WflowError(f"funcs.call: {exc.message}", exc.kind) from None
            found = self._call_targets[target] = _CallTarget(entry)
        return found

    def _schedule(
        self, target: str, args: Sequence[Any], options: ActivityOptions
    ) -> asyncio.Future[Any]:
        found = self._call_target(target)
        entry_id = found.entry_id
        check_payload_sizes(args, entry_id)
        task_queue = options.task_queue or found.task_queue(self._registry)
        # The workflow's own context goes along, overridden by the call's (`with_context`).
        token = outgoing_context.set({**workflow_context(), **options.context} or None)
        cancellation = (
            workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
            if options.wait_for_cancellation
            else workflow.ActivityCancellationType.TRY_CANCEL
        )
        try:
            if found.local:
                # `meta.temporal.activity.local`: run in the workflow's worker, recorded as a
                # local activity (no task queue, no heartbeats).
                return workflow.start_local_activity(
                    entry_id,
                    args=list(args),
                    start_to_close_timeout=options.effective_start_to_close(),
                    schedule_to_close_timeout=options.schedule_to_close_timeout,
                    schedule_to_start_timeout=options.schedule_to_start_timeout,
                    retry_policy=retry_policy(options.retry_policy),
                    cancellation_type=cancellation,
                    activity_id=options.activity_id,
                    summary=options.summary,
                )
            return workflow.start_activity(
                entry_id,
                args=list(args),
                task_queue=task_queue,
                start_to_close_timeout=options.effective_start_to_close(),
                schedule_to_close_timeout=options.schedule_to_close_timeout,
                schedule_to_start_timeout=options.schedule_to_start_timeout,
                heartbeat_timeout=options.heartbeat_timeout,
                retry_policy=retry_policy(options.retry_policy),
                cancellation_type=cancellation,
                activity_id=options.activity_id,
                summary=options.summary or _summary(f"funcs.call {entry_id}"),
                priority=temporalio.common.Priority(priority_key=options.priority),
            )
        finally:
            outgoing_context.reset(token)

    async def call(self, target: str, args: Sequence[Any], options: ActivityOptions) -> Any:
        """Call a function entry as an activity and wait for it."""
        return await self.start_call(target, args, options).result()

    def start_call(
        self, target: str, args: Sequence[Any], options: ActivityOptions
    ) -> _ActivityHandle:
        """Schedule a function entry as an activity."""
        return _ActivityHandle(self._schedule(target, args, options))
