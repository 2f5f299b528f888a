"""Every caller with every callee, in Lua and in Python: spawn, send, receive the reply.

| caller \\ callee      | workflow (Lua, Python)        | process (Lua, Python)         |
|---------------------|-------------------------------|-------------------------------|
| workflow (Lua, Py)  | spawn, send, reply to it      | spawn, send, reply to it      |
| process (Lua, Py)   | spawn, send, reply to it      | spawn, send, reply to it      |
| function (Lua, Py)  | spawn, send; reply to its     | spawn, send; reply to its     |
|                     | calling workflow              | calling workflow              |
| wflow.connect       | spawn, send, its result       | spawn, send, its result       |
| CLI spawn/send      | spawn, send, its result       | spawn, send, its result       |

A process may also call functions (Lua and Python), which run in its host, once.
On the dev server: processes run on real time.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.helpers.paths import FIXTURES
from tests.helpers.processes import run_wflow
from wflow.registry import load_project
from wflow.temporal import Connection, Session
from wflow.testing import EmbeddedDevServer

pytestmark = pytest.mark.timeout(180)

PROJECT = FIXTURES / "process_matrix"

CALLEES = {
    "lua workflow": "mx:echo_wf",
    "lua process": "mx:echo_proc",
    "python workflow": "mx:py_echo_wf",
    "python process": "mx:py_echo_proc",
}
LANGUAGES = {"lua": "", "python": "py_"}


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def session(dev_server: EmbeddedDevServer) -> AsyncIterator[Session]:
    async with Session(load_project(PROJECT), address=dev_server.address) as running:
        yield running


@pytest.fixture
def connection(session: Session) -> Connection:
    assert session.processes is not None
    return session.processes.hosts[0].router.connection


def check_callee(callee: str, pid: str) -> None:
    """A process PID names the host; a workflow PID the worker."""
    prefix = "mx:processes/" if callee.endswith("_proc") else f"mx:worker/{callee}-"
    assert pid.startswith(prefix), pid


async def bounded(running: Any) -> Any:
    """At most 60 seconds: a lost message fails the test instead of hanging it."""
    return await asyncio.wait_for(running, 60)


@pytest.mark.parametrize("callee", CALLEES.values(), ids=CALLEES.keys())
@pytest.mark.parametrize("language", LANGUAGES.values(), ids=LANGUAGES.keys())
async def test_workflow_caller(session: Session, language: str, callee: str) -> None:
    result = await bounded(session.execute(f"mx:{language}caller_wf", [callee, "hi"]))
    check_callee(callee, result["callee"])
    assert (result["text"], result["by"]) == ("hi", result["callee"])


@pytest.mark.parametrize("callee", CALLEES.values(), ids=CALLEES.keys())
@pytest.mark.parametrize("language", LANGUAGES.values(), ids=LANGUAGES.keys())
async def test_process_caller(connection: Connection, language: str, callee: str) -> None:
    caller = await connection.spawn(f"mx:{language}caller_proc", None, callee, "hi")
    assert caller.startswith("mx:processes/")
    result = await bounded(connection.result(caller))
    check_callee(callee, result["callee"])
    assert (result["text"], result["by"]) == ("hi", result["callee"])


@pytest.mark.parametrize("callee", CALLEES.values(), ids=CALLEES.keys())
@pytest.mark.parametrize("language", LANGUAGES.values(), ids=LANGUAGES.keys())
async def test_function_caller(session: Session, language: str, callee: str) -> None:
    function = f"mx:{language}caller_fn"
    result = await bounded(session.execute("mx:call_fn", [function, callee, "hi"]))
    check_callee(callee, result["callee"])
    assert (result["text"], result["by"]) == ("hi", result["callee"])


@pytest.mark.parametrize("callee", CALLEES.values(), ids=CALLEES.keys())
async def test_outside_caller(connection: Connection, callee: str) -> None:
    pid = await connection.spawn(callee)
    check_callee(callee, pid)
    await connection.send(pid, "ping", {"text": "hi"})
    assert await bounded(connection.result(pid)) == "hi"


@pytest.mark.parametrize("callee", CALLEES.values(), ids=CALLEES.keys())
async def test_cli_caller(
    session: Session, connection: Connection, dev_server: EmbeddedDevServer, callee: str
) -> None:
    """`wflow spawn` and `wflow send` from another OS process (through Temporal)."""
    address = ["--address", dev_server.address]
    spawned = await asyncio.to_thread(run_wflow, "spawn", str(PROJECT), callee, *address)
    assert spawned.returncode == 0, spawned.stderr
    pid = spawned.stdout.strip()
    check_callee(callee, pid)
    text = f"hi {uuid.uuid4().hex[:6]}"
    payload = f'{{"text": "{text}"}}'
    sent = await asyncio.to_thread(run_wflow, "send", str(PROJECT), pid, "ping", payload, *address)
    assert sent.returncode == 0, sent.stderr
    assert await bounded(connection.result(pid)) == text


@pytest.mark.parametrize("language", LANGUAGES.values(), ids=LANGUAGES.keys())
async def test_process_calls_functions(connection: Connection, language: str) -> None:
    pid = await connection.spawn(f"mx:{language}calc_proc", None, 21)
    assert await bounded(connection.result(pid)) == {"lua": 42, "py": 42}
