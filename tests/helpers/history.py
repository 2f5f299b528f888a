"""Waiting on workflow histories instead of sleeping."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle
from temporalio.converter import default as default_converter


async def wait_for_event(
    handle: WorkflowHandle[Any, Any], event_type: EventType.ValueType, timeout: float = 60
) -> None:
    """Return once the workflow's history holds an event of `event_type`."""

    async def poll() -> None:
        while True:
            history = await handle.fetch_history()
            if any(event.event_type == event_type for event in history.events):
                return
            await asyncio.sleep(0.2)

    await asyncio.wait_for(poll(), timeout)


def decode_payloads(payloads: Any) -> list[Any]:
    converter = default_converter().payload_converter
    return list(converter.from_payloads(list(payloads.payloads)))


def event_summary(event: HistoryEvent) -> tuple[Any, ...]:
    """What must agree between twins for one event (language-specific fields left out)."""
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
