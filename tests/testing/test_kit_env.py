"""The testing kit on real servers: the plugin's fixtures, `run`, function mocks, histories.

Lua and Python workflows alike (`examples/orders_lua`: Lua scripts and their Python twins),
on the time-skipping server (`wflow_env`) and the dev server (`wflow_dev_env`).
"""

from __future__ import annotations

import pytest

from tests.helpers.paths import EXAMPLES
from wflow.model import ErrorKind, WflowError
from wflow.registry import load_project
from wflow.testing import (
    FakeRuntime,
    WflowEnv,
    assert_same_calls,
    assert_same_history,
    calls,
    mock_function,
    run_workflow,
)

pytestmark = pytest.mark.timeout(120)

PROJECT = EXAMPLES / "orders_lua"
PROCESSORS = ["app.workflows:order_processor", "app.twins:order_processor"]  # Lua, Python


@pytest.mark.parametrize("workflow", PROCESSORS, ids=["lua", "python"])
async def test_mocks_stand_in_for_functions_and_record_calls(
    wflow_env: WflowEnv, workflow: str
) -> None:
    charge = wflow_env.mock_function("app.api:charge_card", returns={"id": "ch_1"})
    status = wflow_env.mock_function("app.api:check_status", returns="failed")  # a Lua function
    refund = wflow_env.mock_function("app.api:refund", side_effect=lambda charge_id: None)

    result = await wflow_env.run(PROJECT, workflow)  # sleeps 24h: skipped

    assert result is None
    assert charge.call_args == [[None]]  # the seed's unset `payment` global
    assert status.call_args == [["ch_1"]]
    assert refund.call_args == [["ch_1"]]
    assert [call.entry_id for call in wflow_env.mock_calls] == [
        "app.api:charge_card",
        "app.api:check_status",
        "app.api:refund",
    ]
    assert all(call.workflow_id and call.attempt == 1 for call in wflow_env.mock_calls)


async def test_a_mock_raising_fails_the_call_like_the_function_would(wflow_env: WflowEnv) -> None:
    # Python: the error is raised in the workflow, which does not catch it. (The Lua script
    # gets `nil, err` and, not checking it, fails its workflow task: retried, by design.)
    workflow = "app.twins:order_processor"
    wflow_env.mock_function(
        "app.api:charge_card", raises=WflowError("card declined", ErrorKind.INVALID)
    )
    status = wflow_env.mock_function("app.api:check_status", returns="settled")

    with pytest.raises(WflowError) as caught:
        await wflow_env.run(PROJECT, workflow)

    assert caught.value.kind is ErrorKind.INVALID
    assert caught.value.message == "card declined"
    assert status.calls == []


async def test_lua_and_python_twins_leave_the_same_history(wflow_env: WflowEnv) -> None:
    wflow_env.mock_function("app.api:charge_card", returns={"id": "ch_1"})
    wflow_env.mock_function("app.api:check_status", returns="failed")
    wflow_env.mock_function("app.api:refund")

    lua = await wflow_env.execute(PROJECT, "app.workflows:order_processor")
    python = await wflow_env.execute(PROJECT, "app.twins:order_processor")

    assert_same_history(lua, python, names=("lua", "python"))
    assert_same_calls(lua, python)
    steps = calls(lua)
    assert [(step.kind, step.name) for step in steps] == [
        ("start", "app.workflows:order_processor"),
        ("call", "app.api:charge_card"),
        ("timer", None),
        ("call", "app.api:check_status"),
        ("call", "app.api:refund"),
        ("completed", None),
    ]
    assert steps[3].args == ["ch_1"]
    assert steps[3].result == "failed"


async def test_a_different_run_fails_with_a_readable_diff(wflow_env: WflowEnv) -> None:
    wflow_env.mock_function("app.api:charge_card", returns={"id": "ch_1"})
    refunded = await wflow_env.execute(
        PROJECT,
        "app.workflows:order_processor",
        mocks=[mock_function("app.api:check_status", returns="failed")],
    )
    settled = await wflow_env.execute(
        PROJECT,
        "app.workflows:order_processor",
        mocks=[mock_function("app.api:check_status", returns="settled")],
    )

    with pytest.raises(AssertionError) as history_diff:
        assert_same_history(refunded, settled, names=("refunded", "settled"))
    with pytest.raises(AssertionError) as calls_diff:
        assert_same_calls(refunded, settled, names=("refunded", "settled"))

    message = str(history_diff.value)
    assert "--- refunded" in message and "+++ settled" in message
    assert "'failed'" in message and "'settled'" in message
    removed = [line for line in str(calls_diff.value).splitlines() if line.startswith("-")]
    assert any("app.api:refund" in line for line in removed)


async def test_a_mock_for_an_entry_the_project_lacks_is_refused(wflow_env: WflowEnv) -> None:
    wflow_env.mock_function("app.api:charge_cards", returns={})  # typo

    with pytest.raises(WflowError, match=r"no function entry 'app\.api:charge_cards'") as caught:
        await wflow_env.run(PROJECT, "app.workflows:order_processor")
    assert caught.value.kind is ErrorKind.NOT_FOUND


def test_each_test_polls_task_queues_of_its_own(wflow_env: WflowEnv, wflow_tq_prefix: str) -> None:
    registry = wflow_env.load(PROJECT)
    (worker,) = registry.workers()
    assert registry.task_queue_of(worker) == f"{wflow_tq_prefix}orders"


async def test_dev_server_env_runs_a_lua_workflow(wflow_dev_env: WflowEnv) -> None:
    reserve = wflow_dev_env.mock_function("app.inventory:reserve", returns={"id": "inv-1"})
    wflow_dev_env.mock_function("app.payments:charge", returns={"id": "pay-1"})
    wflow_dev_env.mock_function("app.shipping:create", returns={"id": "ship-1"})

    result = await wflow_dev_env.run(PROJECT, "app.workflows:order_saga")

    assert result == {
        "inventory": {"id": "inv-1"},
        "payment": {"id": "pay-1"},
        "shipping": {"id": "ship-1"},
    }
    assert reserve.call_args == [[None]]


@pytest.mark.parametrize("workflow", PROCESSORS, ids=["lua", "python"])
async def test_mocks_are_canned_results_for_the_fake_runtime(workflow: str) -> None:
    charge = mock_function("app.api:charge_card", returns={"id": "ch_1"})
    status = mock_function("app.api:check_status", returns="settled")
    runtime = FakeRuntime({"app.api:charge_card": charge, "app.api:check_status": status})

    await run_workflow(workflow, runtime=runtime, registry=load_project(PROJECT))

    assert charge.call_args == [[None]]
    assert status.call_args == [["ch_1"]]
    assert [target for target, _, _ in runtime.calls] == [
        "app.api:charge_card",
        "app.api:check_status",
    ]
