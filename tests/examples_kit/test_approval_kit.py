"""examples/approval tested the way its user would: only `wflow.testing` and its fixtures.

The seed's approval script (Lua) and its Python twin: start, send the decision as a message,
read the result; functions mocked; a decision that comes days later on the time-skipping
server; and the run recorded in `examples/approval/histories/` replayed against the script
as it is now (`WFLOW_RECORD_HISTORIES=1` writes it anew).
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from wflow.testing import (
    RunRecord,
    WflowEnv,
    assert_same_calls,
    calls,
    replay,
    wait_for_event,
)

pytestmark = pytest.mark.timeout(120)

PROJECT = Path(__file__).resolve().parents[2] / "examples" / "approval"
HISTORIES = PROJECT / "histories"
APPROVALS = pytest.mark.parametrize(
    "workflow", ["app.workflows:approval", "app.workflows:approval_py"], ids=["lua", "python"]
)
REQUEST = {"order_id": "o-1", "amount": 120}


def _mock_functions(wflow_env: WflowEnv) -> dict[str, Any]:
    return {
        "submit": wflow_env.mock_function("app.approvals:submit", returns={"submitted": True}),
        "fulfill": wflow_env.mock_function("app.orders:fulfill", returns={"fulfilled": True}),
        "reject": wflow_env.mock_function(
            "app.notifications:send_rejection", returns={"notified": True}
        ),
    }


async def _decide(wflow_env: WflowEnv, workflow: str, decision: dict[str, Any]) -> RunRecord:
    """Start the approval, send `decision` once the request is submitted, wait for the end."""
    async with wflow_env.session(PROJECT) as session:
        handle = await session.start(workflow, [REQUEST])
        # A decision sent earlier would wait in the inbox just as well; sent after the submit,
        # the history reads in the same order for every run (what the twins are compared on).
        await wait_for_event(handle, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
        await handle.signal("decision", decision)
        await session.result(handle)
        return RunRecord(handle.id, None, None, await handle.fetch_history())


@APPROVALS
async def test_an_approved_order_is_fulfilled(wflow_env: WflowEnv, workflow: str) -> None:
    mocks = _mock_functions(wflow_env)

    record = await _decide(wflow_env, workflow, {"approved": True})

    assert mocks["submit"].call_args == [[REQUEST]]
    assert mocks["fulfill"].call_args == [["o-1"]]
    assert mocks["reject"].calls == []
    steps = calls(record)
    assert [(step.kind, step.name) for step in steps] == [
        ("start", workflow),
        ("call", "app.approvals:submit"),
        ("message", "decision"),
        ("call", "app.orders:fulfill"),
        ("completed", None),
    ]
    assert steps[2].args == [{"approved": True}]
    if os.environ.get("WFLOW_RECORD_HISTORIES") == "1":
        name = "approval-approved" if workflow == "app.workflows:approval" else "twin-approved"
        record.save_history(HISTORIES / f"{name}.json")


@APPROVALS
async def test_a_rejected_order_sends_the_rejection(wflow_env: WflowEnv, workflow: str) -> None:
    mocks = _mock_functions(wflow_env)

    await _decide(wflow_env, workflow, {"approved": False, "reason": "budget"})

    assert mocks["fulfill"].calls == []
    assert mocks["reject"].call_args == [[REQUEST]]


async def test_a_decision_days_later_still_finds_the_workflow_waiting(
    wflow_env: WflowEnv, wflow_time_skipping: WorkflowEnvironment
) -> None:
    mocks = _mock_functions(wflow_env)
    async with wflow_env.session(PROJECT) as session:
        handle = await session.start("app.workflows:approval", [REQUEST])
        await wflow_time_skipping.sleep(timedelta(days=3))  # nobody decides for three days
        await handle.signal("decision", {"approved": True})
        await session.result(handle)

    assert mocks["fulfill"].call_args == [["o-1"]]


async def test_lua_and_python_approvals_make_the_same_calls(wflow_env: WflowEnv) -> None:
    _mock_functions(wflow_env)

    lua = await _decide(wflow_env, "app.workflows:approval", {"approved": True})
    python = await _decide(wflow_env, "app.workflows:approval_py", {"approved": True})

    assert_same_calls(lua, python, names=("lua", "python"))


async def test_the_recorded_approval_still_replays() -> None:
    outcomes = await replay(PROJECT, "histories/*.json")

    assert sorted(outcome.workflow_type for outcome in outcomes) == [
        "app.workflows:approval",
        "app.workflows:approval_py",
    ]


async def test_a_changed_script_fails_the_replay_with_a_call_level_diff(tmp_path: Path) -> None:
    project = tmp_path / "approval"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns(".wflow", "__pycache__"))
    script = project / "approval.lua"
    # The change: the branches swapped, so an approval now sends the rejection.
    text = script.read_text(encoding="utf-8")
    assert "if msg.approved then" in text
    script.write_text(text.replace("if msg.approved then", "if not msg.approved then"))

    with pytest.raises(AssertionError) as caught:
        await replay(project, "histories/*.json")

    report = str(caught.value)
    assert "1 of 2 recorded histories no longer replay" in report  # the twin's still does
    assert "histories/approval-approved.json (app.workflows:approval, 5 steps): diverged" in report
    assert (
        "history has funcs.call app.orders:fulfill at step 4; the code now calls "
        "app.notifications:send_rejection (approval.lua:9)"
    ) in report
    assert '  - 4  funcs.call app.orders:fulfill("o-1")' in report
    assert "  +    funcs.call app.notifications:send_rejection  (approval.lua:9)" in report
