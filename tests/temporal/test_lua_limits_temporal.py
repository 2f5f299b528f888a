"""Resource limits on a real (dev) server: a runaway loop and a memory blow-up each fail their
workflow task with a clear message, while a normal workflow on the same worker completes."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle

from tests.helpers.paths import FIXTURES
from wflow.registry import load_project
from wflow.temporal import Session
from wflow.testing import EmbeddedDevServer

pytestmark = pytest.mark.timeout(120)

PROJECT = FIXTURES / "lua_temporal" / "limits"


async def task_failures(handle: WorkflowHandle[Any, Any]) -> list[str]:
    return [
        str(event.workflow_task_failed_event_attributes.failure.message)
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]


async def first_task_failure(handle: WorkflowHandle[Any, Any]) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while loop.time() < deadline:
        failures = await task_failures(handle)
        if failures:
            return failures[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"workflow {handle.id}: no workflow task failed")


async def test_runaway_workflows_fail_their_tasks_and_the_worker_keeps_working(
    dev_server: EmbeddedDevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WFLOW_TQ_PREFIX", f"t{uuid.uuid4().hex[:10]}-")
    registry = load_project(PROJECT)
    async with Session(registry, address=dev_server.address) as session:
        spin = await session.start("limits:spin", [])
        hog = await session.start("limits:hog", [])
        try:
            spin_message = await first_task_failure(spin)
            hog_message = await first_task_failure(hog)
            # The same worker, with both runaways still being retried, serves a normal one.
            result = await asyncio.wait_for(session.execute("limits:normal", ["Grace"]), 60)
            spin_status = (await spin.describe()).status
            hog_status = (await hog.describe()).status
        finally:
            for handle in (spin, hog):
                await handle.terminate("test over")

    assert "instruction limit of 1000000 instructions per slice exceeded" in spin_message
    assert "endless loop" in spin_message
    assert "memory limit of 16777216 bytes exceeded" in hog_message
    # Neither is Temporal's deadlock detector: the budget tripped first.
    assert "deadlock" not in (spin_message + hog_message).lower()
    assert result == "hello, Grace"
    # A failed workflow task is not a failed workflow: a larger limit could resume them.
    assert spin_status == hog_status == WorkflowExecutionStatus.RUNNING
