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

from wflow.model import Channel, SelectResult, select

__all__ = ["Channel", "SelectResult", "new", "select"]


def new(capacity: int = 0) -> Channel:
    """Return a channel buffering up to `capacity` values."""
    return Channel(capacity)
