"""Same model: each seed Lua script and its Python twin leave the same Temporal history.

Both run on the time-skipping server with the same scenario; the comparison covers the event
type sequence, every scheduled activity (type, decoded inputs, task queue, timeouts, retry
policy, headers), timer durations, and the workflow's result or failure.
"""

from __future__ import annotations

import contextlib
import importlib
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowFailureError
from temporalio.converter import default as default_converter
from temporalio.testing import WorkflowEnvironment

from wflow.registry import load_project
from wflow.temporal import Session

pytestmark = pytest.mark.timeout(120)

EXAMPLE = Path(__file__).parent.parent / "examples" / "orders_lua"

CASES = [
    ("order_processor", {"card": "4000000000000002"}),
    ("order_processor", {"card": "4242424242424242"}),
    ("order_saga", {}),
    ("order_saga", {"fail_at": "inventory"}),
    ("order_saga", {"fail_at": "payment"}),
    ("order_saga", {"fail_at": "shipping"}),
]


def _decode(payloads: Any) -> list[Any]:
    converter = default_converter().payload_converter
    return list(converter.from_payloads(list(payloads.payloads)))


def _summary(event: HistoryEvent) -> tuple[Any, ...]:
    """What must agree between twins for one event (language-specific fields left out)."""
    kind = event.event_type
    name = EventType.Name(kind).removeprefix("EVENT_TYPE_")
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        attrs = event.workflow_execution_started_event_attributes
        return (name, _decode(attrs.input), attrs.task_queue.name)
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        a = event.activity_task_scheduled_event_attributes
        return (
            name,
            a.activity_id,
            a.activity_type.name,
            _decode(a.input),
            a.task_queue.name,
            a.start_to_close_timeout.ToTimedelta(),
            a.schedule_to_close_timeout.ToTimedelta(),
            a.heartbeat_timeout.ToTimedelta(),
            a.retry_policy.SerializeToString(deterministic=True),
            sorted(a.header.fields),
        )
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        return (name, _decode(event.activity_task_completed_event_attributes.result))
    if kind == EventType.EVENT_TYPE_TIMER_STARTED:
        t = event.timer_started_event_attributes
        return (name, t.timer_id, t.start_to_fire_timeout.ToTimedelta())
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        return (name, _decode(event.workflow_execution_completed_event_attributes.result))
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        failure = event.workflow_execution_failed_event_attributes.failure
        info = failure.application_failure_info
        return (name, failure.message, info.type, info.non_retryable)
    return (name,)


async def _history(session: Session, entry_id: str) -> list[tuple[Any, ...]]:
    handle = await session.start(entry_id, [])
    # A failing saga raises here; its failure is part of the comparison.
    with contextlib.suppress(WorkflowFailureError):
        await handle.result()
    history = await handle.fetch_history()
    return [_summary(event) for event in history.events]


@pytest.mark.parametrize(("script", "scenario"), CASES, ids=lambda v: str(v))
async def test_lua_script_and_python_twin_have_the_same_history(
    time_skipping_env: WorkflowEnvironment,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    script: str,
    scenario: dict[str, str],
) -> None:
    monkeypatch.setenv("WFLOW_EXAMPLE_LEDGER", str(tmp_path / "ledger.sqlite3"))
    monkeypatch.setenv("WFLOW_TQ_PREFIX", f"t{uuid.uuid4().hex[:10]}-")
    registry = load_project(EXAMPLE)
    importlib.import_module("shop_functions").set_scenario(**scenario)
    async with Session(registry, client=time_skipping_env.client) as session:
        lua = await _history(session, f"app.workflows:{script}")
        python = await _history(session, f"app.twins:{script}")

    assert lua == python
    # The comparison is not vacuous: the histories hold the calls of the script.
    activities = [event[2] for event in lua if event[0] == "ACTIVITY_TASK_SCHEDULED"]
    assert activities[0] in ("app.api:charge_card", "app.inventory:reserve")
    if script == "order_processor":
        assert [e[2] for e in lua if e[0] == "TIMER_STARTED"] == [timedelta(hours=24)]
        assert len(activities) == (3 if scenario["card"].endswith("0002") else 2)
    if scenario.get("fail_at"):
        assert lua[-1][0] == "WORKFLOW_EXECUTION_FAILED"
