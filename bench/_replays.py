"""Replay cost, measured in this process with temporalio's `Replayer` (worker CPU only).

wflow's replayers are set up as its workers are (`wflow.testing.replayer`); the sandbox
setting of each class is chosen with `wflow.testing.workflow_class(sandboxed=...)`, so Lua
is measured in Temporal's sandbox too and the Python DSL without it: like for like.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from wflow.registry import Registry
from wflow.testing import replayer, workflow_class

__all__ = ["REPLAYED", "replay_seconds", "replayers"]

REPLAYED = ("three_calls", "calls")
"""The workflows whose histories are replayed."""


def replayers(registry: Registry) -> dict[tuple[str, bool], Replayer]:
    """One replayer per (family `plain`/`py`/`lua`, sandboxed)."""
    import bench_plain  # type: ignore[import-not-found]  # on sys.path: load_project put the project folder there

    out: dict[tuple[str, bool], Replayer] = {
        ("plain", True): Replayer(workflows=bench_plain.SANDBOXED),
        ("plain", False): Replayer(workflows=bench_plain.UNSANDBOXED),
    }
    for family in ("py", "lua"):
        for sandboxed in (True, False):
            classes = [
                workflow_class(registry, f"bench:{family}_{name}", sandboxed=sandboxed)
                for name in REPLAYED
            ]
            out[(family, sandboxed)] = replayer(registry, workflows=classes)
    return out


async def replay_seconds(replayer_: Replayer, history: WorkflowHistory, n: int) -> float:
    """Replay `history` n times; return the CPU seconds of this process per replay."""

    async def copies() -> AsyncIterator[WorkflowHistory]:
        for i in range(n):
            yield WorkflowHistory(f"{history.workflow_id}-{i}", history.events)

    cpu = time.process_time()
    results = await replayer_.replay_workflows(copies())
    cpu = time.process_time() - cpu
    assert not results.replay_failures, results.replay_failures
    return cpu / n
