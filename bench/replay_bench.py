"""Replay cost: a Lua workflow vs a Python DSL workflow vs a plain temporalio workflow.

All three make the same three activity calls (`bench/project`). Each runs once on the
time-skipping test server; its history is then replayed N times with temporalio's `Replayer`,
which measures worker CPU only (no server, no activities). wflow's replayers are configured
exactly as its real worker (`build_workers`): same workflow classes, runner and interceptors.

Also measured, because they are cheap: Lua run inside Temporal's import sandbox (wflow runs Lua
workflows unsandboxed by design), the Python DSL workflow unsandboxed, and plain temporalio
unsandboxed.

    .venv/bin/python bench/replay_bench.py [--n 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, Worker

from wflow.registry import load_project
from wflow.temporal import Session, build_workers
from wflow.testing import workflow_class

PROJECT = Path(__file__).parent / "project"
ORDER = {"order_id": "o-1", "items": ["book", "lamp"], "amount": 42.5, "steps": 0}


async def _record_histories(registry: Any) -> tuple[dict[str, WorkflowHistory], dict[str, Any]]:
    """Run each workflow once; return their histories and the wflow worker's replay config."""
    import bench_plain  # on sys.path: load_project put the project folder there

    histories: dict[str, WorkflowHistory] = {}
    async with Session(registry, mode="time-skipping") as session:
        client: Client = session.client_for_workflow("bench:lua_three_calls")[0]
        for entry in ("bench:lua_three_calls", "bench:py_three_calls"):
            handle = await session.start(entry, [ORDER])
            assert (await session.result(handle))["steps"] == 3
            histories[entry] = await handle.fetch_history()
        plain = Worker(
            client,
            task_queue="bench-plain",
            workflows=[bench_plain.PlainThreeCalls],
            activities=[bench_plain.step],
        )
        async with plain:
            handle = await client.start_workflow(
                "bench:plain_three_calls", ORDER, id="bench-plain", task_queue="bench-plain"
            )
            assert (await handle.result())["steps"] == 3
            histories["plain"] = await handle.fetch_history()
    # After the session's own worker stopped (one worker per task queue and client): this one
    # is only built, never run, for its configuration.
    clients: dict[str | None, Client] = {None: client}
    clients.update({entry.id: client for entry in registry.clients()})
    config = dict(build_workers(registry, clients)[0].config())
    return histories, config


async def _replay(replayer: Replayer, history: WorkflowHistory, n: int) -> tuple[float, float]:
    """Replay `history` n times; return (wall, CPU) seconds."""

    async def copies() -> AsyncIterator[WorkflowHistory]:
        for i in range(n):
            yield WorkflowHistory(f"{history.workflow_id}-{i}", history.events)

    wall, cpu = time.perf_counter(), time.process_time()
    results = await replayer.replay_workflows(copies())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert not results.replay_failures
    return wall, cpu


async def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="replays per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements; the best counts")
    args = parser.parse_args(argv)

    registry = load_project(PROJECT)
    import bench_plain

    histories, config = await _record_histories(registry)
    wflow_kwargs = {
        "workflow_runner": config["workflow_runner"],
        "interceptors": config["interceptors"],
    }
    by_type = {cls.__temporal_workflow_definition.name: cls for cls in config["workflows"]}
    variants: dict[str, tuple[Replayer, WorkflowHistory]] = {
        "plain temporalio (sandboxed)": (
            Replayer(workflows=[bench_plain.PlainThreeCalls]),
            histories["plain"],
        ),
        "plain temporalio (unsandboxed)": (
            Replayer(workflows=[bench_plain.PlainThreeCallsUnsandboxed]),
            histories["plain"],
        ),
        "wflow Python DSL (sandboxed)": (
            Replayer(workflows=[by_type["bench:py_three_calls"]], **wflow_kwargs),
            histories["bench:py_three_calls"],
        ),
        "wflow Python DSL (unsandboxed)": (
            Replayer(
                workflows=[workflow_class(registry, "bench:py_three_calls", sandboxed=False)],
                **wflow_kwargs,
            ),
            histories["bench:py_three_calls"],
        ),
        "wflow Lua (unsandboxed)": (
            Replayer(workflows=[by_type["bench:lua_three_calls"]], **wflow_kwargs),
            histories["bench:lua_three_calls"],
        ),
        "wflow Lua (sandboxed)": (
            Replayer(
                workflows=[workflow_class(registry, "bench:lua_three_calls", sandboxed=True)],
                **wflow_kwargs,
            ),
            histories["bench:lua_three_calls"],
        ),
    }
    for replayer, history in variants.values():  # warm up: imports, sandbox caches
        await _replay(replayer, history, 5)

    best: dict[str, tuple[float, float]] = {}
    for _ in range(args.rounds):
        for name, (replayer, history) in variants.items():
            wall, cpu = await _replay(replayer, history, args.n)
            old = best.get(name)
            best[name] = (wall, cpu) if old is None else (min(old[0], wall), min(old[1], cpu))

    events = {name: len(history.events) for name, (_, history) in variants.items()}
    python = sys.version.split()[0]
    print(f"{args.n} replays per measurement, best of {args.rounds}; Python {python}")
    print(f"{'variant':34} {'events':>6} {'wall ms/replay':>15} {'CPU ms/replay':>14}")
    for name, (wall, cpu) in best.items():
        print(
            f"{name:34} {events[name]:>6} {1000 * wall / args.n:>15.3f} "
            f"{1000 * cpu / args.n:>14.3f}"
        )
    plain = best["plain temporalio (sandboxed)"]
    plain_raw = best["plain temporalio (unsandboxed)"]
    print()
    print("ratios (wall; CPU), against plain temporalio in its default sandbox:")
    for name in ("wflow Lua (unsandboxed)", "wflow Python DSL (sandboxed)"):
        wall, cpu = best[name]
        print(f"  {name:32} / plain = {wall / plain[0]:.2f}x; {cpu / plain[1]:.2f}x")
    print("against plain temporalio unsandboxed:")
    for name in ("wflow Lua (unsandboxed)", "wflow Python DSL (unsandboxed)"):
        wall, cpu = best[name]
        print(f"  {name:32} / plain = {wall / plain_raw[0]:.2f}x; {cpu / plain_raw[1]:.2f}x")
    lua, lua_boxed = best["wflow Lua (unsandboxed)"], best["wflow Lua (sandboxed)"]
    print(
        f"Lua sandboxed / unsandboxed = {lua_boxed[0] / lua[0]:.2f}x wall; "
        f"{lua_boxed[1] / lua[1]:.2f}x CPU"
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
