"""A workflow's send to a process is in its history: a replay after a killed worker does not
send again (the process counts what it received). Then the CLI, another OS process, reaches the
same process through Temporal."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

from temporalio.api.enums.v1 import EventType

from tests.helpers.paths import FIXTURES
from tests.helpers.processes import kill_hard, run_wflow, start_worker, stop
from wflow.model import format_pid
from wflow.registry import load_project
from wflow.temporal import Connection, Session
from wflow.temporal._client import connect_client
from wflow.temporal._process_host import ProcessHost
from wflow.temporal._process_hosting import ProcessHosting
from wflow.testing import EmbeddedDevServer, wait_for_event


def copy_project(target: Path) -> Path:
    shutil.copytree(FIXTURES / "services", target, ignore=shutil.ignore_patterns("__pycache__"))
    index = target / "_index.yaml"
    index.write_text(
        index.read_text().replace("task_queue: services", f"task_queue: crash-{uuid.uuid4().hex}")
    )
    return target


async def hits(host: ProcessHost, counter: str, expected: int) -> None:
    """Wait (bounded) for the counter's state; it takes a message on its next turn."""
    for _ in range(500):
        if [p.state for p in host.list() if p.pid == counter] == [expected]:
            return
        await asyncio.sleep(0.01)
    assert [p.state for p in host.list() if p.pid == counter] == [expected]


async def test_send_to_a_process_is_not_repeated_after_a_worker_crash(
    dev_server: EmbeddedDevServer, tmp_path: Path
) -> None:
    project = copy_project(tmp_path / "services")
    registry = load_project(project)
    client = await connect_client(None, address=dev_server.address)
    log = tmp_path / "workers.log"
    # The process host runs here; the workflow's worker in a process of its own, killed.
    async with ProcessHosting(registry, {None: client}) as hosting:
        host = hosting.hosts[0]
        connection = Connection(registry, {None: client})
        counter = await connection.spawn("app:counter")
        first = start_worker(project, dev_server.address, log)
        second = None
        try:
            async with Session(
                registry, address=dev_server.address, start_workers=False
            ) as session:
                handle = await session.start("app:send_once", [counter])
                await wait_for_event(handle, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
                await hits(host, counter, 1)

                kill_hard(first)
                second = start_worker(project, dev_server.address, log)
                await connection.send(format_pid("app:temporal_worker", handle.id), "go")
                result = await asyncio.wait_for(session.result(handle), 60)
                events = [e async for e in handle.fetch_history_events()]
        finally:
            stop(first)
            if second is not None:
                assert stop(second) == 0, log.read_text()
        assert result == "sent once"
        assert [p.state for p in host.list() if p.pid == counter] == [1]
        scheduled = [
            e.activity_task_scheduled_event_attributes.activity_type.name
            for e in events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        ]
        assert scheduled == ["wflow.processes:op"]

        # From another OS process (the CLI): through Temporal, a relay to this host instance.
        address = dev_server.address
        sent = await asyncio.to_thread(
            run_wflow, "send", str(project), counter, "hit", "--address", address
        )
        assert sent.returncode == 0, sent.stderr
        await hits(host, counter, 2)
        listed = await asyncio.to_thread(run_wflow, "ls", str(project), "--address", address)
        assert listed.returncode == 0, listed.stderr
        row = next(line for line in listed.stdout.splitlines() if line.startswith(counter))
        assert row.split()[1:3] == ["app:counter", "PROCESS"]
