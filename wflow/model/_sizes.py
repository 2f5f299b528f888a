"""Byte sizes (`"64MiB"`, `"32MB"`, `"512k"`), parsed once for the YAML schema and Lua limits."""

from __future__ import annotations

import re

__all__ = ["parse_byte_size"]

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1}
for _power, _letter in enumerate("kmgt", start=1):
    for _suffix in ("", "b"):
        _UNITS[f"{_letter}{_suffix}"] = 1000**_power
        _UNITS[f"{_letter}i{_suffix}"] = 1024**_power


def parse_byte_size(value: str | int, *, what: str = "size") -> int:
    """Parse a size in bytes.

    Args:
        value: A whole number of bytes, or a number with a unit: `B`, decimal `K`/`KB`,
            `M`/`MB`, `G`/`GB`, `T`/`TB`, or binary `KiB`, `MiB`, `GiB`, `TiB` (case-insensitive).
        what: What the size is of, for error messages (`"memory size"`).

    Raises:
        ValueError: The value is not a positive size.
    """
    if isinstance(value, bool):
        raise ValueError(f'invalid {what} {value!r} (expected e.g. 67108864 or "64MiB")')
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.match(value)
        if match is None:
            raise ValueError(f'invalid {what} {value!r} (expected e.g. 67108864 or "64MiB")')
        size = int(float(match.group(1)) * _UNITS[(match.group(2) or "b").lower()])
    if size <= 0:
        raise ValueError(f"invalid {what} {value!r}: must be greater than 0")
    return size
