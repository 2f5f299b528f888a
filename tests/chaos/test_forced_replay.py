"""The workflow cache, and turning it off with `WFLOW_MAX_CACHED_WORKFLOWS=0` (forced replay).

With the cache a worker keeps a workflow's state between its workflow tasks and runs its code
once; without it every workflow task replays the history from the start, running the code
again. CI runs the workflow tests a second time with the cache off (.ci/run);
`test_this_run_has_the_cache_setting_of_its_environment` is in that run too and fails if the
cache there is not really off.

The fixture workflows (tests/fixtures/chaos, count_runs) print a line each time their code
runs from the start and make three calls: one run with the cache, four or more without.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from tests.helpers.paths import FIXTURES
from wflow.model import ErrorKind, WflowError
from wflow.registry import load_project
from wflow.temporal import Session, build_workers
from wflow.testing import EmbeddedDevServer

pytestmark = pytest.mark.timeout(120)

PROJECT = FIXTURES / "chaos"
CACHE_ENV = "WFLOW_MAX_CACHED_WORKFLOWS"


@pytest.fixture(autouse=True)
def _ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WFLOW_CHAOS_LEDGER", str(tmp_path / "ledger.sqlite3"))


async def code_runs(
    dev_server: EmbeddedDevServer,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> dict[str, int]:
    """Run both fixture workflows; return how often each one's code ran from its start."""
    runs: dict[str, int] = {}
    async with Session(load_project(PROJECT), address=dev_server.address) as session:
        for entry, value in (("chaos:count_runs_lua", 40), ("chaos:count_runs_py", 457)):
            marker = f"count-runs {uuid.uuid4().hex}"
            with caplog.at_level(logging.INFO, logger="lua_bridge.print"):
                assert await session.execute(entry, [marker.split()[1]]) == value
            printed = capfd.readouterr().out + caplog.text
            runs[entry.split(":")[1]] = printed.count(marker)
    return runs


async def test_without_the_cache_every_workflow_task_replays(
    dev_server: EmbeddedDevServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(CACHE_ENV, "0")
    runs = await code_runs(dev_server, caplog, capfd)
    # The first task, and one more after each of the three calls completed.
    assert runs["count_runs_lua"] >= 4, runs
    assert runs["count_runs_py"] >= 4, runs


async def test_with_the_cache_the_code_runs_once(
    dev_server: EmbeddedDevServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    assert await code_runs(dev_server, caplog, capfd) == {
        "count_runs_lua": 1,
        "count_runs_py": 1,
    }


async def test_this_run_has_the_cache_setting_of_its_environment(
    dev_server: EmbeddedDevServer,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    runs = await code_runs(dev_server, caplog, capfd)
    if os.environ.get(CACHE_ENV, "").strip() == "0":  # CI's forced-replay run
        assert min(runs.values()) >= 4, runs
    else:
        assert runs == {"count_runs_lua": 1, "count_runs_py": 1}


def _project(tmp_path: Path, worker_options: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "_index.yaml").write_text(
        f"""version: "1.0"
namespace: cache
entries:
  - name: worker
    kind: temporal.worker
    task_queue: cache-{uuid.uuid4().hex[:8]}
{worker_options}
  - name: noop
    kind: workflow.lua
    source: file://noop.lua
"""
    )
    (tmp_path / "noop.lua").write_text("return function() return 1 end\n")
    return tmp_path


async def _workers(tmp_path: Path, worker_options: str, client: Client) -> list[Worker]:
    return build_workers(load_project(_project(tmp_path, worker_options)), {None: client})


async def test_the_entry_setting_wins_over_the_environment(
    dev_server: EmbeddedDevServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await Client.connect(dev_server.address)
    monkeypatch.setenv(CACHE_ENV, "0")
    [from_env] = await _workers(tmp_path / "a", "", client)
    assert from_env.config()["max_cached_workflows"] == 0
    options = "    worker_options:\n      max_cached_workflows: 7"
    [from_entry] = await _workers(tmp_path / "b", options, client)
    assert from_entry.config()["max_cached_workflows"] == 7


async def test_a_bad_value_is_refused(
    dev_server: EmbeddedDevServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await Client.connect(dev_server.address)
    monkeypatch.setenv(CACHE_ENV, "none")
    with pytest.raises(WflowError) as caught:
        await _workers(tmp_path, "", client)
    assert caught.value.kind is ErrorKind.INVALID
    assert caught.value.message == (
        "WFLOW_MAX_CACHED_WORKFLOWS='none': expected a whole number of workflows, 0 or more "
        "(0 turns the workflow cache off)"
    )
