"""The seed's order workflow as decorated Python, on the time-skipping server (real 24h)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from tests.helpers.ledger import calls
from tests.helpers.paths import EXAMPLES
from wflow.model import ErrorKind, WflowError
from wflow.registry import load_project
from wflow.temporal import Session

EXAMPLE = EXAMPLES / "orders_py"


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ledger.sqlite3"
    monkeypatch.setenv("WFLOW_EXAMPLE_LEDGER", str(path))
    return path


def _order(card: str) -> dict[str, object]:
    return {"order_id": uuid.uuid4().hex[:8], "amount": 42, "card": card}


async def test_refund_runs_when_status_check_says_failed(
    time_skipping_env: WorkflowEnvironment, ledger: Path
) -> None:
    order = _order("4000000000000002")
    async with Session(load_project(EXAMPLE), client=time_skipping_env.client) as session:
        handle = await session.start("app.workflows:order_processor", [order])
        result = await session.result(handle)
        history = await handle.fetch_history()
    charge = f"ch_{order['order_id']}"
    assert result == {"charge": charge, "status": "failed", "refunded": True}
    assert calls(ledger) == [("charge_card", charge), ("check_status", charge), ("refund", charge)]
    timers = [
        e.timer_started_event_attributes.start_to_fire_timeout.ToSeconds()
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED
    ]
    assert timers == [24 * 3600]


async def test_no_refund_when_charge_settles(
    time_skipping_env: WorkflowEnvironment, ledger: Path
) -> None:
    order = _order("4242424242424242")
    async with Session(load_project(EXAMPLE), client=time_skipping_env.client) as session:
        result = await session.execute("app.workflows:order_processor", [order])
    charge = f"ch_{order['order_id']}"
    assert result == {"charge": charge, "status": "settled", "refunded": False}
    assert [f for f, _ in calls(ledger)] == ["charge_card", "check_status"]


async def test_function_error_kind_reaches_the_caller(
    time_skipping_env: WorkflowEnvironment, ledger: Path
) -> None:
    order = {"order_id": "bad", "amount": -1, "card": "4242"}
    async with Session(load_project(EXAMPLE), client=time_skipping_env.client) as session:
        with pytest.raises(WflowError) as caught:
            await session.execute("app.workflows:order_processor", [order])
    # charge_card raised INVALID (not retryable): the workflow did not handle it, so it failed
    # with the same kind and message.
    assert caught.value.kind is ErrorKind.INVALID
    assert caught.value.message == "amount must be a positive number"
    assert calls(ledger) == []
