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
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from tests.helpers.paths import EXAMPLES
from wflow.registry import load_project
from wflow.temporal import Session
from wflow.testing import assert_same_history, event_summary

pytestmark = pytest.mark.timeout(120)

EXAMPLE = EXAMPLES / "orders_lua"

CASES = [
    ("order_processor", {"card": "4000000000000002"}),
    ("order_processor", {"card": "4242424242424242"}),
    ("order_saga", {}),
    ("order_saga", {"fail_at": "inventory"}),
    ("order_saga", {"fail_at": "payment"}),
    ("order_saga", {"fail_at": "shipping"}),
]


async def _history(session: Session, entry_id: str) -> list[tuple[Any, ...]]:
    handle = await session.start(entry_id, [])
    # A failing saga raises here; its failure is part of the comparison.
    with contextlib.suppress(WorkflowFailureError):
        await handle.result()
    history = await handle.fetch_history()
    return [event_summary(event) for event in history.events]


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

    assert_same_history(lua, python, names=("lua", "python"))
    # The comparison is not vacuous: the histories hold the calls of the script.
    activities = [event[2] for event in lua if event[0] == "ACTIVITY_TASK_SCHEDULED"]
    assert activities[0] in ("app.api:charge_card", "app.inventory:reserve")
    if script == "order_processor":
        assert [e[2] for e in lua if e[0] == "TIMER_STARTED"] == [timedelta(hours=24)]
        assert len(activities) == (3 if scenario["card"].endswith("0002") else 2)
    if scenario.get("fail_at"):
        assert lua[-1][0] == "WORKFLOW_EXECUTION_FAILED"
