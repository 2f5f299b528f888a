"""Workflow time (Lua: the `time` module).

Durations are `"24h"`-style strings, numbers of seconds, or timedeltas.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

from wflow.model import (
    LAYOUTS,
    Channel,
    after_channel,
    call_site,
    current_runtime,
    format_layout,
    load_zone,
    parse_layout,
    python_call_site,
    ticker_channel,
)
from wflow.model import parse_duration as _parse

__all__ = [
    "DATE_ONLY",
    "DATE_TIME",
    "HOUR",
    "KITCHEN",
    "MILLISECOND",
    "MINUTE",
    "RFC1123",
    "RFC3339",
    "RFC3339NANO",
    "SECOND",
    "TIME_ONLY",
    "after",
    "fixed_zone",
    "format",
    "load_location",
    "now",
    "parse",
    "parse_duration",
    "sleep",
    "ticker",
]

# Go's reference-time layouts, as Lua's `time.RFC3339`, ... (all of them: `wflow.model.LAYOUTS`).
RFC3339 = LAYOUTS["RFC3339"]
RFC3339NANO = LAYOUTS["RFC3339NANO"]
RFC1123 = LAYOUTS["RFC1123"]
DATE_TIME = LAYOUTS["DATE_TIME"]
DATE_ONLY = LAYOUTS["DATE_ONLY"]
TIME_ONLY = LAYOUTS["TIME_ONLY"]
KITCHEN = LAYOUTS["KITCHEN"]

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


def ticker(interval: Duration) -> Channel:
    """Return a channel that receives the workflow time every `interval` (durable timers)."""
    return ticker_channel(current_runtime(), _parse(interval))


def format(moment: datetime, layout: str) -> str:
    """Format an aware datetime with a Go layout (`"2006-01-02"`, `RFC3339`, ...)."""
    return format_layout(moment, layout)


def parse(layout: str, value: str, location: tzinfo | None = None) -> datetime:
    """Parse `value` with a Go layout; without a zone in it, the time is in `location` (UTC).

    Raises:
        WflowError: `INVALID` when `value` does not match `layout`.
    """
    return parse_layout(layout, value, location)


def load_location(name: str) -> tzinfo:
    """Return the IANA time zone `name` (`NOT_FOUND` if unknown; `Local` is UTC)."""
    return load_zone(name)


def fixed_zone(name: str, offset: int) -> tzinfo:
    """Return a zone `offset` seconds east of UTC, called `name`."""
    return timezone(timedelta(seconds=offset), name)
