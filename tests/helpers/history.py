"""Waiting on workflow histories instead of sleeping."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle


async def wait_for_event(
    handle: WorkflowHandle[Any, Any], event_type: EventType.ValueType, timeout: float = 60
) -> None:
    """Return once the workflow's history holds an event of `event_type`."""

    async def poll() -> None:
        while True:
            history = await handle.fetch_history()
            if any(event.event_type == event_type for event in history.events):
                return
            await asyncio.sleep(0.2)

    await asyncio.wait_for(poll(), timeout)
