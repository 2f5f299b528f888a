"""A message, update, cancel or terminate for a workflow that has ended says it has ended and
how (issue 14, item 8), from `Connection` and from the `wflow` command line; a PID that never
existed still says `no workflow`."""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.helpers.cli_process import make_project
from wflow.model import ErrorKind, WflowError, format_pid
from wflow.registry import load_project
from wflow.temporal import Connection, Session, connect
from wflow.testing import EmbeddedDevServer

pytestmark = pytest.mark.timeout(180)

WORKER = "app:temporal_worker"
WHEN = r"at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"


async def _ended(session: Session, connection: Connection, how: str) -> str:
    """Start `app:waiter` and end it `how`; return its PID once it has closed."""
    handle = await session.start("app:waiter", ["hi"], workflow_id=f"closed-{uuid.uuid4().hex}")
    pid = format_pid(WORKER, handle.id)
    if how == "completed":
        await connection.send(pid, "go", {"n": 1})
    elif how == "canceled":
        await connection.cancel(pid)
    else:
        await connection.terminate(pid, "test")
    # Canceled / terminated: the result raises; the workflow has closed all the same.
    with contextlib.suppress(Exception):
        await asyncio.wait_for(handle.result(), 60)
    return pid


async def _error(call: asyncio.Future[object] | object) -> WflowError:
    with pytest.raises(WflowError) as info:
        await call  # type: ignore[misc]
    return info.value


async def test_send_update_cancel_terminate_to_an_ended_workflow(
    dev_server: EmbeddedDevServer, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "p", dev_server.address)
    registry = load_project(project)
    async with Session(registry, address=dev_server.address) as session:
        connection = await connect(registry)
        done = await _ended(session, connection, "completed")
        canceled = await _ended(session, connection, "canceled")
        terminated = await _ended(session, connection, "terminated")

        error = await _error(connection.send(done, "late", {"n": 2}))
        assert error.kind is ErrorKind.NOT_FOUND
        assert re.fullmatch(
            rf"workflow {re.escape(done)} has ended \(completed {WHEN}\); "
            r"messages can only go to running workflows",
            error.message,
        ), error.message
        assert error.retryable is False

        error = await _error(connection.send(canceled, "late"))
        assert re.match(
            rf"workflow {re.escape(canceled)} has ended \(canceled {WHEN}\)", str(error.message)
        )

        error = await _error(connection.update(terminated, "add", 1))
        assert re.fullmatch(
            rf"workflow {re.escape(terminated)} has ended \(terminated {WHEN}\); "
            r"updates can only go to running workflows",
            error.message,
        ), error.message

        error = await _error(connection.cancel(done))
        assert error.message.endswith("; only a running workflow can be canceled"), error.message
        assert "has ended (completed at " in error.message

        error = await _error(connection.terminate(done))
        assert error.message.endswith("; only a running workflow can be terminated"), error.message

        missing = format_pid(WORKER, f"never-{uuid.uuid4().hex}")
        error = await _error(connection.send(missing, "x"))
        assert error.message == f"no workflow {missing}"

        # The command line says the same, exit 1.
        cli = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "wflow.cli", "send", str(project), done, "late", "{}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert cli.returncode == 1, (cli.stdout, cli.stderr)
    assert re.search(
        rf"error: NOT_FOUND: workflow {re.escape(done)} has ended \(completed {WHEN}\); "
        r"messages can only go to running workflows",
        cli.stderr,
    ), cli.stderr
