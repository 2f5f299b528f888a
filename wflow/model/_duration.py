"""Duration strings and numbers, parsed once for Lua, Python and the YAML schema."""

from __future__ import annotations

import math
import re
from datetime import timedelta

from wflow.model._errors import ErrorKind, WflowError

__all__ = ["format_duration", "parse_duration"]

_UNIT_NANOS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(
    value: str | int | float | timedelta, *, number_unit: timedelta = timedelta(seconds=1)
) -> timedelta:
    """Parse a duration.

    Args:
        value: A Go-style string (`"24h"`, `"1h30m"`, `"1.5s"`, `"250ms"`; units ns us ms s m
            h), a number of `number_unit`, or a timedelta.
        number_unit: What a bare number counts. Python callers pass seconds (the default,
            like `asyncio.sleep`); Lua passes milliseconds (`time.SECOND == 1000`).

    Returns:
        The duration.

    Raises:
        WflowError: `INVALID` when the value is not a duration, is negative, is not a finite
            number, or is longer than a timedelta holds (999999999 days).
    """
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, bool):
        raise WflowError(f"invalid duration {value!r}: expected a string or number", "INVALID")
    elif isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise WflowError(f"invalid duration {value!r}: not a finite number", "INVALID")
        try:
            result = number_unit * value
        except OverflowError:
            raise _too_long(value) from None
    elif isinstance(value, str):
        result = _parse_string(value)
    else:
        raise WflowError(
            f'invalid duration {value!r}: expected a string like "5s" or a number', "INVALID"
        )
    if result < timedelta(0):
        raise WflowError(f"invalid duration {value!r}: must not be negative", "INVALID")
    return result


def _too_long(value: object) -> WflowError:
    return WflowError(
        f"invalid duration {value!r}: too long (at most 999999999 days)", ErrorKind.INVALID
    )


def _parse_string(text: str) -> timedelta:
    stripped = text.strip()
    if stripped.startswith("-") and _parse_or_none(stripped[1:]) is not None:
        raise WflowError(f'invalid duration "{text}": must not be negative', ErrorKind.INVALID)
    if stripped in ("0", ""):
        if stripped == "":
            raise WflowError('invalid duration "": empty', ErrorKind.INVALID)
        return timedelta(0)
    position = 0
    nanos = 0.0
    for match in _PART.finditer(stripped):
        if match.start() != position:
            break
        nanos += float(match.group(1)) * _UNIT_NANOS[match.group(2)]
        position = match.end()
    if position != len(stripped):
        raise WflowError(
            f'invalid duration "{text}": expected a number and a unit (ns us ms s m h), '
            'e.g. "5s", "1h30m"',
            ErrorKind.INVALID,
        )
    try:
        return timedelta(microseconds=nanos / 1_000)
    except OverflowError:
        raise _too_long(text) from None


def _parse_or_none(text: str) -> timedelta | None:
    try:
        return _parse_string(text)
    except WflowError:
        return None


def format_duration(value: timedelta) -> str:
    """Format a duration the way `parse_duration` reads it (`"1h30m0s"` style, Go-like)."""
    total_us = round(value.total_seconds() * 1_000_000)
    if total_us == 0:
        return "0s"
    sign = "-" if total_us < 0 else ""
    total_us = abs(total_us)
    hours, rest = divmod(total_us, 3600 * 1_000_000)
    minutes, rest = divmod(rest, 60 * 1_000_000)
    seconds = rest / 1_000_000
    parts = []
    if hours:
        parts.append(f"{hours}h")
    if hours or minutes:
        parts.append(f"{minutes}m")
    parts.append(f"{seconds:g}s")
    return sign + "".join(parts)
