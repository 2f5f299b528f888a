"""Processes on a `process.host` and supervised services, against a real dev server.

Processes run on real time, so these tests use the session's shared dev server (not the
time-skipping one). Each test gets its own `Session` (a fresh host instance and services).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType

from tests.helpers.paths import EXAMPLES, FIXTURES
from wflow.model import ErrorKind, WflowError
from wflow.registry import load_project
from wflow.temporal import Connection, Session
from wflow.temporal._process_host import ProcessHost
from wflow.testing import EmbeddedDevServer

PROJECT = FIXTURES / "services"
T = TypeVar("T")


@pytest_asyncio.fixture(loop_scope="session")
async def session(dev_server: EmbeddedDevServer) -> AsyncIterator[Session]:
    lines: list[str] = []
    async with Session(
        load_project(PROJECT), address=dev_server.address, services=lines.append
    ) as running:
        running.service_lines = lines  # type: ignore[attr-defined]
        yield running


async def test_workflow_talks_to_a_key_value_process(session: Session) -> None:
    result = await bounded(session.execute("app:kv_client", ["color", "blue"]))
    assert result["pid"].startswith("app:processes/")
    assert result["set"] is True
    assert result["got"] == "blue"
    assert result["exit_kind"] == "EXIT"
    assert result["exit_value"] == {"color": "blue"}


async def bounded(running: Awaitable[T]) -> T:
    """Wait at most 30 seconds: a lost message must fail the test, not hang it."""
    return await asyncio.wait_for(running, 30)


def host(session: Session) -> ProcessHost:
    assert session.processes is not None
    return session.processes.hosts[0]


async def eventually(check: Callable[[], bool], what: str, limit: float = 20.0) -> None:
    """Wait (bounded) until `check()` holds; processes run on real time."""
    deadline = asyncio.get_running_loop().time() + limit
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting: {what}"
        await asyncio.sleep(0.02)


def state_of(session: Session, pid: str) -> object:
    return next((p.state for p in host(session).list() if p.pid == pid), None)


async def test_python_workflow_talks_to_the_same_lua_process(session: Session) -> None:
    result = await bounded(session.execute("app:py_kv_client", ["n", 7]))
    assert result["got"] == 7
    assert (result["exit"], result["value"]) == ("EXIT", {"n": 7})


async def test_ping_pong_between_two_processes(session: Session) -> None:
    client = host(session).router.connection.default_client()
    connection = Connection(session.registry, {None: client})
    # A connection of its own: the spawn still reaches the host in this OS process directly.
    pid = await connection.spawn("app:pinger", "app:processes", 50)
    result = await asyncio.wait_for(connection.result(pid), 20)
    assert result["rounds"] == 50
    assert result["ponger"].startswith(f"app:processes/{host(session).instance}-")
    assert result["elapsed_ms"] >= 0  # real time, read twice


async def test_outside_spawns_a_python_process_and_a_workflow_hears_its_echo(
    session: Session,
) -> None:
    connection = host(session).router.connection
    echo = await connection.spawn("app:py_echo")
    assert await bounded(session.execute("app:echo_user", [echo, "hello"])) == "hello"
    await connection.send(echo, "stop")
    assert await asyncio.wait_for(connection.result(echo), 10) == "stopped"


async def test_function_sends_to_a_process(session: Session) -> None:
    connection = host(session).router.connection
    counter = await connection.spawn("app:counter")
    assert await bounded(session.execute("app:call_notify", [counter, 3])) == 3
    await eventually(lambda: state_of(session, counter) == 3, "three hits")
    await connection.terminate(counter, "done")
    with pytest.raises(WflowError) as caught:
        await connection.result(counter)
    assert caught.value.kind is ErrorKind.CANCELED
    assert "terminated: done" in caught.value.message
    with pytest.raises(WflowError) as gone:
        await connection.send(counter, "hit")
    assert gone.value.kind is ErrorKind.NOT_FOUND
    assert gone.value.message.endswith("(it ended, or its host restarted)")


async def test_service_is_found_by_name_and_serves_a_workflow(session: Session) -> None:
    connection = host(session).router.connection
    pid = await connection.lookup("app:session_manager")
    assert pid is not None and pid.startswith("app:processes/")
    assert await connection.lookup("no-such-name") is None


async def test_seed_service_restarts_with_backoff_up_to_max_attempts(session: Session) -> None:
    """The seed's session_manager (restart.max_attempts: 10), crashed again and again."""
    connection = host(session).router.connection
    lines: list[str] = session.service_lines  # type: ignore[attr-defined]
    seen: list[str] = []
    for attempt in range(11):
        pid = await connection.lookup("app:session_manager")
        assert pid is not None and pid not in seen
        seen.append(pid)
        await connection.send(pid, "crash")
        if attempt < 10:
            await eventually(
                lambda old=pid: host(session).lookup_name("app:session_manager") not in (None, old),
                f"restart {attempt + 1}",
            )
    await eventually(lambda: any("gave up" in line for line in lines), "exhaustion")
    restarts = [line for line in lines if " restarts in " in line]
    assert [line.rsplit("(", 1)[1] for line in restarts] == [f"{n}/10)" for n in range(1, 11)]
    delays = [line.split(" restarts in ")[1].split(" ")[0] for line in restarts]
    assert delays[:5] == ["0.05s", "0.1s", "0.2s", "0.4s", "0.8s"]
    assert set(delays[5:]) == {"1s"}  # max_delay
    exits = [line for line in lines if " exited: " in line]
    assert sum("session handler crashed on purpose" in line for line in exits) == 11
    assert "service app:session_manager gave up after 10 restarts (max_attempts)" in lines
    down = "service app:session_manager is down; its last failure: INTERNAL: "
    assert any(line.startswith(down) and line.endswith("crashed on purpose") for line in lines)
    assert await connection.lookup("app:session_manager") is None


