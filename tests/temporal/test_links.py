"""Monitors and links (Wippy's `process.monitor/link/spawn_linked`, `trap_links`, `LINK_DOWN`).

Workflows run on the time-skipping server with the workflow cache off
(`WFLOW_MAX_CACHED_WORKFLOWS=0`: every workflow task replays the history from the start), and
each finished history is replayed once more against the code: the monitor and link decisions
come only from the history (signals, child results, activities), so they replay. Processes run
on the dev server (real time).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.helpers.paths import FIXTURES
from tests.helpers.processes import start_worker, stop
from tests.helpers.replayed import replays, run_replayed
from wflow.model import ErrorKind, WflowError
from wflow.registry import load_project
from wflow.temporal import Connection, Session
from wflow.testing import EmbeddedDevServer

pytestmark = pytest.mark.timeout(300)

PROJECT = FIXTURES / "links"


@pytest_asyncio.fixture
async def session(
    time_skipping_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Session]:
    monkeypatch.setenv("WFLOW_MAX_CACHED_WORKFLOWS", "0")
    async with Session(load_project(PROJECT), client=time_skipping_env.client) as running:
        yield running


async def test_plain_spawn_child_reports_exit(session: Session) -> None:
    result = await run_replayed(session, "app:child_exit")
    assert result == {"kind": "EXIT", "from": True, "value": {"done": 3}}


async def test_post_start_monitor_gets_one_exit(session: Session) -> None:
    result = await run_replayed(session, "app:post_start_monitor")
    assert result == {"ok": True, "kind": "EXIT", "from": True, "value": {"done": 100}}


async def test_post_start_link_then_terminate_gives_link_down(session: Session) -> None:
    result = await run_replayed(session, "app:post_start_link")
    assert result == {
        "ok": True,
        "kind": "LINK_DOWN",
        "is_link_down": True,
        "from": True,
        "error": "CANCELED",
    }


async def test_untrapped_linked_child_failure_fails_the_parent(session: Session) -> None:
    error = await run_replayed(session, "app:untrapped_link")
    assert isinstance(error, WflowError)
    assert error.kind is ErrorKind.CANCELED
    assert "linked process app:worker/app:failing_workflow-" in error.message
    assert "ended abnormally: CONFLICT: failing on purpose" in error.message


async def test_failing_parent_ends_or_notifies_its_linked_children(session: Session) -> None:
    error = await run_replayed(session, "app:parent_fails", "p1", wid="links-parent-p1")
    assert isinstance(error, WflowError) and error.kind is ErrorKind.INTERNAL
    parent = "app:worker/links-parent-p1"
    client, _ = session.client_for_workflow("app:waiter")
    plain = client.get_workflow_handle("app:waiter:w-p1")
    with pytest.raises(Exception) as ended:
        await asyncio.wait_for(session.result(plain), 60)
    assert isinstance(ended.value, WflowError)
    assert ended.value.kind is ErrorKind.CANCELED
    assert f"linked process {parent} ended abnormally: INTERNAL" in ended.value.message
    trapping = client.get_workflow_handle("app:trapping_waiter:t-p1")
    trapped = await asyncio.wait_for(session.result(trapping), 60)
    assert trapped == {"kind": "LINK_DOWN", "from": parent, "error": "INTERNAL"}
    await replays(session.registry, plain)
    await replays(session.registry, trapping)


async def test_link_to_a_workflow_by_pid(session: Session) -> None:
    target = await session.start("app:failing_workflow", [{"wait": True}], workflow_id="target-1")
    result = await run_replayed(session, "app:link_by_pid", "app:worker/target-1")
    assert result == {
        "ok": True,
        "kind": "LINK_DOWN",
        "from": True,
        "error": "CONFLICT",
        "message": "failing on purpose",
    }
    await replays(session.registry, target)


async def test_terminated_workflow_tells_its_links_from_its_memo(session: Session) -> None:
    # Terminated from outside (wflow's terminate): the target runs no more code, so its links
    # are read from its memo (wflow.peers) and told by the terminator.
    client, _ = session.client_for_workflow("app:long_workflow")
    await session.start("app:long_workflow", [{"iterations": 10**8}], workflow_id="far-1")
    waiter = await session.start("app:link_and_wait", ["app:worker/far-1"])
    far = client.get_workflow_handle("far-1")
    for _ in range(200):  # bounded: until the target has taken the link in
        memo = await (await far.describe()).memo_value("wflow.peers", None)
        if memo and memo["links"]:
            break
        await asyncio.sleep(0.05)
    assert memo == {"watchers": [], "links": [f"app:worker/{waiter.id}"]}
    await Connection(session.registry, {None: client}).terminate("app:worker/far-1", "by test")
    result = await asyncio.wait_for(session.result(waiter), 60)
    assert result == {
        "ok": True,
        "kind": "LINK_DOWN",
        "from": True,
        "error": "CANCELED",
        "message": "terminated: by test",
    }
    await replays(session.registry, waiter)


async def test_unlink_and_unmonitor_stop_their_notices(session: Session) -> None:
    result = await run_replayed(session, "app:unlink_unmonitor")
    assert result == {
        "first": "EXIT",
        "first_from": True,
        "first_error": "CONFLICT",
        "second_from": True,
    }


async def test_options_and_event_constants(session: Session) -> None:
    result = await run_replayed(session, "app:options")
    assert result == {
        "before": False,
        "ok": True,
        "after": True,
        "bad": "INVALID",
        "self_link": "process.link: a workflow cannot link itself",
        "kinds": ["EXIT", "CANCEL", "LINK_DOWN"],
    }


async def test_python_twin(session: Session) -> None:
    result = await run_replayed(session, "app:py_links")
    assert result == {
        "before": False,
        "after": True,
        "down": [True, True, ErrorKind.CONFLICT.value],
        "linked_exit": ["EXIT", True],
        "exit": [True, True],
        "value": {"done": 100},
    }
    error = await run_replayed(session, "app:py_failing")
    assert isinstance(error, WflowError) and error.kind is ErrorKind.CANCELED
    assert "ended abnormally: CONFLICT" in error.message


# -- processes (dev server, real time) ------------------------------------------------------


@pytest_asyncio.fixture
async def process_session(dev_server: EmbeddedDevServer) -> AsyncIterator[Session]:
    async with Session(load_project(PROJECT), address=dev_server.address) as running:
        yield running


def connection_of(session: Session) -> Connection:
    assert session.processes is not None
    host = session.processes.hosts[0]
    return Connection(session.registry, {None: host.router.connection.default_client()})


async def process_result(session: Session, entry: str) -> Any:
    connection = connection_of(session)
    pid = await connection.spawn(entry, "app:processes")
    return await asyncio.wait_for(connection.result(pid), 30)


async def test_process_traps_link_down_as_the_tutorial_shows(process_session: Session) -> None:
    assert await process_result(process_session, "app:link_down_supervisor") is True


async def test_process_monitors_a_running_process(process_session: Session) -> None:
    result = await process_result(process_session, "app:monitor_supervisor")
    assert result == {"kind": "EXIT", "from": True, "value": "stopped by stop"}


async def test_untrapped_link_ends_the_process(process_session: Session) -> None:
    with pytest.raises(WflowError) as ended:
        await process_result(process_session, "app:untrapped_process")
    assert ended.value.kind is ErrorKind.CANCELED
    assert "linked process app:processes/" in ended.value.message
    assert "ended abnormally: INTERNAL" in ended.value.message


async def test_process_linked_to_a_failing_workflow(process_session: Session) -> None:
    result = await process_result(process_session, "app:process_links_workflow")
    assert result == {"ok": True, "kind": "LINK_DOWN", "from": True, "error": "CONFLICT"}


async def test_workflow_linked_to_a_failing_process(process_session: Session) -> None:
    result = await asyncio.wait_for(process_session.execute("app:workflow_links_process", []), 60)
    assert result == {
        "kind": "LINK_DOWN",
        "from": True,
        "error": "INTERNAL",
        "ok": True,
        "exit": "EXIT",
        "exit_from": True,
        "value": "stopped by stop",
    }


async def test_python_process_traps_link_down(process_session: Session) -> None:
    result = await process_result(process_session, "app:py_process_links")
    assert result == {"kind": "LINK_DOWN", "from": True, "error": "INTERNAL"}


async def test_link_between_processes_in_two_os_processes(
    dev_server: EmbeddedDevServer, tmp_path: Path
) -> None:
    # A `wflow worker` of its own runs a second instance of app:processes: the link, the send,
    # the failure's notice and the LINK_DOWN cross between the two OS processes through
    # Temporal (the relay workflow and the op activity), not in memory.
    registry = load_project(PROJECT)
    other = start_worker(PROJECT, dev_server.address, tmp_path / "worker.log")
    try:
        client = await Client.connect(dev_server.address)
        outside = Connection(registry, {None: client})
        target = await spawn_when_ready(outside, "app:fail_on_message")
        async with Session(registry, address=dev_server.address) as here:
            assert here.processes is not None
            local = here.processes.hosts[0]
            assert not local.running(target)  # the target is in the other OS process
            near = connection_of(here)
            pid = await near.spawn("app:link_to", "app:processes", target)
            assert local.running(pid)
            result = await asyncio.wait_for(near.result(pid), 60)
    finally:
        stop(other)
    assert result == {"ok": True, "kind": "LINK_DOWN", "from": True, "error": "INTERNAL"}


async def spawn_when_ready(connection: Connection, entry: str) -> str:
    """Spawn `entry` on app:processes once the other worker's host instance answers."""
    for _ in range(6):  # bounded: each try waits at most the relay's 20 seconds
        try:
            return await connection.spawn(entry, "app:processes")
        except WflowError as exc:
            if exc.kind not in (ErrorKind.TIMEOUT, ErrorKind.UNAVAILABLE):
                raise
    raise AssertionError("the other worker's process host never answered")
