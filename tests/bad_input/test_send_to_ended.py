"""`process.send` from a workflow to a workflow that has ended: `nil, err` (Lua) or a raised
error (Python) of kind NOT_FOUND that says the receiver is not running, never a message lost
silently. A workflow cannot ask the server how the other one ended (that would not replay),
so unlike `wflow send` the message does not say how."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from tests.helpers.paths import FIXTURES
from wflow.model import format_pid
from wflow.registry import load_project
from wflow.temporal import Session

pytestmark = pytest.mark.timeout(120)


@pytest_asyncio.fixture(loop_scope="session")
async def session(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[Session]:
    async with Session(load_project(FIXTURES / "bad_input"), client=time_skipping_env.client) as s:
        yield s


@pytest.mark.parametrize("sender", ["bad:py_sends", "bad:lua_sends"])
async def test_send_to_an_ended_workflow_is_not_found(session: Session, sender: str) -> None:
    handle = await session.start("bad:py_two", [1, 2])
    assert await handle.result() == [1, 2]
    pid = format_pid("bad:worker", handle.id)
    result = await session.execute(sender, [pid])
    assert result == {
        "kind": "NOT_FOUND",
        "message": (
            f"send to {pid}: no running workflow {pid} (it has ended, or never existed); "
            "messages can only go to running workflows"
        ),
        "retryable": False,
    }
