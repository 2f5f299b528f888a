"""The benchmark's workflows hand-written for temporalio (no wflow): the baseline.

Each exists twice with the same workflow type: in Temporal's sandbox (temporalio's default,
as users run it) and unsandboxed (`sandboxed=False`). `SANDBOXED` and `UNSANDBOXED` list them.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow

TIMEOUT = timedelta(minutes=10)  # wflow's default start-to-close timeout


@activity.defn(name="bench:step")
async def step(order: dict[str, Any]) -> dict[str, Any]:
    """One cheap step: count it."""
    return {**order, "steps": order.get("steps", 0) + 1}


async def _call(order: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = await workflow.execute_activity(
        "bench:step", order, start_to_close_timeout=TIMEOUT
    )
    return result


async def _three_calls(order: dict[str, Any]) -> dict[str, Any]:
    return await _call(await _call(await _call(order)))


async def _calls(order: dict[str, Any], n: int) -> dict[str, Any]:
    for _ in range(n):
        order = await _call(order)
    return order


async def _sleeper(order: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(3600)
    return order


@workflow.defn(name="bench:plain_three_calls")
class PlainThreeCalls:
    """Three activity calls in a row, in Temporal's sandbox (temporalio's default)."""

    @workflow.run
    async def run(self, order: dict[str, Any]) -> dict[str, Any]:
        return await _three_calls(order)


@workflow.defn(name="bench:plain_three_calls", sandboxed=False)
class PlainThreeCallsUnsandboxed:
    """The same, without the sandbox."""

    @workflow.run
    async def run(self, order: dict[str, Any]) -> dict[str, Any]:
        return await _three_calls(order)


@workflow.defn(name="bench:plain_one_call")
class PlainOneCall:
    """One activity call."""

    @workflow.run
    async def run(self, order: dict[str, Any]) -> dict[str, Any]:
        return await _call(order)


@workflow.defn(name="bench:plain_one_call", sandboxed=False)
class PlainOneCallUnsandboxed:
    """The same, without the sandbox."""

    @workflow.run
    async def run(self, order: dict[str, Any]) -> dict[str, Any]:
        return await _call(order)


@workflow.defn(name="bench:plain_calls")
class PlainCalls:
    """`n` activity calls in a row."""

    @workflow.run
    async def run(self, order: dict[str, Any], n: int) -> dict[str, Any]:
        return await _calls(order, n)


@workflow.defn(name="bench:plain_calls", sandboxed=False)
class PlainCallsUnsandboxed:
    """The same, without the sandbox."""

    @workflow.run
    async def run(self, order: dict[str, Any], n: int) -> dict[str, Any]:
        return await _calls(order, n)


@workflow.defn(name="bench:plain_sleeper")
class PlainSleeper:
    """Waits an hour (a durable timer)."""

    @workflow.run
    async def run(self, order: dict[str, Any]) -> dict[str, Any]:
        return await _sleeper(order)


@workflow.defn(name="bench:plain_sleeper", sandboxed=False)
class PlainSleeperUnsandboxed:
    """The same, without the sandbox."""

    @workflow.run
    async def run(self, order: dict[str, Any]) -> dict[str, Any]:
        return await _sleeper(order)


SANDBOXED = [PlainThreeCalls, PlainOneCall, PlainCalls, PlainSleeper]
UNSANDBOXED = [
    PlainThreeCallsUnsandboxed,
    PlainOneCallUnsandboxed,
    PlainCallsUnsandboxed,
    PlainSleeperUnsandboxed,
]
