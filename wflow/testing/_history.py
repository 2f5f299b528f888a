"""Reading workflow histories in tests: wait for an event, compare runs event by event."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle, WorkflowHistory
from temporalio.converter import default as default_converter

__all__ = ["decode_payloads", "event_summary", "history_summary", "wait_for_event"]


async def wait_for_event(
    handle: WorkflowHandle[Any, Any],
    event_type: EventType.ValueType,
    timeout: float = 60,
    *,
    poll_interval: float = 0.2,
) -> HistoryEvent:
    """Wait until the workflow's history holds an event of `event_type`.

    Use it instead of sleeping, e.g. to kill a worker once a timer has started.

    Args:
        handle: The workflow.
        event_type: The event type, e.g. `EventType.EVENT_TYPE_TIMER_STARTED`.
        timeout: Seconds to wait at most.
        poll_interval: Seconds between two fetches of the history.

    Returns:
        The first event of that type.

    Raises:
        TimeoutError: No such event appeared within `timeout` seconds.
    """

    async def poll() -> HistoryEvent:
        while True:
            history = await handle.fetch_history()
            for event in history.events:
                if event.event_type == event_type:
                    return event
            await asyncio.sleep(poll_interval)

    return await asyncio.wait_for(poll(), timeout)


def decode_payloads(payloads: Payloads) -> list[Any]:
    """Decode a history event's payloads with the default (JSON) payload converter.

    Args:
        payloads: The `Payloads` of an event (its input, result, ...).

    Returns:
        The values, one per payload.
    """
    converter = default_converter().payload_converter
    return list(converter.from_payloads(list(payloads.payloads)))


def event_summary(event: HistoryEvent) -> tuple[Any, ...]:
    """Summarize one history event by what must agree between a Lua workflow and its twin.

    The event type's name comes first (`ACTIVITY_TASK_SCHEDULED`, ...), then for a start its
    input and task queue; for a scheduled activity its ID, type, input, task queue, timeouts,
    retry policy and header names; for a completed activity or workflow its result; for a
    timer its ID and duration; for a failed workflow its message, error type and whether it
    is non-retryable. Other events are their name only. Language-specific fields (worker
    identity, timestamps, event IDs of tasks) are left out.

    Args:
        event: The event.

    Returns:
        A tuple that compares equal for equivalent events.
    """
    kind = event.event_type
    name = EventType.Name(kind).removeprefix("EVENT_TYPE_")
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        attrs = event.workflow_execution_started_event_attributes
        return (name, decode_payloads(attrs.input), attrs.task_queue.name)
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        a = event.activity_task_scheduled_event_attributes
        return (
            name,
            a.activity_id,
            a.activity_type.name,
            decode_payloads(a.input),
            a.task_queue.name,
            a.start_to_close_timeout.ToTimedelta(),
            a.schedule_to_close_timeout.ToTimedelta(),
            a.heartbeat_timeout.ToTimedelta(),
            a.retry_policy.SerializeToString(deterministic=True),
            sorted(a.header.fields),
        )
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        return (name, decode_payloads(event.activity_task_completed_event_attributes.result))
    if kind == EventType.EVENT_TYPE_TIMER_STARTED:
        t = event.timer_started_event_attributes
        return (name, t.timer_id, t.start_to_fire_timeout.ToTimedelta())
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        return (name, decode_payloads(event.workflow_execution_completed_event_attributes.result))
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        failure = event.workflow_execution_failed_event_attributes.failure
        info = failure.application_failure_info
        return (name, failure.message, info.type, info.non_retryable)
    return (name,)


def history_summary(history: WorkflowHistory | Iterable[HistoryEvent]) -> list[tuple[Any, ...]]:
    """Summarize a whole history with `event_summary`, event by event.

    Two runs that did the same thing (a Lua workflow and its Python twin, a run before and
    after a refactoring) have equal summaries.

    Args:
        history: A `WorkflowHistory` (from `handle.fetch_history()`) or its events.

    Returns:
        One summary per event, in history order.
    """
    events = history.events if isinstance(history, WorkflowHistory) else history
    return [event_summary(event) for event in events]
