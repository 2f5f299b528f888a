"""Messages, children, select, updates, queries and continue-as-new in Python workflows."""

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
from wflow.testing import EmbeddedDevServer

PROJECT = FIXTURES / "process_py"
WORKER = "procs:worker"


@pytest_asyncio.fixture(loop_scope="session")
async def session(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[Session]:
    async with Session(load_project(PROJECT), client=time_skipping_env.client) as running:
        yield running


@pytest.fixture
def connection(session: Session, time_skipping_env: WorkflowEnvironment) -> Connection:
    return Connection(session.registry, {None: time_skipping_env.client})


def unique(entry: str) -> str:
    return f"{entry}-{uuid.uuid4().hex[:8]}"


async def test_message_sent_before_receive_is_kept(
    session: Session, connection: Connection
) -> None:
    handle = await session.start("procs:anchor", ["1h"], workflow_id=unique("early"))
    pid = format_pid(WORKER, handle.id)
    await connection.send(pid, "approval", {"approved": True})
    result = await session.result(handle)
    assert result == {"topic": "approval", "payload": {"approved": True}, "from": None}


async def test_monitored_child_exit_with_value(session: Session) -> None:
    result = await session.execute("procs:monitor", [21])
    assert result["kind"] == "EXIT"
    assert result["from"] == result["spawned"]
    assert result["spawned"].startswith(f"{WORKER}/procs:child-")
    assert result["value"] == 42
    assert result["error"] is None


async def test_monitored_child_exit_with_error(session: Session) -> None:
    result = await session.execute("procs:monitor", [-1])
    assert result["kind"] == "EXIT"
    assert result["value"] is None
    assert result["error"]["kind"] == "INVALID"
    assert result["error"]["message"] == "negative input"
    assert result["error"]["details"] == {"n": -1}


async def test_exec_returns_the_child_result_and_raises_its_error(session: Session) -> None:
    assert await session.execute("procs:exec_parent", [5]) == 10
    with pytest.raises(WflowError) as caught:
        await session.execute("procs:exec_parent", [-5])
    assert caught.value.kind is ErrorKind.INVALID
    assert caught.value.message == "negative input"


async def test_canceled_child_reports_exit_with_canceled(session: Session) -> None:
    assert await session.execute("procs:cancel_parent", []) == {"kind": "EXIT", "error": "CANCELED"}


async def test_select_takes_the_timeout_branch(session: Session) -> None:
    assert await session.execute("procs:select", ["48h"]) == "timeout"


async def test_select_takes_the_message_branch(session: Session, connection: Connection) -> None:
    handle = await session.start("procs:select", ["48h"], workflow_id=unique("select"))
    await connection.send(format_pid(WORKER, handle.id), "decision", "approved")
    assert await session.result(handle) == "approved"


async def test_updates_accepted_rejected_failed_and_state_query(
    session: Session, connection: Connection
) -> None:
    handle = await session.start("procs:updates", [], workflow_id=unique("updates"))
    pid = format_pid(WORKER, handle.id)
    assert await connection.update(pid, "add", 4) == 4
    assert await connection.query(pid, "state") == {"total": 4}
    with pytest.raises(WflowError) as rejected:
        await connection.update(pid, "add", -2)
    assert rejected.value.kind is ErrorKind.INVALID
    assert rejected.value.message == "rejected: amount must be a positive whole number"
    with pytest.raises(WflowError) as failed:
        await connection.update(pid, "add", 500)
    assert failed.value.kind is ErrorKind.CONFLICT
    assert failed.value.message == "too much at once"
    assert await connection.query(pid, "pid") == pid
    assert await connection.update(pid, "add", 6) == 10
    assert await session.result(handle) == 10


async def test_flood_beyond_the_bound_is_refused_and_nothing_accepted_is_lost(
    session: Session, connection: Connection
) -> None:
    handle = await session.start("procs:flood", [], workflow_id=unique("flood"))
    pid = format_pid(WORKER, handle.id)
    accepted: list[int] = []
    refused: list[int] = []
    for n in range(6):
        try:
            await connection.send(pid, "item", n)
            accepted.append(n)
        except WflowError as exc:
            assert exc.kind is ErrorKind.RATE_LIMITED
            assert "mailbox of" in exc.message and "is full" in exc.message
            refused.append(n)
    assert accepted == [0, 1, 2]
    assert refused == [3, 4, 5]
    assert await session.result(handle) == [0, 1, 2]


async def test_continue_as_new_carries_every_message(
    session: Session, connection: Connection
) -> None:
    handle = await session.start("procs:upgrader", [[]], workflow_id=unique("upgrade"))
    pid = format_pid(WORKER, handle.id)
    # Sent back to back: several arrive while a run is switching to the next one.
    await asyncio.gather(*(connection.send(pid, "n", n) for n in range(10)))
    await connection.send(pid, "stop")
    result: dict[str, Any] = await connection.result(pid)
    assert sorted(result["seen"]) == list(range(10))
    assert result["runs"] == 4


async def test_workflows_message_each_other_with_sender_pids(
    dev_server: EmbeddedDevServer,
) -> None:
    # On the real dev server: the time-skipping test server drops signal headers, which is
    # where the sender's PID travels.
    async with Session(load_project(PROJECT), address=dev_server.address) as session:
        result = await asyncio.wait_for(session.execute("procs:pinger", []), 60)
    assert result["topic"] == "pong"
    assert result["from_ponger"] is True
    assert result["payload"]["n"] == 2
    assert result["payload"]["to"].startswith(f"{WORKER}/procs:pinger")
