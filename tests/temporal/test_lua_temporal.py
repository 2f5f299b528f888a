"""Lua workflows on Temporal's time-skipping server: the seed's scripts verbatim, values and
errors across languages, and how Lua failures surface (workflow task vs workflow)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.helpers.ledger import calls
from tests.helpers.paths import FIXTURES, REPO
from wflow.model import ErrorKind, WflowError
from wflow.registry import load_project
from wflow.temporal import Session
from wflow.testing import start_time_skipping

pytestmark = pytest.mark.timeout(120)

ROOT = REPO
EXAMPLE = ROOT / "examples" / "orders_lua"
VALUES = FIXTURES / "lua_temporal" / "values"
SEED = FIXTURES / "lua"


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ledger for the example's functions, and task queues of this test's own."""
    path = tmp_path / "ledger.sqlite3"
    monkeypatch.setenv("WFLOW_EXAMPLE_LEDGER", str(path))
    monkeypatch.setenv("WFLOW_TQ_PREFIX", f"t{uuid.uuid4().hex[:10]}-")
    return path


@pytest.fixture
def shop(ledger: Path) -> Iterator[Any]:
    """The example's Python functions module (for `set_scenario`)."""
    load_project(EXAMPLE)  # puts the project on sys.path
    yield importlib.import_module("shop_functions")


def activities(events: list[HistoryEvent]) -> list[str]:
    """Activity types in the order they completed."""
    scheduled = {
        e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    }
    return [
        scheduled[e.activity_task_completed_event_attributes.scheduled_event_id]
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
    ]


def timers(events: list[HistoryEvent]) -> list[float]:
    return [
        e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta().total_seconds()
        for e in events
        if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED
    ]


async def run(session: Session, entry_id: str, *args: Any) -> tuple[Any, list[HistoryEvent]]:
    """Run a workflow; return its result (or the WflowError it failed with) and its history."""
    handle = await session.start(entry_id, list(args))
    try:
        result: Any = await session.result(handle)
    except WflowError as exc:
        result = exc
    history = await handle.fetch_history()
    return result, list(history.events)


async def first_task_failure(handle: WorkflowHandle[Any, Any]) -> str:
    """Wait for the workflow's first WORKFLOW_TASK_FAILED event; return its failure message."""
    for _ in range(200):
        async for event in handle.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                return str(event.workflow_task_failed_event_attributes.failure.message)
        await asyncio.sleep(0.05)
    raise AssertionError("no workflow task failed")


# -- the seed's scripts, verbatim -----------------------------------------------------------


def test_example_scripts_are_the_seed_verbatim() -> None:
    for seed, example in (("order.lua", "order_processor.lua"), ("saga.lua", "order_saga.lua")):
        assert (EXAMPLE / "workflows" / example).read_text() == (SEED / seed).read_text()


@pytest.mark.parametrize(
    ("card", "status"), [("4000000000000002", "failed"), ("4242424242424242", "settled")]
)
async def test_order_refunds_iff_status_failed(
    time_skipping_env: WorkflowEnvironment, shop: Any, ledger: Path, card: str, status: str
) -> None:
    shop.set_scenario(card=card)
    charge = f"ch_{card[-4:]}"
    async with Session(load_project(EXAMPLE), client=time_skipping_env.client) as session:
        result, events = await run(session, "app.workflows:order_processor")
    assert result is None  # the seed's script returns nothing
    assert timers(events) == [24 * 3600]
    refunded = status == "failed"
    assert calls(ledger) == [("charge_card", charge)] + ([("refund", charge)] if refunded else [])
    # check_status is a Lua function: it ran once, between the charge and the refund.
    assert activities(events) == ["app.api:charge_card", "app.api:check_status"] + (
        ["app.api:refund"] if refunded else []
    )


SAGA_CASES = {
    None: (
        ["reserve", "charge", "create_shipment"],
        ["app.inventory:reserve", "app.payments:charge", "app.shipping:create"],
        None,
    ),
    "inventory": (["reserve"], ["app.inventory:reserve"], ("CONFLICT", "out of stock")),
    "payment": (
        ["reserve", "charge"],
        ["app.inventory:reserve", "app.payments:charge", "app.inventory:release"],
        ("PERMISSION_DENIED", "card declined"),
    ),
    "shipping": (
        ["reserve", "charge", "create_shipment", "refund_payment"],
        [
            "app.inventory:reserve",
            "app.payments:charge",
            "app.shipping:create",
            "app.payments:refund",
            "app.inventory:release",
        ],
        ("UNAVAILABLE", "no carrier can take the parcel"),
    ),
}


@pytest.mark.parametrize("fail_at", list(SAGA_CASES), ids=lambda f: f"fail_at={f}")
async def test_saga_compensates_in_order(
    time_skipping_env: WorkflowEnvironment, shop: Any, ledger: Path, fail_at: str | None
) -> None:
    shop.set_scenario(fail_at=fail_at)
    python_calls, all_calls, failure = SAGA_CASES[fail_at]
    async with Session(load_project(EXAMPLE), client=time_skipping_env.client) as session:
        result, events = await run(session, "app.workflows:order_saga")
    # The Python functions wrote the ledger; release (a Lua function) shows in the history.
    assert [f for f, _ in calls(ledger)] == python_calls
    assert activities(events) == all_calls
    if failure is None:
        assert result == {
            "inventory": {"id": "res_1", "items": []},
            "payment": {"id": "pay_1", "amount": 42},
            "shipping": {"id": "shp_1", "carrier": "wflow-post"},
        }
    else:
        assert isinstance(result, WflowError)
        assert (result.kind.value, result.message) == failure
        assert events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED


