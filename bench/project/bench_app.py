"""The benchmark's Python function and Python DSL workflow."""

from __future__ import annotations

from typing import Any

from wflow import funcs


def step(order: dict[str, Any]) -> dict[str, Any]:
    """One cheap step: count it."""
    return {**order, "steps": order.get("steps", 0) + 1}


async def py_three_calls(order: dict[str, Any]) -> dict[str, Any]:
    """Three calls in a row, as the Lua workflow makes them."""
    a = await funcs.call("bench:step", order)
    b = await funcs.call("bench:step", a)
    c: dict[str, Any] = await funcs.call("bench:step", b)
    return c
