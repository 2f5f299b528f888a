"""The seed's order example with production entries added in code (schedules, client settings)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tests.helpers.paths import EXAMPLES
from wflow.registry import (
    Entry,
    Registry,
    TemporalClientEntry,
    TemporalScheduleEntry,
    load_project,
)

__all__ = ["ORDERS_LUA", "ORDERS_PY", "eventually", "with_entries"]

ORDERS_LUA = EXAMPLES / "orders_lua"
ORDERS_PY = EXAMPLES / "orders_py"

T = TypeVar("T")


def with_entries(
    project: Any,
    *,
    schedules: list[dict[str, Any]] = (),  # type: ignore[assignment]
    client: dict[str, Any] | None = None,
) -> Registry:
    """Load `project` and add schedule entries (namespace `app.schedules`) and client fields."""
    registry = load_project(project)
    entries: list[Entry] = []
    for entry in registry:
        if client is not None and isinstance(entry, TemporalClientEntry):
            data = {**entry.model_dump(by_alias=True, exclude_unset=True), **client}
            entry = TemporalClientEntry.model_validate(data).place(
                entry.namespace, file=entry.file, line=entry.line
            )
        entries.append(entry)
    for data in schedules:
        entries.append(
            TemporalScheduleEntry.model_validate({"kind": "temporal.schedule", **data}).place(
                "app.schedules", base_dir=registry.root
            )
        )
    return Registry(entries, root=registry.root)


async def eventually(
    check: Callable[[], Awaitable[T | None]], *, timeout: float = 60, what: str = "condition"
) -> T:
    """Poll `check` until it returns something other than None (or fail after `timeout` s)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        await asyncio.sleep(0.3)
