"""`python -m bench.replay_scaling DIR [options]`: replay cost of long histories, per call.

The benchmark's replay-scaling rows, on their own and repeatable: the first run records the
`calls` workflow's histories with each count (plain temporalio and the Python DSL, on an
embedded dev server, as `python -m bench` records them) into DIR as JSON; every run then
replays them in this process, the variants alternating within each round, and prints CPU
per call (best and median round). Comparing two versions of wflow on the same recorded
histories: run it twice on the same DIR, once per version.

Options: `--counts 10,100,1000,5000` (calls per history), `--rounds 5`, `--calls 2000` (about
how many calls each measurement replays: `max(1, calls // n)` replays of an n-call history),
`--sandboxed` (replay in Temporal's sandbox; by default both unsandboxed, so the figures are
the workflow code's, not the sandbox's), `--lua` (the Lua workflow too).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from bench._processes import worker_process
from bench._replays import replay_seconds
from bench._variants import LIVE, Variant
from bench._worker import PROJECT
from bench._workloads import record

__all__ = ["main"]

_FAMILIES = {"plain": LIVE[1], "py": LIVE[2], "lua": LIVE[3]}


def _log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _file(folder: Path, family: str, n: int) -> Path:
    return folder / f"{family}-{n}.json"


async def _record_missing(folder: Path, families: Sequence[str], counts: Sequence[int]) -> None:
    missing = [(f, n) for f in families for n in counts if not _file(folder, f, n).exists()]
    if not missing:
        return
    from wflow.registry import load_project
    from wflow.temporal import connect_client
    from wflow.testing import dev_server

    registry = load_project(PROJECT)
    folder.mkdir(parents=True, exist_ok=True)
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(
        prefix="wflow-bench-", dir=shm if shm.is_dir() else None
    ) as state:
        async with dev_server(Path(state), ui=False) as server:
            clients = {
                "plain": await Client.connect(server.address),
                "wflow": await connect_client(registry.clients()[0], address=server.address),
            }

            async def one_family(family: str, variant: Variant) -> None:
                client = clients["wflow" if variant.is_wflow else "plain"]
                queue = f"bench-{uuid.uuid4().hex[:8]}-"
                async with worker_process(variant.family, server.address, queue) as worker:
                    for fam, n in missing:
                        if fam == family:
                            history = await record(client, variant, worker, n)
                            _file(folder, family, n).write_text(history.to_json())
                            _log(f"recorded {family} with {n} calls")

            await asyncio.gather(
                *(one_family(f, _FAMILIES[f]) for f in families if any(m[0] == f for m in missing))
            )


def _replayers(families: Sequence[str], sandboxed: bool) -> dict[str, Replayer]:
    from wflow.registry import load_project
    from wflow.testing import replayer, workflow_class

    registry = load_project(PROJECT)  # puts the project folder on sys.path
    import bench_plain  # type: ignore[import-not-found]

    out: dict[str, Replayer] = {}
    for family in families:
        if family == "plain":
            classes = bench_plain.SANDBOXED if sandboxed else bench_plain.UNSANDBOXED
            out[family] = Replayer(workflows=classes)
        else:
            cls = workflow_class(registry, f"bench:{family}_calls", sandboxed=sandboxed)
            out[family] = replayer(registry, workflows=[cls])
    return out


async def _main(args: argparse.Namespace) -> None:
    folder = Path(args.dir)
    counts = [int(c) for c in args.counts.split(",")]
    families = ["plain", "py", *(["lua"] if args.lua else [])]
    await _record_missing(folder, families, counts)
    histories = {
        (f, n): WorkflowHistory.from_json(f"{f}-{n}", _file(folder, f, n).read_text())
        for f in families
        for n in counts
    }
    replayers = _replayers(families, args.sandboxed)
    for family, replayer_ in replayers.items():  # warm-up: imports, caches
        await replay_seconds(replayer_, histories[(family, counts[0])], 2)
    per_call: dict[tuple[str, int], list[float]] = {key: [] for key in histories}
    for round_ in range(args.rounds):
        for n in counts:
            replays = max(1, args.calls // n)
            order = families[round_ % len(families) :] + families[: round_ % len(families)]
            for family in order:
                seconds = await replay_seconds(replayers[family], histories[(family, n)], replays)
                per_call[(family, n)].append(seconds / n)
        _log(f"round {round_ + 1} of {args.rounds}")
    mode = "sandboxed" if args.sandboxed else "unsandboxed"
    print(f"CPU µs per call, replay {mode}, {args.rounds} rounds (best / median round)")
    print("| calls | " + " | ".join(families) + " | py / plain, best | py / plain, median |")
    print("|---:|" + "---:|" * (len(families) + 2))
    for n in counts:
        cells = [
            f"{min(per_call[(f, n)]) * 1e6:,.0f} / {statistics.median(per_call[(f, n)]) * 1e6:,.0f}"
            for f in families
        ]
        best = min(per_call[("plain", n)]) / min(per_call[("py", n)])
        median = statistics.median(per_call[("plain", n)]) / statistics.median(per_call[("py", n)])
        print(f"| {n:,} | " + " | ".join(cells) + f" | {best:.2f}× | {median:.2f}× |")  # noqa: RUF001


def main(argv: Sequence[str] | None = None) -> None:
    """Record the histories missing in DIR, replay them, print CPU per call."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.replay_scaling", description=__doc__.splitlines()[0]
    )
    parser.add_argument("dir", help="folder of the recorded histories (recorded if missing)")
    parser.add_argument("--counts", default="10,100,1000,5000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--sandboxed", action="store_true")
    parser.add_argument("--lua", action="store_true")
    asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
