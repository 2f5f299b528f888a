"""Issue 9, spawn side: Wippy's spawn options, startup messages, context, cancel reasons and
custom workflow type names, on the time-skipping server.

The Lua parents in `tests/fixtures/spawn_options/workflows/p_*.lua` are the snippets of Wippy's
docs (`en/temporal/workflows.md`) unchanged, lines marked `-- wrapper` aside; `spawn_twins.py`
does the same from Python workflows under Python names.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType, ParentClosePolicy
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.helpers.paths import FIXTURES
from wflow.model import SpawnOptions, WflowError
from wflow.registry import Registry, load_project
from wflow.temporal import Connection, Session
from wflow.testing import EmbeddedDevServer

pytestmark = pytest.mark.timeout(300)

PROJECT = FIXTURES / "spawn_options"
LANGS = {"lua": "app:p_", "py": "app:py_"}


@pytest.fixture
def registry() -> Registry:
    # Per test: each test's task queues have their own prefix (WFLOW_TQ_PREFIX).
    return load_project(PROJECT)


async def _run(session: Session, entry: str, *args: Any) -> tuple[Any, WorkflowHandle[Any, Any]]:
    handle = await session.start(entry, list(args))
    return await asyncio.wait_for(session.result(handle), 60), handle


async def _result(env: WorkflowEnvironment, registry: Registry, entry: str, *args: Any) -> Any:
    """Run `entry` to its result on the time-skipping server."""
    async with Session(registry, client=env.client) as session:
        return (await _run(session, entry, *args))[0]


def _queue(registry: Registry) -> str:
    return registry.task_queue_of(registry.get("app:worker"))


@pytest.mark.parametrize("lang", LANGS)
async def test_explicit_id_and_conflict_policies(
    time_skipping_env: WorkflowEnvironment, registry: Registry, lang: str
) -> None:
    order = {"id": "123" if lang == "lua" else "py-123"}
    result = await _result(time_skipping_env, registry, f"{LANGS[lang]}explicit_id", order)
    assert {k: v for k, v in result.items() if k != "exit"} == {
        "fail": "ALREADY_EXISTS",
        "already": "ALREADY_EXISTS",
        "default_reuses": True,  # the docs: use_existing is the default with an explicit ID
        "use_existing_reuses": True,
    }
    assert result["exit"]["order"] == order["id"]


@pytest.mark.parametrize("lang", LANGS)
async def test_start_options_reach_the_child_start(
    dev_server: EmbeddedDevServer, registry: Registry, lang: str
) -> None:
    # The dev server: the time-skipping server leaves a child's search attributes out.
    async with Session(registry, address=dev_server.address) as session:
        result, handle = await _run(
            session, f"{LANGS[lang]}start_options", {"task_queue": _queue(registry)}
        )
        events = [e async for e in handle.fetch_history_events()]
    assert result["exit"]["value"] == 1  # an empty Lua table crosses as {}
    # The options a child start cannot honour are refused by name, never ignored.
    assert "temporal.workflow.start_delay is not available in a workflow" in result["delay"]
    assert "temporal.workflow.enable_eager_start is not available in a workflow" in result["eager"]
    [started] = [
        e
        for e in events
        if e.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED
    ]
    attrs = started.start_child_workflow_execution_initiated_event_attributes
    assert attrs.workflow_id == ("order-123" if lang == "lua" else "order-py-123")
    assert attrs.task_queue.name == _queue(registry)
    assert attrs.workflow_execution_timeout.ToTimedelta().total_seconds() == 24 * 3600
    assert attrs.workflow_run_timeout.ToTimedelta().total_seconds() == 3600
    assert attrs.workflow_task_timeout.ToTimedelta().total_seconds() == 30
    assert attrs.parent_close_policy == ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE
    assert attrs.retry_policy.maximum_attempts == 3
    assert attrs.retry_policy.initial_interval.ToTimedelta().total_seconds() == 1
    assert attrs.retry_policy.maximum_interval.ToTimedelta().total_seconds() == 300
    assert b"cust-123" in attrs.search_attributes.indexed_fields["customer_id"].data
    assert b"api" in attrs.memo.fields["source"].data
    assert attrs.priority.priority_key == 2
    assert b"order 123" in started.user_metadata.summary.data
    assert b"**from** the docs" in started.user_metadata.details.data


@pytest.mark.parametrize("lang", LANGS)
async def test_startup_messages_arrive_in_order_and_on_reuse(
    time_skipping_env: WorkflowEnvironment, registry: Registry, lang: str
) -> None:
    async with Session(registry, client=time_skipping_env.client) as session:
        result, _ = await _run(session, f"{LANGS[lang]}messages")
        _, workflow_id = result["my_counter"].split("/", 1)
        reused = await session.result(time_skipping_env.client.get_workflow_handle(workflow_id))
    assert result["counter"] == {"value": 7, "amounts": [2, 1, 4]}
    assert result["same"] is True
    # The second spawn returned the running workflow and still delivered its message.
    assert reused == {"value": 5, "amounts": [3, 2]}


@pytest.mark.parametrize("lang", LANGS)
async def test_context_reaches_the_child_and_its_functions(
    time_skipping_env: WorkflowEnvironment, registry: Registry, lang: str
) -> None:
    context = {"user_id": "user-1", "tenant": "tenant-1", "request_id": "req-abc"}
    result = await _result(time_skipping_env, registry, f"{LANGS[lang]}context", {"id": "o-1"})
    assert result == {
        "order": "o-1",
        "user_id": "user-1",
        "all": context,
        "function_saw": {"tenant": "tenant-1", "all": context},
    }


@pytest.mark.parametrize("lang", LANGS)
async def test_cancel_carries_the_reason_and_the_child_cleans_up(
    time_skipping_env: WorkflowEnvironment, registry: Registry, lang: str
) -> None:
    result = await _result(time_skipping_env, registry, f"{LANGS[lang]}cancel")
    assert result == {
        "ok": True,
        "exit": {
            "canceled": "cancelled by operator",
            "cleaned": {"cleaned_after": "cancelled by operator"},
        },
    }


async def test_a_custom_workflow_type_name(
    dev_server: EmbeddedDevServer, registry: Registry
) -> None:
    # The dev server: `wflow ls` lists through visibility, which the time-skipping server lacks.
    async with Session(registry, address=dev_server.address) as session:
        client, _ = session.client_for_workflow("app:named_workflow")
        # Spawned by its entry ID, it runs as type OrderFulfillment.
        by_entry, _ = await _run(session, "app:p_named")
        # Started by the type name alone, as another SDK or the temporal CLI would.
        by_type = await client.execute_workflow(
            "OrderFulfillment", {"n": 2}, id="by-type-name", task_queue=_queue(registry)
        )
        connection = Connection(registry, {None: client})
        listed = []
        while [s.status for s in listed] != ["COMPLETED"]:  # visibility catches up
            listed = await connection.list("WorkflowId = 'by-type-name'")
            await asyncio.sleep(0.2)
    assert by_entry == {"type": "OrderFulfillment", "input": {"n": 1}}
    assert by_type == {"type": "OrderFulfillment", "input": {"n": 2}}
    assert [(s.entry, s.status) for s in listed] == [("app:named_workflow", "COMPLETED")]


CLIENT_OPTIONS = {
    "temporal.workflow.id": "client-start-1",
    "temporal.workflow.task_queue": "elsewhere",
    "temporal.workflow.execution_timeout": "24h",
    "temporal.workflow.run_timeout": "1h",
    "temporal.workflow.task_timeout": "30s",
    "temporal.workflow.search_attributes": {"customer_id": "cust-9"},
    "temporal.workflow.memo": {"source": "api"},
    "temporal.workflow.start_delay": "5m",
    "temporal.workflow.priority": 3,
    "temporal.workflow.summary": "from outside",
    "temporal.workflow.enable_eager_start": False,
}


async def _check_client_start(handle: WorkflowHandle[Any, Any]) -> None:
    description = await handle.describe()
    assert description.task_queue == "elsewhere"
    assert await description.static_summary() == "from outside"
    events = [e async for e in handle.fetch_history_events()]
    attrs = events[0].workflow_execution_started_event_attributes
    assert attrs.workflow_run_timeout.ToTimedelta().total_seconds() == 3600
    assert attrs.workflow_task_timeout.ToTimedelta().total_seconds() == 30
    assert attrs.first_workflow_task_backoff.ToTimedelta().total_seconds() == 300
    assert attrs.priority.priority_key == 3
    assert b"cust-9" in attrs.search_attributes.indexed_fields["customer_id"].data


@pytest.mark.parametrize("lang", LANGS)
async def test_client_start_options_reach_temporal(
    dev_server: EmbeddedDevServer, registry: Registry, lang: str
) -> None:
    options = {**CLIENT_OPTIONS, "temporal.workflow.id": f"client-start-{lang}"}
    async with Session(registry, address=dev_server.address) as session:
        client, _ = session.client_for_workflow("app:counter_workflow")
        if lang == "lua":  # a Lua function's process.with_options{...}:spawn(...)
            result, _ = await _run(
                session, "app:p_client_start", options, "app:counter_workflow", {"initial": 0}
            )
            assert result == {"pid": f"app:worker/client-start-{lang}"}
        else:  # a Python program's Connection.spawn
            connection = Connection(registry, {None: client})
            await connection.spawn(
                "app:counter_workflow", None, {}, options=SpawnOptions().merged(options)
            )
        handle = client.get_workflow_handle(f"client-start-{lang}")
        try:
            await _check_client_start(handle)
        finally:
            await handle.terminate("test over")


@pytest.mark.parametrize(
    ("options", "refused"),
    [
        ({"temporal.workflow.parent_close_policy": "terminate"}, "parent_close_policy"),
        ({"temporal.workflow.wait_for_cancellation": True}, "wait_for_cancellation"),
    ],
)
async def test_client_start_refuses_child_only_options_by_name(
    time_skipping_env: WorkflowEnvironment,
    registry: Registry,
    options: dict[str, Any],
    refused: str,
) -> None:
    async with Session(registry, client=time_skipping_env.client) as session:
        result, _ = await _run(
            session, "app:p_client_start", options, "app:counter_workflow", {"initial": 0}
        )
        with pytest.raises(WflowError) as info:
            await Connection(registry, {None: time_skipping_env.client}).spawn(
                "app:counter_workflow", None, {}, options=SpawnOptions().merged(options)
            )
    expected = f"temporal.workflow.{refused} is not available outside workflows"
    assert result["kind"] == "INVALID" and expected in result["error"]
    assert expected in info.value.message


async def test_client_start_namespace_reaches_temporal(
    dev_server: EmbeddedDevServer, registry: Registry
) -> None:
    # The dev server has only `default`: a start in another namespace is refused by the server.
    async with Session(registry, address=dev_server.address) as session:
        client, _ = session.client_for_workflow("app:counter_workflow")
        connection = Connection(registry, {None: client})
        pid = await connection.spawn(
            "app:counter_workflow",
            None,
            {},
            options=SpawnOptions().merged({"temporal.workflow.namespace": "default"}),
        )
        await connection.terminate(pid, "test over")
        with pytest.raises(WflowError) as info:
            await connection.spawn(
                "app:counter_workflow",
                None,
                {},
                options=SpawnOptions().merged({"temporal.workflow.namespace": "no-such-ns"}),
            )
    assert info.value.kind.value == "NOT_FOUND"
    assert "no-such-ns" in info.value.message


async def test_a_workflow_past_its_execution_timeout_says_so(
    dev_server: EmbeddedDevServer, registry: Registry
) -> None:
    # long_workflow waits for a CANCEL event that never comes.
    async with Session(registry, address=dev_server.address) as session:
        client, _ = session.client_for_workflow("app:long_workflow")
        connection = Connection(registry, {None: client})
        pid = await connection.spawn(
            "app:long_workflow",
            None,
            options=SpawnOptions().merged({"temporal.workflow.execution_timeout": "2s"}),
        )
        with pytest.raises(WflowError) as info:
            await connection.result(pid)
    assert info.value.kind == "TIMEOUT"
    assert info.value.message == (
        "the workflow timed out (its execution_timeout or run_timeout ran out)"
    )