async def test_a_service_that_cannot_start_gives_up_after_the_default_bound(
    dev_server: EmbeddedDevServer,
) -> None:
    """No `restart.max_attempts`: ten restarts, then the service is reported down with why."""
    lines: list[str] = []
    project = load_project(FIXTURES / "services_broken")
    async with Session(project, address=dev_server.address, services=lines.append) as running:
        await eventually(lambda: any("is down" in line for line in lines), "giving up")
        assert running.processes is not None
        status = running.processes.supervisors[0].status()["broken:database"]
        connection = running.processes.hosts[0].router.connection
        assert await connection.lookup("broken:database") is None
    restarts = [line for line in lines if " restarts in " in line]
    assert [line.rsplit("(", 1)[1] for line in restarts] == [f"{n}/10)" for n in range(1, 11)]
    assert sum("cannot open the database" in line for line in lines) == 11 + 1
    assert lines[-2] == "service broken:database gave up after 10 restarts (max_attempts)"
    assert lines[-1].startswith("service broken:database is down; its last failure: INTERNAL: ")
    assert lines[-1].endswith("cannot open the database")
    assert (status["down"], status["restarts"], status["pid"]) == (True, 10, None)


async def test_host_queues_take_the_clients_task_queue_prefix(
    dev_server: EmbeddedDevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """examples/services' client says `tq_prefix: "${env:WFLOW_TQ_PREFIX:-}"`."""
    prefix = f"pfx-{uuid.uuid4().hex[:8]}-"
    monkeypatch.setenv("WFLOW_TQ_PREFIX", prefix)
    project = load_project(EXAMPLES / "services")
    async with Session(project, address=dev_server.address) as running:
        assert running.processes is not None
        instance = running.processes.hosts[0].instance_queue
        assert instance.startswith(f"{prefix}wflow-processes/app:processes/")
        handle = await running.start("app:login", ["ada", False])
        result = await bounded(running.result(handle))
        events = [e async for e in handle.fetch_history_events()]
    assert result["user"] == "ada"
    queues = [
        e.activity_task_scheduled_event_attributes.task_queue.name
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert queues == [f"{prefix}wflow-processes/app:processes", instance]  # lookup, send
