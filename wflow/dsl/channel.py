"""Channels and select inside Python workflows (Lua: the `channel` global).

Example:
    ```python
    from wflow import channel, process, time

    result = await channel.select(process.inbox().channel, time.after("48h"))
    if result.index == 1:
        ...  # timed out
    ```
"""

from __future__ import annotations

from wflow.model import Channel, SelectResult
from wflow.model import select as _select

__all__ = ["Channel", "SelectResult", "new", "select"]


def new(capacity: int = 0) -> Channel:
    """Return a channel buffering up to `capacity` values."""
    return Channel(capacity)


async def select(*channels: Channel, default: bool = False) -> SelectResult:
    """Receive from whichever channel is ready first (the first listed wins a tie).

    Args:
        *channels: The channels, in priority order (`process.inbox().channel`,
            `time.after(...)`, `future.channel()`, `channel.new()` ...).
        default: Return at once with `index == -1` when none is ready.
    """
    return await _select(channels, default=default)
