"""wflow.testing without a server: Lua and Python workflows on the FakeRuntime."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent, TimerStartedEventAttributes

import wflow
from tests.helpers.paths import FIXTURES
from wflow import funcs, time
from wflow.model import ErrorKind, SpawnOptions, SpawnRequest, WflowError, in_workflow
from wflow.registry import Registry, load_project
from wflow.testing import (
    FAKE_PID,
    FAKE_START,
    FakeContinueAsNew,
    FakeProcessClient,
    FakeRuntime,
    event_summary,
    history_summary,
    run_workflow,
)

KIT = FIXTURES / "testing_kit"
TWINS = ["kit:lua_twice", "kit:py_twice"]


def _step(order: dict[str, Any]) -> dict[str, Any]:
    return {**order, "steps": order.get("steps", 0) + 1}


@pytest.fixture
def registry() -> Registry:
    return load_project(KIT)


@pytest.mark.parametrize("entry_id", TWINS)
async def test_twins_run_alike_on_the_fake_runtime(registry: Registry, entry_id: str) -> None:
    runtime = FakeRuntime({"kit:step": _step})

    result = await run_workflow(entry_id, [{"steps": 0}], runtime=runtime, registry=registry)

    assert result == {"steps": 2}
    assert [(target, args) for target, args, _ in runtime.calls] == [
        ("kit:step", [{"steps": 0}]),
        ("kit:step", [{"steps": 1}]),
    ]
    assert runtime.sleeps == [timedelta(hours=1)]
    assert runtime.now() == FAKE_START + timedelta(hours=1)
    # The run had a task of its own: its runtime is not bound in the caller's context.
    assert not in_workflow()


@pytest.mark.parametrize("entry_id", TWINS)
async def test_an_entry_runs_as_well_as_its_id(registry: Registry, entry_id: str) -> None:
    runtime = FakeRuntime({"kit:step": {"steps": 7}})

    result = await run_workflow(registry.get(entry_id), [{}], runtime=runtime, registry=registry)

    assert result == {"steps": 7}
    assert len(runtime.calls) == 2


@pytest.mark.parametrize("entry_id", TWINS)
async def test_a_failing_function_fails_the_workflow(registry: Registry, entry_id: str) -> None:
    runtime = FakeRuntime({"kit:step": WflowError("card declined", "DECLINED")})

    with pytest.raises(WflowError) as info:
        await run_workflow(entry_id, [{}], runtime=runtime, registry=registry)

    assert "card declined" in info.value.message
    assert len(runtime.calls) == 1
    assert runtime.sleeps == []


async def test_a_decorated_workflow_function_runs_directly() -> None:
    @wflow.workflow("kit.inline:charge")
    async def charge(amount: int) -> dict[str, Any]:
        receipt = await funcs.call("kit.api:charge_card", amount)
        await time.sleep("24h")
        return {"receipt": receipt, "at": time.now().isoformat()}

    runtime = FakeRuntime({"kit.api:charge_card": lambda amount: f"r-{amount}"})

    result = await run_workflow(charge, [5], runtime=runtime)

    assert result == {"receipt": "r-5", "at": (FAKE_START + timedelta(hours=24)).isoformat()}
    assert runtime.sleeps == [timedelta(hours=24)]


async def test_a_missing_canned_result_is_not_found() -> None:
    async def workflow() -> Any:
        return await funcs.call("kit.api:nowhere")

    with pytest.raises(WflowError) as info:
        await run_workflow(workflow)
    assert info.value.kind is ErrorKind.NOT_FOUND


async def test_an_entry_id_needs_a_registry() -> None:
    with pytest.raises(WflowError) as info:
        await run_workflow("kit:py_twice", [{}])
    assert info.value.kind is ErrorKind.INVALID
    assert "registry" in info.value.message


async def test_something_else_is_refused() -> None:
    with pytest.raises(WflowError) as info:
        await run_workflow(42)  # type: ignore[arg-type]
    assert info.value.kind is ErrorKind.INVALID


def test_fake_runtime_answers_deterministically() -> None:
    one, two = FakeRuntime(seed=7), FakeRuntime(seed=7)
    assert [one.uuid4(), one.uuid7()] == [two.uuid4(), two.uuid7()]
    assert one.uuid7().version == 7
    assert FakeRuntime(seed=8).uuid4() != FakeRuntime(seed=7).uuid4()
    assert one.pid() == FAKE_PID
    assert one.info().workflow_id == "wf-1"


def test_upgrade_carries_unreceived_messages() -> None:
    runtime = FakeRuntime()
    runtime.deliver("approve", {"ok": True}, sender=FAKE_PID)

    with pytest.raises(FakeContinueAsNew) as info:
        runtime.upgrade([1, 2])

    assert info.value.new_args == [1, 2]
    assert [(m.topic, m.payload) for m in info.value.pending] == [("approve", {"ok": True})]


async def test_children_and_messages_on_the_fake_runtime() -> None:
    runtime = FakeRuntime(children={"kit:child": lambda n: n * 2})

    pid = await runtime.spawn(SpawnRequest("kit:child", None, [21], SpawnOptions()))
    await runtime.send(pid, "hello", {"n": 1})

    assert await runtime.wait(pid) == 42
    assert runtime.sent == [(pid, "hello", {"n": 1})]
    with pytest.raises(WflowError) as info:
        await runtime.send(FAKE_PID.replace("wf-1", "nobody"), "hello", None)
    assert info.value.kind is ErrorKind.NOT_FOUND


def test_fake_process_client_records_and_answers() -> None:
    client = FakeProcessClient({"kit:py_twice": lambda order: {**order, "steps": 2}})

    pid = client.spawn(SpawnRequest("kit:py_twice", None, [{"id": 1}], SpawnOptions()))
    client.send(pid, "poke", None)
    client.cancel(pid)

    assert client.result(pid) == {"id": 1, "steps": 2}
    assert client.sent == [(pid, "poke", None)]
    assert client.canceled == [pid]
    with pytest.raises(WflowError) as info:
        client.spawn(SpawnRequest("kit:unknown", None, [], SpawnOptions()))
    assert info.value.kind is ErrorKind.NOT_FOUND


def test_event_summary_keeps_what_twins_share() -> None:
    timer = HistoryEvent(
        event_id=5,
        event_type=EventType.EVENT_TYPE_TIMER_STARTED,
        timer_started_event_attributes=TimerStartedEventAttributes(
            timer_id="1", start_to_fire_timeout=Duration(seconds=3600)
        ),
    )
    other = HistoryEvent(event_id=6, event_type=EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)

    assert event_summary(timer) == ("TIMER_STARTED", "1", timedelta(hours=1))
    assert history_summary([timer, other]) == [
        ("TIMER_STARTED", "1", timedelta(hours=1)),
        ("WORKFLOW_TASK_SCHEDULED",),
    ]
