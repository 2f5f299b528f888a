"""One benchmark worker process: `python -m bench._worker FAMILY ADDRESS TASK_QUEUE`.

FAMILY is `plain-sandboxed`, `plain-unsandboxed` (a hand-written temporalio worker with the
workflows of `project/bench_plain.py`) or `wflow` (the project's wflow worker, as
`wflow worker` builds it, its task queue prefixed with TASK_QUEUE). Every worker caches up to
`CACHED` workflows. It prints `ready` when it polls and runs until its standard input closes,
so the parent process measures its CPU time and memory from outside (`/proc`).
"""

from __future__ import annotations

import asyncio
import os
import sys

PROJECT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "project")
CACHED = 2000
"""`max_cached_workflows` of every benchmark worker (the memory figure keeps 1,000 open)."""

__all__ = ["CACHED", "PROJECT", "main"]


async def _wait_for_stdin_eof() -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


async def _plain(address: str, task_queue: str, sandboxed: bool) -> None:
    from temporalio.client import Client
    from temporalio.worker import Worker

    sys.path.insert(0, PROJECT)
    import bench_plain  # type: ignore[import-not-found]

    client = await Client.connect(address)
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=bench_plain.SANDBOXED if sandboxed else bench_plain.UNSANDBOXED,
        activities=[bench_plain.step],
        max_cached_workflows=CACHED,
    )
    async with worker:
        print("ready", flush=True)
        await _wait_for_stdin_eof()


async def _wflow(address: str, prefix: str) -> None:
    os.environ["WFLOW_TQ_PREFIX"] = prefix
    os.environ["WFLOW_MAX_CACHED_WORKFLOWS"] = str(CACHED)
    from temporalio.client import Client

    from wflow.registry import load_project
    from wflow.temporal import build_workers, connect_client

    registry = load_project(PROJECT)
    client = await connect_client(registry.clients()[0], address=address)
    clients: dict[str | None, Client] = {None: client}
    clients.update({entry.id: client for entry in registry.clients()})
    (worker,) = build_workers(registry, clients)
    async with worker:
        print("ready", flush=True)
        await _wait_for_stdin_eof()


def main(argv: list[str]) -> None:
    """Run the worker FAMILY ADDRESS TASK_QUEUE until standard input closes."""
    family, address, task_queue = argv
    if family == "wflow":
        asyncio.run(_wflow(address, task_queue))
    else:
        asyncio.run(_plain(address, task_queue, sandboxed=family == "plain-sandboxed"))


if __name__ == "__main__":
    main(sys.argv[1:])
