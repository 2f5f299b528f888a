"""`wflow run`, `wflow worker` and `wflow dev` end to end, on real Temporal servers."""

from __future__ import annotations

import json
import os
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from temporalio.client import Client

from tests.helpers.cli_greetings import make_project, wflow
from tests.helpers.processes import Background
from wflow.testing import EmbeddedDevServer, server_answers


@pytest.fixture
def background() -> Iterator[Callable[..., Background]]:
    started: list[Background] = []

    def start(*args: str) -> Background:
        started.append(Background(*args))
        return started[-1]

    yield start
    for command in started:
        command.kill()


def test_run_time_skipping_prints_the_result(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "127.0.0.1:1")
    result = wflow("run", str(project), "app:hello", '"bob"', '"24h"', "--time-skipping")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == "hello bob"
    assert "started app:hello" in result.stderr


def test_run_failed_workflow_exits_1_with_kind_and_message(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "127.0.0.1:1")
    result = wflow("run", str(project), "app:hello", '"nobody"', "--time-skipping")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "error: workflow app:hello failed: INVALID: nobody to greet" in result.stderr
    assert 'details: {"name": "nobody"}' in result.stderr
    assert "Traceback" not in result.stderr


def test_run_on_a_running_server(dev_server: EmbeddedDevServer, tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "127.0.0.1:1")
    result = wflow("run", str(project), "app:hello", '"ann"', "--address", dev_server.address, "-q")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == "hello ann"
    assert result.stderr == ""
    assert not (project / ".wflow").exists()  # nothing was started


def test_run_starts_and_stops_the_embedded_server(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    address = f"127.0.0.1:{free_port()}"
    project = make_project(tmp_path / "p", address)
    result = wflow("run", str(project), "app:hello", '"eve"', '"1s"')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == "hello eve"
    assert (project / ".wflow" / "temporal.db").exists()
    assert (project / ".wflow" / "server.log").exists()
    assert not (project / ".wflow" / "server.pid").exists()


async def test_run_to_an_unreachable_remote_address_fails_cleanly(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "unreachable.invalid:7233")
    result = wflow("run", str(project), "app:hello", '"x"', timeout=120)
    assert result.returncode == 1
    assert "no Temporal server answers at unreachable.invalid:7233" in result.stderr
    assert "Traceback" not in result.stderr


async def test_worker_runs_workflows_until_sigterm(
    dev_server: EmbeddedDevServer, tmp_path: Path, background: Callable[..., Background]
) -> None:
    project = make_project(tmp_path / "p", dev_server.address)
    worker = background("worker", str(project))
    worker.wait_for("workers running")

    task_queue = (project / "_index.yaml").read_text().split('task_queue: "')[1].split('"')[0]
    client = await Client.connect(dev_server.address)
    result = await client.execute_workflow(
        "app:hello", args=["zoe"], id=f"cli-worker-{uuid.uuid4()}", task_queue=task_queue
    )
    assert result == "hello zoe"

    assert worker.stop(signal.SIGTERM) == 0
    assert any("stopped" in line for line in worker.seen), worker.seen


async def test_dev_serves_ui_and_stops_both_on_ctrl_c(
    tmp_path: Path, free_port: Callable[[], int], background: Callable[..., Background]
) -> None:
    address = f"127.0.0.1:{free_port()}"
    project = make_project(tmp_path / "p", address)
    state = tmp_path / "state"
    dev = background("dev", str(project), "--state-dir", str(state))
    line = dev.wait_for("Web UI: ")
    assert line.split("Web UI: ")[1].strip().startswith("http://127.0.0.1:")
    dev.wait_for("workers running")
    assert await server_answers(address)
    pid = int((state / "server.pid").read_text())

    assert dev.stop(signal.SIGINT) == 0
    assert not await server_answers(address, timeout=1)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_run_interrupted_stops_the_server_it_started(
    tmp_path: Path, free_port: Callable[[], int], background: Callable[..., Background]
) -> None:
    address = f"127.0.0.1:{free_port()}"
    project = make_project(tmp_path / "p", address)
    run = background("run", str(project), "app:hello", '"bob"', '"1h"')
    run.wait_for("sleeping")
    pid = int((project / ".wflow" / "server.pid").read_text())

    assert run.stop(signal.SIGTERM) == 130
    assert any("interrupted" in line for line in run.seen), run.seen
    assert not await server_answers(address, timeout=1)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