@pytest_asyncio.fixture
async def private_time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of the test's own.

    The test server never skips time again once a workflow was terminated while its workflow
    task kept failing (it keeps counting the task as outstanding), so such a test must not
    share the session's server.
    """
    env = await start_time_skipping()
    try:
        yield env
    finally:
        await env.shutdown()


async def test_unhandled_lua_error_fails_the_workflow_task_with_file_and_line(
    private_time_skipping_env: WorkflowEnvironment, shop: Any, ledger: Path
) -> None:
    # charge_card refuses the card, the seed's script ignores the error and indexes nil.
    shop.set_scenario(card="4000000000000069")
    client = private_time_skipping_env.client
    async with Session(load_project(EXAMPLE), client=client) as session:
        handle = await session.start("app.workflows:order_processor", [])
        # The error comes after the 24h sleep; waiting for the result lets the server skip it.
        waiting = asyncio.ensure_future(handle.result())
        try:
            message = await first_task_failure(handle)
            description = await handle.describe()
        finally:
            await handle.terminate("test over")
            # Not cancelled: that could leave the server's time-skipping lock unbalanced.
            with contextlib.suppress(WorkflowFailureError):
                await waiting
    assert message.startswith("order_processor.lua:5: attempt to index a nil value"), message
    assert "result" in message
    # A task failure leaves the workflow running (a fixed deploy could resume it).
    assert description.status is not None and description.status.name == "RUNNING"
    assert calls(ledger) == []


# -- values and errors across languages ------------------------------------------------------

VALUE: dict[str, Any] = {
    "int": 3,
    "float": 3.0,
    "fraction": -0.25,
    "big": 2**53 + 1,
    "negative": -7,
    "utf8": "Grüße, 世界 🌍 \u00e9\u0301",
    "empty_object": {},
    "empty_array": [],
    "nested": {"list": [1, 2.5, "x", True, False, {"deep": [[], {}]}], "flag": False},
}


def _py_types(value: Any, path: str = "$") -> dict[str, str]:
    """What Lua should report for `value` (its describe.lua), computed in Python."""
    if isinstance(value, bool):
        return {path: "boolean"}
    if isinstance(value, int):
        return {path: "integer"}
    if isinstance(value, float):
        return {path: "float"}
    if isinstance(value, str):
        return {path: f"string:{len(value.encode())}:{len(value)}"}
    out = {path: "table"}
    items = enumerate(value, 1) if isinstance(value, list) else value.items()
    for key, item in items:
        out.update(_py_types(item, f"{path}/{key}"))
    return out


def _exact(value: Any) -> str:
    """JSON text that tells 3 from 3.0 (== does not)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@pytest.fixture
def values_project(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("WFLOW_TQ_PREFIX", f"t{uuid.uuid4().hex[:10]}-")
    return load_project(VALUES)


async def test_values_round_trip_between_lua_and_python(
    time_skipping_env: WorkflowEnvironment, values_project: Any
) -> None:
    async with Session(values_project, client=time_skipping_env.client) as session:
        from_lua = await session.execute("tests.values:lua_calls_py", [VALUE])
        from_py = await session.execute("tests.values:py_calls_lua", [VALUE])

    # Lua workflow -> Python function -> back into Lua -> workflow result.
    lua_types = _py_types(VALUE)
    assert from_lua["lua_sent"] == lua_types
    assert from_lua["lua_got"] == lua_types
    assert _exact(from_lua["echoed"]["value"]) == _exact(VALUE)
    py_seen = from_lua["echoed"]["types"]
    assert py_seen["$/int"] == "integer" and py_seen["$/float"] == "float"
    assert py_seen["$/big"] == "integer"
    assert py_seen["$/empty_object"] == "object" and py_seen["$/empty_array"] == "array"
    assert py_seen["$/nested/list/6/deep"] == "array"
    assert py_seen["$/utf8"] == lua_types["$/utf8"]

    # Python workflow -> Lua function -> Python.
    assert _exact(from_py["value"]) == _exact(VALUE)
    assert from_py["types"] == lua_types


async def test_lua_function_error_reaches_lua_and_python_callers_alike(
    time_skipping_env: WorkflowEnvironment, values_project: Any
) -> None:
    async with Session(values_project, client=time_skipping_env.client) as session:
        seen_by_lua = await session.execute(
            "tests.values:lua_sees_error", ["tests.values:lua_fails"]
        )
        seen_by_py = await session.execute("tests.values:py_sees_error", ["tests.values:lua_fails"])
    expected = {
        "kind": "CONFLICT",
        "message": "seat 12A is taken: ✈",
        "retryable": False,
        "details": {"seat": "12A"},
    }
    assert seen_by_lua == {**expected, "value_is_nil": True}
    assert seen_by_py == expected


async def test_lua_workflow_returning_nil_err_fails_the_workflow(
    time_skipping_env: WorkflowEnvironment, values_project: Any
) -> None:
    async with Session(values_project, client=time_skipping_env.client) as session:
        result, events = await run(session, "tests.values:lua_returns_error")
    assert isinstance(result, WflowError)
    assert result.kind is ErrorKind.CONFLICT
    assert result.message == "booking failed: seat 3C is taken: ✈"
    assert result.details == {"seat": "3C"}
    assert events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED
    assert not any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED for e in events)
