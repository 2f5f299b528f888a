"""The same three calls as a hand-written temporalio workflow (no wflow), the baseline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import activity, workflow

TIMEOUT = timedelta(minutes=10)  # wflow's default start-to-close timeout


@activity.defn(name="bench:step")
async def step(order: dict[str, Any]) -> dict[str, Any]:
    """One cheap step: count it."""
    return {**order, "steps": order.get("steps", 0) + 1}


async def _three_calls(order: dict[str, Any]) -> dict[str, Any]:
    a = await workflow.execute_activity("bench:step", order, start_to_close_timeout=TIMEOUT)
    b = await workflow.execute_activity("bench:step", a, start_to_close_timeout=TIMEOUT)
    c: dict[str, Any] = await workflow.execute_activity(
        "bench:step", b, start_to_close_timeout=TIMEOUT
    )
    return c


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
