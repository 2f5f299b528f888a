"""Processes under the time-skipping test server: a workflow waiting for a process's reply
is not timed out by skipped time.

The server skips to its next timer when nothing it knows about runs; a process is invisible
to it, so a workflow waiting for a process's reply used to jump to its 10-year execution
timeout now and then (`TIMEOUT`). The host holds the server's time-skipping lock while its
processes work (`wflow.temporal._process_clock`). Repeated, since the failure was a race.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from tests.helpers.paths import EXAMPLES, FIXTURES
from wflow.registry import load_project
from wflow.temporal import Session

pytestmark = pytest.mark.timeout(120)

RUNS = 15


@pytest_asyncio.fixture(loop_scope="session")
async def services(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[Session]:
    project = load_project(FIXTURES / "services")
    async with Session(project, client=time_skipping_env.client) as running:
        yield running


async def test_workflows_hear_a_key_value_process_every_time(services: Session) -> None:
    for run in range(RUNS):
        result = await services.execute("app:kv_client", ["k", run])
        assert (result["got"], result["exit_value"]) == (run, {"k": run})


async def test_a_lua_workflow_hears_a_python_process_every_time(services: Session) -> None:
    assert services.processes is not None
    connection = services.processes.hosts[0].router.connection
    for run in range(RUNS):
        echo = await connection.spawn("app:py_echo")
        assert await services.execute("app:echo_user", [echo, f"hello {run}"]) == f"hello {run}"
        await connection.send(echo, "stop")
        assert await connection.result(echo) == "stopped"


async def test_the_services_example_logs_in_every_time(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """`wflow run --time-skipping examples/services app:login '"ada"' true`, repeated."""
    project = load_project(EXAMPLES / "services")
    async with Session(project, client=time_skipping_env.client) as session:
        managers = set()
        for run in range(RUNS):
            crash = run % 10 == 0  # the seed's service restarts at most 10 times
            result = await session.execute("app:login", ["ada", crash])
            assert result["user"] == "ada"
            if crash:
                assert result["session"] == "s1"  # a new session handler, empty
            managers.add(result["manager"])
        assert len(managers) == (RUNS + 9) // 10  # each crash: a new PID serving until the next
