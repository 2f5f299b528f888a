"""Workflow time (Lua: the `time` module).

Durations are `"24h"`-style strings, numbers of seconds, or timedeltas.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from wflow.model import Channel, after_channel, call_site, current_runtime, python_call_site
from wflow.model import parse_duration as _parse

__all__ = ["HOUR", "MILLISECOND", "MINUTE", "SECOND", "after", "now", "parse_duration", "sleep"]

MILLISECOND = timedelta(milliseconds=1)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)

Duration = str | int | float | timedelta


async def sleep(duration: Duration) -> None:
    """Sleep on a durable timer: survives worker restarts and replays instantly.

    Args:
        duration: `"24h"`, `"1h30m"`, `"250ms"`, a number of seconds, or a timedelta.

    Raises:
        WflowError: `INVALID` for a malformed or negative duration.
    """
    with call_site(python_call_site(1)):
        await current_runtime().sleep(_parse(duration))


def now() -> datetime:
    """Return the workflow clock (UTC, aware); the same value on every replay."""
    return current_runtime().now()


def after(duration: Duration) -> Channel:
    """Return a channel that receives the workflow time once `duration` has passed."""
    return after_channel(current_runtime(), _parse(duration))


def parse_duration(value: Duration) -> timedelta:
    """Parse a duration as `sleep` does."""
    return _parse(value)
