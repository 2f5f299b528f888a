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

from wflow.model import ActivityOptions, ErrorKind, RetryPolicy, WflowError, WorkflowInfo
from wflow.temporal._call_context import pending_context
from wflow.temporal._errors import to_wflow_error

__all__ = ["TemporalRuntime"]

_FUNCTION_KINDS = ("function.py", "function.lua")


def _retry_policy(policy: RetryPolicy | None) -> temporalio.common.RetryPolicy | None:
    if policy is None:
        return None
    kwargs: dict[str, Any] = {}
    if policy.initial_interval is not None:
        kwargs["initial_interval"] = policy.initial_interval
    if policy.backoff_coefficient is not None:
        kwargs["backoff_coefficient"] = policy.backoff_coefficient
    if policy.maximum_interval is not None:
        kwargs["maximum_interval"] = policy.maximum_interval
    if policy.maximum_attempts is not None:
        kwargs["maximum_attempts"] = policy.maximum_attempts
    if policy.non_retryable_error_types:
        kwargs["non_retryable_error_types"] = list(policy.non_retryable_error_types)
    return temporalio.common.RetryPolicy(**kwargs)


class _ActivityHandle:
    """A started call; wraps the activity task so failures surface as `WflowError`."""

    def __init__(self, task: asyncio.Future[Any]) -> None:
        self._task = task

    def done(self) -> bool:
        return self._task.done()

    async def result(self) -> Any:
        try:
            return await asyncio.shield(self._task)
        except temporalio.exceptions.ActivityError as exc:
            raise to_wflow_error(exc) from None

    def cancel(self) -> None:
        self._task.cancel()


class TemporalRuntime:
    """Executes the intercepted calls of one workflow run on Temporal.

    Args:
        entry_id: The workflow entry being run.
        namespace: Its registry namespace, for resolving bare function names.
        registry: The project registry.
    """

    def __init__(self, entry_id: str, namespace: str, registry: Any) -> None:
        self._entry_id = entry_id
        self._namespace = namespace
        self._registry = registry

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
        )

    def now(self) -> datetime:
        """Return the workflow clock."""
        return workflow.now()

    def uuid4(self) -> uuid.UUID:
        """Return a deterministic random UUID."""
        return workflow.uuid4()

    def uuid7(self) -> uuid.UUID:
        """Return a UUIDv7 from the workflow clock and deterministic randomness."""
        millis = int(workflow.now().timestamp() * 1000) & ((1 << 48) - 1)
        rand = workflow.random().getrandbits(74)
        value = (millis << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62)
        value |= rand & ((1 << 62) - 1)
        return uuid.UUID(int=value)

    def random_seed(self) -> int:
        """Return 64 deterministic random bits."""
        return workflow.random().getrandbits(64)

    async def sleep(self, duration: timedelta) -> None:
        """Wait on a durable timer."""
        await workflow.sleep(duration)

    def _function_entry(self, target: str) -> Any:
        try:
            entry_id = self._registry.resolve(target, self._namespace)
            entry = self._registry.get(entry_id)
        except WflowError as exc:
            raise WflowError(f"funcs.call: {exc.message}", ErrorKind.NOT_FOUND) from None
        if entry.kind not in _FUNCTION_KINDS:
            raise WflowError(
                f"funcs.call: {entry_id} is a {entry.kind} entry, not a function",
                ErrorKind.INVALID,
            )
        return entry

    def _schedule(
        self, target: str, args: Sequence[Any], options: ActivityOptions
    ) -> asyncio.Future[Any]:
        entry = self._function_entry(target)
        task_queue = options.task_queue or self._registry.task_queue_of(
            self._registry.worker_of(entry.id, "activity")
        )
        token = pending_context.set(options.context or None)
        try:
            return workflow.start_activity(
                entry.id,
                args=list(args),
                task_queue=task_queue,
                start_to_close_timeout=options.effective_start_to_close(),
                schedule_to_close_timeout=options.schedule_to_close_timeout,
                heartbeat_timeout=options.heartbeat_timeout,
                retry_policy=_retry_policy(options.retry_policy),
            )
        finally:
            pending_context.reset(token)

    async def call(self, target: str, args: Sequence[Any], options: ActivityOptions) -> Any:
        """Call a function entry as an activity and wait for it."""
        return await self.start_call(target, args, options).result()

    def start_call(
        self, target: str, args: Sequence[Any], options: ActivityOptions
    ) -> _ActivityHandle:
        """Schedule a function entry as an activity."""
        return _ActivityHandle(self._schedule(target, args, options))
