"""The workflow-side `workflow` module of Python workflows (Lua: `workflow`).

Facts about the running workflow and the calls that act on the workflow itself rather than on
other entries. Every function here is only valid inside a workflow run.

The decorator `wflow.workflow` carries these same functions, so workflows usually write
`wflow.workflow.info()`; `from wflow.dsl.workflow import info` works too.

Example:
    ```python
    @wflow.workflow("app.workflows:order")
    async def order(order: dict) -> dict:
        if wflow.workflow.version("discount", 1, 2) == 2:
            ...
        wflow.workflow.set_state({"step": "charged"})
    ```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wflow.model import SpawnOptions, SpawnRequest, WorkflowInfo, current_runtime

__all__ = ["attrs", "exec", "history_length", "history_size", "info", "set_state", "version"]


def history_length() -> int:
    """Return the number of events in this run's history so far (Lua: `history_length()`)."""
    return current_runtime().info().history_length


def history_size() -> int:
    """Return the size of this run's history in bytes (Lua: `workflow.history_size()`)."""
    return current_runtime().info().history_size


def info() -> WorkflowInfo:
    """Return facts about the running workflow (IDs, type, queue, attempt, history length)."""
    return current_runtime().info()


def version(change_id: str, min_version: int, max_version: int) -> int:
    """Return which version of a changed piece of code this run follows.

    New runs get `max_version`; runs started before the change keep the version they took
    when they passed this point (`min_version` if before any versioned change).
    """
    return current_runtime().version(change_id, min_version, max_version)


def set_state(value: Any) -> None:
    """Set what `wflow query PROJECT PID state` returns (JSON-compatible)."""
    current_runtime().set_state(value)


def attrs(
    *, search: Mapping[str, Any] | None = None, memo: Mapping[str, Any] | None = None
) -> None:
    """Upsert search attributes and memo fields of this workflow."""
    current_runtime().set_attrs(search, memo)


async def exec(entry: str, *args: Any) -> Any:
    """Run workflow `entry` as a child on its own worker and wait for its result."""
    runtime = current_runtime()
    return await runtime.wait(await runtime.spawn(SpawnRequest(entry, None, args, SpawnOptions())))
