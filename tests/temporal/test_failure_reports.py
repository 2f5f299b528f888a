"""Failure reports: located in the user's code, collapsed, and in Temporal's own records."""

from __future__ import annotations

import asyncio
import datetime
import uuid
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from tests.helpers.paths import FIXTURES
from wflow.registry import load_project
from wflow.temporal import Session
from wflow.temporal._attempt_cap import capped_policy
from wflow.temporal._failure_reports import (
    FailureLog,
    FailureReport,
    error_kind_and_message,
    location_in_stack_trace,
    lua_location,
    python_location,
    retry_delay,
)
from wflow.testing import EmbeddedDevServer

PROJECT = FIXTURES / "failures"
APP = PROJECT / "broken_app.py"


def report(attempt: int | None, **changes: object) -> FailureReport:
    fields: dict[str, object] = {
        "what": "call",
        "workflow_id": "wf-1",
        "entry_id": "app.api:charge_card",
        "kind": "ValueError",
        "message": "bad",
        "location": "app.py:9",
        "attempt": attempt,
        "next_attempt_in": datetime.timedelta(seconds=2),
    }
    fields.update(changes)
    return FailureReport(**fields)  # type: ignore[arg-type]


def test_repeated_failures_are_printed_at_2_4_8_and_when_closed() -> None:
    lines: list[str] = []
    log = FailureLog(lines.append, main_workflow_id="wf-1")
    for attempt in range(1, 11):
        log(report(attempt))
    assert len(lines) == 4
    assert lines[0].startswith("call app.api:charge_card failed (attempt 1): ValueError: bad")
    assert "(at app.py:9); next attempt at " in lines[0]
    assert [line.split(" failed ")[1].split(",")[0] for line in lines[1:]] == [
        "2 times",
        "4 times",
        "8 times",
    ]
    log.close()
    assert "failed 10 times, last at " in lines[-1]
    assert "attempt 10" in lines[-1]


def test_a_last_attempt_is_always_printed_and_history_duplicates_are_not() -> None:
    lines: list[str] = []
    log = FailureLog(lines.append)
    log(report(1))
    log(report(2))
    log(report(3, next_attempt_in=None, final="attempt 3 of 3"))
    assert lines[-1].startswith("[wf-1] call app.api:charge_card failed 3 times")
    assert lines[-1].endswith("no more attempts (attempt 3 of 3)")
    log(report(None, source="history"))
    assert len(lines) == 3


def test_time_skipping_shows_the_delay_only() -> None:
    lines: list[str] = []
    FailureLog(lines.append, time_skipping=True)(report(1))
    assert lines[0].endswith("; next attempt in 2s (server time)")


def test_locations_from_python_frames_lua_messages_and_stack_traces() -> None:
    namespace: dict[str, object] = {}
    code = compile("def boom():\n    raise ValueError('x')\n", str(APP), "exec")
    exec(code, namespace)
    try:
        namespace["boom"]()  # type: ignore[operator]
    except ValueError as exc:
        assert python_location(exc) == f"{APP.relative_to(Path.cwd())}:2"
    assert lua_location("order.lua:12: attempt to index a nil value") == "order.lua:12"
    assert lua_location("no position") is None
    assert error_kind_and_message("LuaScriptError", "order.lua:3: boom") == (
        "Lua error",
        "boom",
        "order.lua:3",
    )
    trace = f'  File "{APP}", line 27, in buggy\n    return x\n'
    assert location_in_stack_trace("KeyError", trace) == f"{APP.relative_to(Path.cwd())}:27"


def test_retry_delay_and_attempt_cap_follow_temporal_defaults() -> None:
    assert retry_delay(1, None, None, None) == datetime.timedelta(seconds=1)
    assert retry_delay(4, None, None, None) == datetime.timedelta(seconds=8)
    assert retry_delay(30, None, None, None) == datetime.timedelta(seconds=100)
    assert capped_policy(None, 2).maximum_attempts == 2
    assert capped_policy(capped_policy(None, 1), 5).maximum_attempts == 1


async def test_temporal_records_carry_the_users_file_and_line(
    dev_server: EmbeddedDevServer,
) -> None:
    client = await Client.connect(dev_server.address)
    reports: list[FailureReport] = []
    registry = load_project(PROJECT)
    async with Session(registry, client=client, failures=reports.append) as session:
        charge = await session.start(
            "app.workflows:charge",
            [{"order_id": "A", "amount": 0}],
            workflow_id=f"c-{uuid.uuid4()}",
        )
        buggy = await session.start(
            "app.workflows:buggy", [{"order_id": "A", "amount": 5}], workflow_id=f"b-{uuid.uuid4()}"
        )
        stack_trace = ""
        for _ in range(100):
            pending = (await charge.describe()).raw_description.pending_activities
            if pending and pending[0].last_failure.message:
                stack_trace = pending[0].last_failure.stack_trace
                break
            await asyncio.sleep(0.1)
        assert 'broken_app.py", line 9, in charge_card' in stack_trace
        task_failure = None
        for _ in range(100):
            async for event in buggy.fetch_history_events():
                if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                    task_failure = event.workflow_task_failed_event_attributes.failure
            if task_failure is not None:
                break
            await asyncio.sleep(0.1)
        assert task_failure is not None
        assert 'broken_app.py", line 27, in buggy' in task_failure.stack_trace
        await charge.terminate()
        await buggy.terminate()
    located = {(r.what, r.entry_id): r.location for r in reports}
    assert str(located[("call", "app.api:charge_card")]).endswith("broken_app.py:9")
    assert str(located[("workflow task", "app.workflows:buggy")]).endswith("broken_app.py:27")
