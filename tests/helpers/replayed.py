"""Run a workflow and replay its history: the check that monitor/link decisions replay."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.client import WorkflowHandle

from wflow.model import WflowError
from wflow.registry import Registry
from wflow.temporal import Session, replay_history


async def run_replayed(session: Session, entry: str, *args: Any, wid: str | None = None) -> Any:
    """Run `entry`; return its result or its `WflowError`, after replaying its history."""
    handle = await session.start(entry, list(args), workflow_id=wid)
    try:
        result: Any = await asyncio.wait_for(session.result(handle), 60)
    except WflowError as exc:
        result = exc
    await replays(session.registry, handle)
    return result


async def replays(registry: Registry, handle: WorkflowHandle[Any, Any]) -> None:
    """Assert that the history of `handle` replays against the project's code."""
    replayed = await replay_history(registry, await handle.fetch_history())
    assert replayed.ok, replayed.message
