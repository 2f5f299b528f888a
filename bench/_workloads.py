"""Workloads on the dev server: throughput and CPU, latency, memory, histories to replay."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowHistory

from bench._processes import WorkerProcess
from bench._variants import ORDER, Variant

__all__ = ["SETTLED", "latency", "memory_per_workflow", "record", "throughput"]

SETTLED = 14
"""Seconds after the sleepers started that the second memory figure is read: past wflow
Lua's default `park_after` (10 s) and the parking thread's next look (at most 1 s)."""

_STARTS_AT_ONCE = 100  # concurrent start requests (the server, not the client, is measured)


async def _bounded(calls: Sequence[Callable[[], Awaitable[Any]]], limit: int) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(call: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await call()

    return await asyncio.gather(*(one(call) for call in calls))


async def _start_many(
    client: Client, variant: Variant, worker: WorkerProcess, name: str, n: int, args: list[Any]
) -> list[WorkflowHandle[Any, Any]]:
    run = uuid.uuid4().hex[:8]
    return await _bounded(
        [
            lambda i=i: client.start_workflow(  # type: ignore[misc]
                variant.workflow_type(name),
                args=args,
                id=f"{variant.key}-{name}-{run}-{i}",
                task_queue=variant.task_queue(worker.task_queue),
            )
            for i in range(n)
        ],
        _STARTS_AT_ONCE,
    )


async def throughput(
    client: Client, variant: Variant, worker: WorkerProcess, n: int
) -> tuple[float, float, WorkflowHandle[Any, Any]]:
    """Start `n` three-call workflows at once and wait for all.

    Returns:
        Workflows per second (first start to last result), worker CPU seconds per workflow,
        and one of the handles (its history is replayed later).
    """
    cpu, wall = worker.cpu_seconds(), time.perf_counter()
    handles = await _start_many(client, variant, worker, "three_calls", n, [ORDER])
    results = await asyncio.gather(*(handle.result() for handle in handles))
    wall, cpu = time.perf_counter() - wall, worker.cpu_seconds() - cpu
    assert all(result["steps"] == 3 for result in results), results[:3]
    return n / wall, cpu / n, handles[0]


async def latency(
    client: Client, variant: Variant, worker: WorkerProcess, n: int
) -> tuple[float, float]:
    """Run `n` one-call workflows one after the other; return p50 and p95 in seconds."""
    times: list[float] = []
    run = uuid.uuid4().hex[:8]
    for i in range(n):
        start = time.perf_counter()
        result = await client.execute_workflow(
            variant.workflow_type("one_call"),
            args=[ORDER],
            id=f"{variant.key}-one-{run}-{i}",
            task_queue=variant.task_queue(worker.task_queue),
        )
        times.append(time.perf_counter() - start)
        assert result["steps"] == 1
    cuts = statistics.quantiles(times, n=20, method="inclusive")
    return statistics.median(times), cuts[18]


async def _wait_for_timers(handles: Sequence[WorkflowHandle[Any, Any]], timeout: float) -> None:
    """Wait until every workflow has started its timer (it sleeps, cached in the worker)."""

    async def has_timer(handle: WorkflowHandle[Any, Any]) -> bool:
        history = await handle.fetch_history()
        return any(e.event_type == EventType.EVENT_TYPE_TIMER_STARTED for e in history.events)

    pending = list(handles)
    deadline = time.monotonic() + timeout
    while pending:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} workflows did not reach their sleep")
        done = await _bounded([lambda h=h: has_timer(h) for h in pending], 50)  # type: ignore[misc]
        pending = [h for h, ok in zip(pending, done, strict=True) if not ok]
        if pending:
            await asyncio.sleep(0.5)


async def memory_per_workflow(
    client: Client, variant: Variant, worker: WorkerProcess, n: int
) -> tuple[float, float]:
    """Worker memory (RSS) per cached, sleeping workflow, in bytes, from a fresh worker.

    Measured twice: 1 s after the last workflow started sleeping, and `SETTLED` seconds
    after, once wflow Lua's states have been parked (`limits.park_after`, 10 s by default).
    Every variant waits alike. A warm-up first runs every code path once (imports, the
    sandbox's module cache, the Lua bridge's bytecode), so the difference is the workflows'
    own.

    Returns:
        (bytes per workflow 1 s after, bytes per workflow `SETTLED` s after).
    """
    await throughput(client, variant, worker, 20)
    warm = await _start_many(client, variant, worker, "sleeper", 10, [ORDER])
    await _wait_for_timers(warm, 120)
    await asyncio.sleep(1)
    before = worker.rss_bytes()
    handles = await _start_many(client, variant, worker, "sleeper", n, [ORDER])
    await _wait_for_timers(handles, 600)
    await asyncio.sleep(1)
    early = (worker.rss_bytes() - before) / n
    await asyncio.sleep(SETTLED - 1)
    return early, (worker.rss_bytes() - before) / n


async def record(
    client: Client, variant: Variant, worker: WorkerProcess, n: int
) -> WorkflowHistory:
    """Run one workflow making `n` calls in a row; return its history."""
    handle = await client.start_workflow(
        variant.workflow_type("calls"),
        args=[ORDER, n],
        id=f"{variant.key}-calls-{n}-{uuid.uuid4().hex[:8]}",
        task_queue=variant.task_queue(worker.task_queue),
    )
    result = await handle.result()
    assert result["steps"] == n
    return await handle.fetch_history()
