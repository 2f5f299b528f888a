"""On a real (time-skipping) Temporal server: a call whose `err` the script ignored is named
in the workflow task failure (issue 8), for a target `wflow validate` cannot see."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.helpers.paths import FIXTURES
from wflow.registry import load_project
from wflow.temporal import Session
from wflow.testing import start_time_skipping

pytestmark = pytest.mark.timeout(120)

PROJECT = FIXTURES / "failed_call"


@pytest_asyncio.fixture
async def private_env() -> AsyncIterator[WorkflowEnvironment]:
    """A server of the test's own: the workflow's task keeps failing until it is terminated,
    which would keep a shared time-skipping server from skipping time afterwards."""
    env = await start_time_skipping()
    try:
        yield env
    finally:
        await env.shutdown()


async def first_task_failure(handle: WorkflowHandle[object, object]) -> str:
    for _ in range(200):
        async for event in handle.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                return str(event.workflow_task_failed_event_attributes.failure.message)
        await asyncio.sleep(0.05)
    raise AssertionError("no workflow task failed")


async def test_task_failure_names_the_dynamic_call_that_failed(
    private_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WFLOW_TQ_PREFIX", f"t{uuid.uuid4().hex[:10]}-")
    registry = load_project(PROJECT, check_programs=True)  # validate finds nothing
    async with Session(registry, client=private_env.client) as session:
        handle = await session.start("app:order", [{"id": "o1"}])
        try:
            message = await first_task_failure(handle)
        finally:
            await handle.terminate("test over")
    assert message.startswith("order.lua:5: attempt to index a nil value (local 'result')")
    assert message.endswith(
        '; the last call, funcs.call("app:chrage") at order.lua:4, failed: NOT_FOUND: '
        "funcs.call: no entry 'app:chrage' (did you mean 'app:charge'?)"
    )
