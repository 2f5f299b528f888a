"""The benchmark's Python function and Python DSL workflows (the Lua ones' twins)."""

from __future__ import annotations

from typing import Any

from wflow import funcs, time


def step(order: dict[str, Any]) -> dict[str, Any]:
    """One cheap step: count it."""
    return {**order, "steps": order.get("steps", 0) + 1}


async def py_three_calls(order: dict[str, Any]) -> dict[str, Any]:
    """Three calls in a row, as the Lua workflow makes them."""
    a = await funcs.call("bench:step", order)
    b = await funcs.call("bench:step", a)
    c: dict[str, Any] = await funcs.call("bench:step", b)
    return c


async def py_one_call(order: dict[str, Any]) -> dict[str, Any]:
    """One call (latency)."""
    result: dict[str, Any] = await funcs.call("bench:step", order)
    return result


async def py_calls(order: dict[str, Any], n: int) -> dict[str, Any]:
    """`n` calls in a row (replay scaling)."""
    for _ in range(n):
        order = await funcs.call("bench:step", order)
    return order


async def py_sleeper(order: dict[str, Any]) -> dict[str, Any]:
    """Waits an hour: a cached, sleeping workflow (memory per workflow)."""
    await time.sleep("1h")
    return order
