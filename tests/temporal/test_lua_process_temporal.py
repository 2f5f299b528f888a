"""The Lua process module on the time-skipping Temporal server: select with a timer, children
across languages, cancel, updates with the reply protocol, the state query, continue-as-new."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from tests.helpers.paths import FIXTURES
from wflow.model import ErrorKind, WflowError, format_pid
from wflow.registry import load_project
from wflow.temporal import Connection, Session

pytestmark = pytest.mark.timeout(120)

PROJECT = FIXTURES / "lua" / "process"
WORKER = "lp:worker"


@pytest_asyncio.fixture(loop_scope="session")
async def session(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[Session]:
    async with Session(load_project(PROJECT), client=time_skipping_env.client) as running:
        yield running


@pytest.fixture
def connection(session: Session, time_skipping_env: WorkflowEnvironment) -> Connection:
    return Connection(session.registry, {None: time_skipping_env.client})


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def test_select_takes_the_timeout_branch(session: Session) -> None:
    assert await session.execute("lp:select", ["48h"]) == "timeout"


async def test_select_takes_the_message_branch(session: Session, connection: Connection) -> None:
    handle = await session.start("lp:select", ["48h"], workflow_id=unique("select"))
    await connection.send(format_pid(WORKER, handle.id), "decision", {"approved": True})
    assert await session.result(handle) == "approved"


async def test_lua_parent_gets_exit_with_value_of_a_python_child(session: Session) -> None:
    result = await session.execute("lp:monitor", [21])
    assert result["kind"] == "EXIT"
    assert result["from"] == result["spawned"]
    assert result["spawned"].startswith(f"{WORKER}/lp:pychild-")
    assert result["value"] == 42
    assert "error" not in result


async def test_lua_parent_gets_exit_with_error_of_a_python_child(session: Session) -> None:
    result = await session.execute("lp:monitor", [-1])
    assert result["kind"] == "EXIT"
    assert "value" not in result
    assert result["error"] == {"kind": "INVALID", "message": "negative input"}


async def test_exec_children_in_both_languages(session: Session) -> None:
    assert await session.execute("lp:execs", [5]) == {"py": 10, "lua": 6}
    assert await session.execute("lp:execs", [-5]) == {"py_error": "INVALID", "lua": -4}


async def test_cancel_a_child(session: Session) -> None:
    result = await session.execute("lp:cancel_parent", [])
    assert result == {"canceled": True, "kind": "EXIT", "error": "CANCELED"}


async def test_updates_accepted_rejected_failed_and_state_query(
    session: Session, connection: Connection
) -> None:
    handle = await session.start("lp:updates", [], workflow_id=unique("updates"))
    pid = format_pid(WORKER, handle.id)
    assert await connection.update(pid, "add", 4) == 4
    assert await connection.query(pid, "state") == {"total": 4}
    with pytest.raises(WflowError) as rejected:
        await connection.update(pid, "add", -2)
    assert rejected.value.kind is ErrorKind.INVALID
    assert "amount must be a positive whole number" in rejected.value.message
    with pytest.raises(WflowError) as failed:
        await connection.update(pid, "add", 500)
    assert failed.value.kind is ErrorKind.CONFLICT
    assert failed.value.message == "too much at once"
    assert await connection.query(pid, "pid") == pid
    assert await connection.update(pid, "add", 6) == 10
    assert await session.result(handle) == 10


async def test_continue_as_new_carries_every_message(
    session: Session, connection: Connection
) -> None:
    handle = await session.start("lp:upgrader", [[]], workflow_id=unique("upgrade"))
    pid = format_pid(WORKER, handle.id)
    # Sent back to back: several arrive while a run is switching to the next one.
    await asyncio.gather(*(connection.send(pid, "n", n) for n in range(10)))
    await connection.send(pid, "stop")
    try:
        result: dict[str, Any] = await asyncio.wait_for(connection.result(pid), 10)
    except TimeoutError:
        pytest.fail("the next run never received the carried messages (nor the stop)")
    assert sorted(result["seen"]) == list(range(10))
    assert result["runs"] == 4
