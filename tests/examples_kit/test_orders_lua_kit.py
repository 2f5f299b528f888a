"""examples/orders_lua tested the way its user would: only `wflow.testing` and its fixtures.

Mocks stand in for the shop's functions, the 24-hour sleep passes on the time-skipping
server, the Lua scripts and their Python twins are held to the same calls, and the runs
recorded in `examples/orders_lua/histories/` must still replay against the scripts as they
are now. `WFLOW_RECORD_HISTORIES=1` makes the scenario tests write those files anew (after a
deliberate change of the workflows).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from wflow import ErrorKind, WflowError
from wflow.testing import RunRecord, WflowEnv, assert_same_history, calls, replay

pytestmark = pytest.mark.timeout(120)

PROJECT = Path(__file__).resolve().parents[2] / "examples" / "orders_lua"
HISTORIES = PROJECT / "histories"
LUA_AND_PYTHON = pytest.mark.parametrize("flavour", ["workflows", "twins"], ids=["lua", "python"])


def _record(record: RunRecord, name: str) -> None:
    """Write the run's history for the replay test when asked to (`WFLOW_RECORD_HISTORIES=1`)."""
    if os.environ.get("WFLOW_RECORD_HISTORIES") == "1":
        record.save_history(HISTORIES / f"{name}.json")


@LUA_AND_PYTHON
async def test_a_failed_charge_is_refunded_after_a_day(wflow_env: WflowEnv, flavour: str) -> None:
    charge = wflow_env.mock_function("app.api:charge_card", returns={"id": "ch_0002"})
    status = wflow_env.mock_function("app.api:check_status", returns="failed")
    refund = wflow_env.mock_function("app.api:refund", returns={"refunded": True})

    record = await wflow_env.execute(PROJECT, f"app.{flavour}:order_processor")

    assert record.error is None
    assert charge.call_args == [[None]]  # the seed's script passes its unset `payment` global
    assert status.call_args == [["ch_0002"]]
    assert refund.call_args == [["ch_0002"]]
    steps = calls(record)
    assert [step.kind for step in steps] == ["start", "call", "timer", "call", "call", "completed"]
    assert steps[2].details["duration"] == "24h0m0s"  # a durable day, skipped by the test server
    _record(record, "order_processor-refunded" if flavour == "workflows" else "twin-refunded")


@LUA_AND_PYTHON
async def test_a_settled_charge_is_not_refunded(wflow_env: WflowEnv, flavour: str) -> None:
    wflow_env.mock_function("app.api:charge_card", returns={"id": "ch_4242"})
    wflow_env.mock_function("app.api:check_status", returns="settled")
    refund = wflow_env.mock_function("app.api:refund")

    await wflow_env.run(PROJECT, f"app.{flavour}:order_processor")

    assert refund.calls == []
    assert [call.entry_id for call in wflow_env.mock_calls] == [
        "app.api:charge_card",
        "app.api:check_status",
    ]


async def test_a_failed_shipment_compensates_in_reverse(wflow_env: WflowEnv) -> None:
    wflow_env.mock_function("app.inventory:reserve", returns={"id": "inv-1"})
    wflow_env.mock_function("app.payments:charge", returns={"id": "pay-1"})
    wflow_env.mock_function(
        "app.shipping:create", returns={"error": {"kind": "UNAVAILABLE", "message": "no courier"}}
    )
    refund = wflow_env.mock_function("app.payments:refund", returns={"refunded": True})
    release = wflow_env.mock_function("app.inventory:release", returns={"released": True})

    lua = await wflow_env.execute(PROJECT, "app.workflows:order_saga")
    python = await wflow_env.execute(PROJECT, "app.twins:order_saga")

    assert isinstance(lua.error, WflowError)
    assert (lua.error.kind, lua.error.message) == (ErrorKind.UNAVAILABLE, "no courier")
    assert refund.call_args == [["pay-1"], ["pay-1"]]  # once per run
    assert release.call_args == [["inv-1"], ["inv-1"]]
    order = [call.entry_id for call in wflow_env.mock_calls]
    assert order[:5] == [
        "app.inventory:reserve",
        "app.payments:charge",
        "app.shipping:create",
        "app.payments:refund",
        "app.inventory:release",
    ]
    assert_same_history(lua, python, names=("lua", "python"))
    _record(lua, "order_saga-compensated")


async def test_a_declined_card_fails_the_saga_with_its_kind(wflow_env: WflowEnv) -> None:
    wflow_env.mock_function("app.inventory:reserve", returns={"id": "inv-2"})
    wflow_env.mock_function(
        "app.payments:charge",
        side_effect=lambda amount: {"error": {"kind": "PERMISSION_DENIED", "message": "declined"}},
    )
    release = wflow_env.mock_function("app.inventory:release")
    shipping = wflow_env.mock_function("app.shipping:create")

    with pytest.raises(WflowError) as caught:
        await wflow_env.run(PROJECT, "app.workflows:order_saga")

    assert caught.value.kind is ErrorKind.PERMISSION_DENIED
    assert release.call_args == [["inv-2"]]
    assert shipping.calls == []


async def test_recorded_runs_still_replay() -> None:
    outcomes = await replay(PROJECT, "histories/*.json")

    assert {outcome.workflow_type for outcome in outcomes} == {
        "app.workflows:order_processor",
        "app.workflows:order_saga",
        "app.twins:order_processor",
    }


async def test_a_changed_script_fails_the_replay_with_a_call_level_diff(tmp_path: Path) -> None:
    project = tmp_path / "orders_lua"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns(".wflow", "__pycache__"))
    script = project / "workflows" / "order_processor.lua"
    # The change: check the charge at once, before the day's sleep the recorded run made.
    charge_line = 'local result = funcs.call("app.api:charge_card", payment)\n'
    text = script.read_text(encoding="utf-8")
    assert charge_line in text
    script.write_text(
        text.replace(
            charge_line,
            charge_line + 'local early = funcs.call("app.api:check_status", result.id)\n',
        ),
        encoding="utf-8",
    )

    with pytest.raises(AssertionError) as caught:
        await replay(project, "histories/*.json")

    report = str(caught.value)
    assert "1 of 3 recorded histories no longer replay" in report
    assert "histories/order_processor-refunded.json (app.workflows:order_processor, 6 steps)" in (
        report
    )
    assert (
        "history has time.sleep 24h0m0s at step 3; the code now calls app.api:check_status "
        "(order_processor.lua:4)"
    ) in report
    assert "  - 3  time.sleep 24h0m0s" in report
    assert "  +    funcs.call app.api:check_status  (order_processor.lua:4)" in report
    assert "order_saga" not in report  # the saga's history still replays, and the twin's
    assert "twin-refunded" not in report
