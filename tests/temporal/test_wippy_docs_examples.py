"""The workflow examples of Wippy's public docs, run unchanged on the time-skipping server.

`tests/fixtures/wippy_docs/workflows/` holds one workflow per documented example (repository
`wippyai/docs`, English pages `temporal/*`, `lua/core/{funcs,time,errors,context}`,
`lua/security/{uuid,crypto}`); the docs' lines are unchanged, lines marked `-- wrapper` only
require modules, define the snippet's free variables and return what it computed. Every
example runs; the test lists each one that failed, so one run counts them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.helpers.paths import FIXTURES
from wflow.registry import load_project
from wflow.temporal import Session
from wflow.testing import EmbeddedDevServer

pytestmark = pytest.mark.timeout(400)

PROJECT = FIXTURES / "wippy_docs"
EXAMPLES = sorted(p.stem for p in (PROJECT / "workflows").glob("*.lua"))

ORDER = {
    "id": "o-1",
    "total": 10,
    "customer_id": "c-1",
    "items": [1],
    "payment": {"card": "x"},
    "shipping": {"to": "y"},
    "shipping_address": "z",
}
ARGS: dict[str, list[Any]] = {
    "w_basic": [ORDER],
    "w_saga": [ORDER],
    "w_inbox": [ORDER],
    "w_concurrent": [{}],
    "w_version": [{"n": 1}],
}
SIGNALS: dict[str, list[tuple[str, Any]]] = {"w_inbox": [("approve", {})]}


def _is(value: Any) -> Callable[[Any], bool]:
    return lambda result: result == value


# What each example computes, where the docs state it (their comments) or it is fixed.
EXPECTED: dict[str, Callable[[Any], bool]] = {
    "w_basic": _is({"status": "completed", "payment_id": "pay-1", "tracking": "trk-1"}),
    "w_info": lambda r: r["size"] > 0 and r["length"] > 0,
    "w_history": lambda r: r["size"] > 0 and r["length"] > 0,
    "w_exec": _is({"child": True, "input": {"n": 1}}),
    "w_version": lambda r: r["version"] == 2,
    "w_concurrent": lambda r: r["total"] == 42 and len(r["processed"]) == 6,
    # Workflow time is the workflow task's start: a little after the timer fired.
    "w_timers": lambda r: r >= 1000,
    "w_replay_safe": lambda r: r["bytes"] == 32 and r["v"] == 2 and len(r["id"]) == 36,
    "w_activity_errors": _is({"kind": "NOT_FOUND", "retryable": False}),
    # The activities page's failure table: a runtime crash is `Internal`, not retryable.
    "w_failure_modes": _is({"kind": "INTERNAL", "retryable": False}),
    "w_child_errors": _is({"kind": "NOT_FOUND", "retryable": False}),
    "w_saga": _is({"status": "completed", "tracking": "trk-1"}),
    "w_inbox": lambda r: r["status"] == "approved",
    "a_retry_policy": _is({"kind": "INVALID", "attempts": 1}),
    "a_missing": _is({"kind": "NOT_FOUND", "retryable": False}),
    "a_error_objects": _is(
        {"kind": "INVALID", "retryable": False, "message": "amount must be positive"}
    ),
    "a_context": lambda r: r["trace_id"] == "abc-123" and r["all"] == {"trace_id": "abc-123"},
    "f_call": _is("Ada"),
    "f_async": _is({"id": "res-1", "args": [[1, 2, 3]]}),
    "f_with_context": lambda r: r["all"] == {"feature_flags": {"dark_mode": True}},
    "f_response_select": _is({"done": True}),
    "f_is_complete": _is({"done": True}),
    "f_is_canceled": lambda r: r["canceled"] is True,
    "f_parallel": lambda r: r["user"]["name"] == "Ada" and "orders" in r and "prefs" in r,
    "t_now": lambda r: r >= 1000,  # as w_timers
    "t_date": lambda r: r[0] == "2024-12-25T10:30:00Z" and r[1] == "2024-01-15T14:00:00-05:00",
    "t_unix": _is(["2023-12-29T15:04:05Z", 1703862245]),
    "t_parse": _is(
        [
            "2024-12-29T15:04:05Z",
            "2024-12-29T00:00:00Z",
            "14:30:00",
            "2024-12-29T14:30:00Z",  # Go: an abbreviation the location does not use is +00:00
            "2024-12-29T14:30:00-05:00",
        ]
    ),
    "t_arithmetic": _is({"hours": 24, "future": 90, "week": 168}),
    "t_compare": _is([True, True, True]),
    "t_format": _is(["2024-12-29", "15:04:05", "Sun Dec 29, 2024"]),
    "t_components": _is([2024, 12, 29, 15, 4, 5, 7, 0, 364, False]),
    "t_after": _is("pong"),
    "t_zones": _is(["2024-01-15T12:00:00+05:30", "2024-07-01T08:00:00-04:00", "Asia/Tokyo"]),
    "t_rounding": _is(["2024-12-29T16:00:00Z", "2024-12-29T15:30:00Z"]),
    "t_duration": _is([300, 5445.5, 5445500, 5445500000, 5445500000000, 90.75833333333334]),
    "t_sleep": _is(2),
    "t_timer": _is("ok"),
    "t_ticker": _is([1, 2, 3]),
    "t_constants": _is(
        [
            "2006-01-02T15:04:05Z07:00",
            "2006-01-02",
            "15:04:05",
            "3:04PM",
            12,
            6,
            "Mon, 02 Jan 2006 15:04:05 MST",
        ]
    ),
    "t_errors": _is(["INVALID", "NOT_FOUND"]),
    "e_create": _is(
        {
            "simple": "UNKNOWN",
            "direct": True,
            "wrapped": "UNAVAILABLE: failed to load users: connection refused",
            "wrapped_kind": "UNAVAILABLE",
            "fields": 2,
            "retryable": False,
        }
    ),
    "e_stack": lambda r: r["trace"] == "string" and r["frames"] >= 1,
    "c_ctx": _is({"values": {}}),  # the snippet's second line overwrites the first `err`
    "r_random": lambda r: r["bytes"] == 32 and r["str"] == 32 and len(r["id"]) == 36,
}


PY_TWIN = {
    "date_only": "2024-12-29",
    "ny": "2024-07-01T08:00:00-04:00",
    "ticks": 3,
    "history_size": True,
    "uuid": [1, "RFC4122", False],
    "v3": "c5e5f349-28ef-3f5a-98d6-0b32ee4d1743",
    "bytes": 32,
    "futures": ["Ada", True, None],
    "ctx": {"trace_id": "abc-123"},
    "invalid": ["INVALID", 1],
}


async def test_python_twin_does_the_same(time_skipping_env: WorkflowEnvironment) -> None:
    async with Session(load_project(PROJECT), client=time_skipping_env.client) as session:
        status, value = await _outcome(session, await session.start("app:py_twin", []))
    assert (status, value) == ("completed", PY_TWIN)


async def _outcome(session: Session, handle: WorkflowHandle[Any, Any]) -> tuple[str, Any]:
    """Wait until the workflow completes, fails, or fails a workflow task."""
    waiter = asyncio.ensure_future(session.result(handle))
    try:
        while True:
            done, _ = await asyncio.wait({waiter}, timeout=0.3)
            if done:
                try:
                    return "completed", waiter.result()
                except Exception as exc:
                    return "failed", str(exc)
            async for event in handle.fetch_history_events():
                if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                    failure = event.workflow_task_failed_event_attributes.failure
                    return "task failed", str(failure.message)
    finally:
        if not waiter.done():
            waiter.cancel()
            with contextlib.suppress(Exception):  # it may have finished meanwhile
                await handle.terminate("test over")


async def _run_one(session: Session, name: str) -> tuple[str, Any]:
    handle = await session.start(f"app:{name}", ARGS.get(name, []))
    for topic, payload in SIGNALS.get(name, []):
        await handle.signal(topic, payload)
    try:
        return await asyncio.wait_for(_outcome(session, handle), 20)
    except asyncio.TimeoutError:
        return "no outcome in 20s", None


async def test_documented_examples_run_unchanged(time_skipping_env: WorkflowEnvironment) -> None:
    registry = load_project(PROJECT)
    async with Session(registry, client=time_skipping_env.client) as session:
        # One at a time: the time-skipping server skips ahead while a result is awaited, so
        # workflow tasks queued behind many concurrent runs would time out on its clock.
        outcomes = [await _run_one(session, name) for name in EXAMPLES]
    failures = []
    for name, (status, value) in zip(EXAMPLES, outcomes, strict=True):
        check = EXPECTED.get(name)
        ok = status == "completed" and (check is None or _safe(check, value))
        if not ok:
            failures.append(f"{name}: {status}: {value!r}"[:400])
    report = f"{len(EXAMPLES) - len(failures)} of {len(EXAMPLES)} documented examples pass"
    print(report)
    assert not failures, report + "; failing:\n" + "\n".join(failures)


def _safe(check: Callable[[Any], bool], value: Any) -> bool:
    try:
        return bool(check(value))
    except (KeyError, TypeError, IndexError):
        return False


@pytest.mark.parametrize("entry", ["app:options", "app:py_options"])
async def test_activity_options_and_local_activity_reach_temporal(
    time_skipping_env: WorkflowEnvironment, entry: str
) -> None:
    async with Session(load_project(PROJECT), client=time_skipping_env.client) as session:
        handle = await session.start(entry, [])
        status, value = await _outcome(session, handle)
        assert (status, value) == (
            "completed",
            {"paid": "pay-1", "checked": {"id": "res-1", "args": [{"amount": 1}]}},
        )
        events = [e async for e in handle.fetch_history_events()]
    scheduled = [e for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
    # One remote activity with every option; validate_input ran as a local activity.
    assert len(scheduled) == 1
    attrs = scheduled[0].activity_task_scheduled_event_attributes
    assert attrs.activity_id == "charge-1"
    assert attrs.schedule_to_start_timeout.ToTimedelta().total_seconds() == 60
    assert attrs.priority.priority_key == 2
    assert b"charging the card" in scheduled[0].user_metadata.summary.data
    markers = [e for e in events if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED]
    assert [m.marker_recorded_event_attributes.marker_name for m in markers] == [
        "core_local_activity"
    ]


@pytest.mark.parametrize("lang", ["lua", "py"])
async def test_function_heartbeats_resume_and_cancellation_is_observed(
    dev_server: EmbeddedDevServer, lang: str
) -> None:
    # Real time: the waiter heartbeats in a real-time loop, which the time-skipping server
    # would skip past (its activity timeouts fire while the function is still running).
    async with Session(load_project(PROJECT), address=dev_server.address) as session:
        handle = await session.start(
            "app:heartbeats", [f"app:progress_{lang}", f"app:waiter_{lang}"]
        )
        status, value = await _outcome(session, handle)
    assert (status, value) == (
        "completed",
        {
            "resumed": {"resumed_from": 2, "finished": 3},
            "canceled": "CANCELED",
            "saw_cancel": True,
        },
    )


@pytest.mark.parametrize(
    ("entry", "args"), [("app:typed", []), ("app:py_typed", [{"name": "Ada", "city": "Berlin"}])]
)
async def test_typed_python_function_from_lua_and_python(
    time_skipping_env: WorkflowEnvironment, entry: str, args: list[Any]
) -> None:
    async with Session(load_project(PROJECT), client=time_skipping_env.client) as session:
        handle = await session.start(entry, args)
        status, value = await _outcome(session, handle)
        events = [e async for e in handle.fetch_history_events()]
    assert status == "completed"
    assert value["label"] == {"text": "Ada, 10115", "city": "Berlin"}
    kind, retryable, message = value["bad"]
    assert (kind, retryable) == ("INVALID", False)
    assert "customer.address.zip: Field required" in message
    # Not retried: each of the two calls ran once.
    started = [e for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    assert [e.activity_task_started_event_attributes.attempt for e in started] == [1, 1]


async def test_a_lua_runtime_crash_is_not_retried_a_python_exception_is(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    async with Session(load_project(PROJECT), client=time_skipping_env.client) as session:
        handle = await session.start("app:crash", [])
        status, value = await _outcome(session, handle)
        events = [e async for e in handle.fetch_history_events()]
    assert status == "completed"
    assert value["lua"] == {"kind": "INTERNAL", "retryable": False}
    assert value["py"]["kind"] == "UNKNOWN" and value["py"]["retryable"] is True
    assert value["py"]["message"].startswith("KeyError: ")
    # Temporal's default policy retries without limit: the Lua crash still ran once (it is
    # non-retryable on the wire), the Python function twice (its policy's cap). The history
    # keeps the started event of each call's last attempt only.
    started = [e for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    assert [e.activity_task_started_event_attributes.attempt for e in started] == [1, 2]
    failed = [e for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED]
    flags = [
        e.activity_task_failed_event_attributes.failure.application_failure_info.non_retryable
        for e in failed
    ]
    assert flags == [True, False]


@pytest.mark.parametrize("target", ["app:long_task", "app:py_long_task"])
async def test_a_process_registered_as_an_activity_runs_as_one(
    time_skipping_env: WorkflowEnvironment, target: str
) -> None:
    async with Session(load_project(PROJECT), client=time_skipping_env.client) as session:
        handle = await session.start("app:process_activity", [target])
        status, value = await _outcome(session, handle)
        events = [e async for e in handle.fetch_history_events()]
    assert status == "completed", value
    # The first attempt heartbeat 2 and failed (retryable); the retry resumed from it.
    assert value["ok"] == {"resumed_from": 2, "steps": 3, "trace_id": "t-1"}
    assert value["failed"] == ["INVALID", "nothing to do", False]
    # Its own process API (no PID, no mailbox as an activity) is a clear, final error.
    if target == "app:long_task":
        assert value["refused"] == [
            "INTERNAL",
            "long_task.lua:11: process.inbox is not available in functions (only in workflows)",
            False,
        ]
    else:
        assert value["refused"] == [
            "INVALID",
            "this call is only available inside a running workflow",
            False,
        ]
    scheduled = [e for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
    assert [e.activity_task_scheduled_event_attributes.activity_type.name for e in scheduled] == [
        target
    ] * 3
