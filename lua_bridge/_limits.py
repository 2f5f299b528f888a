"""Resource limits of one Lua run: memory (lupa's allocator), instructions per slice, parking."""

from __future__ import annotations

import dataclasses
import functools
import os
from datetime import timedelta
from typing import TYPE_CHECKING

from wflow.model import ErrorKind, WflowError, parse_byte_size, parse_duration

if TYPE_CHECKING:
    from wflow.registry import LuaLimits as LimitsBlock

__all__ = [
    "DEFAULT_MAX_INSTRUCTIONS",
    "DEFAULT_MAX_MEMORY",
    "DEFAULT_PARK_AFTER",
    "PARK_AFTER_ENV",
    "LuaLimits",
    "park_after_from_env",
]

DEFAULT_MAX_MEMORY = 64 * 1024 * 1024
"""Memory a Lua run may use, in bytes (64 MiB), unless the entry sets `limits.max_memory`."""

DEFAULT_MAX_INSTRUCTIONS = 50_000_000
"""Lua VM instructions between two intercepted calls (one uninterrupted slice)."""

DEFAULT_PARK_AFTER = 10.0
"""Seconds a waiting Lua workflow keeps its Lua state before it is parked."""

PARK_AFTER_ENV = "WFLOW_LUA_PARK_AFTER"
"""The environment variable that sets `park_after` for entries that do not (`0s`, `never`)."""


def _park_seconds(value: timedelta | str | float | None, default: float | None) -> float | None:
    if value is None:
        return default
    if value == "never":
        return None
    if isinstance(value, str):
        value = parse_duration(value)
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 0:
        raise ValueError(f"park_after must not be negative, got {value!r}")
    return seconds


@functools.lru_cache(maxsize=16)
def _park_text_seconds(text: str, default: float | None) -> float | None:
    # Read for every run an engine loads (the variable may change between tests): parsed once.
    return _park_seconds(text, default)


def park_after_from_env(default: float | None = DEFAULT_PARK_AFTER) -> float | None:
    """Return `park_after` as `WFLOW_LUA_PARK_AFTER` sets it (a duration or `never`).

    Raises:
        WflowError: `INVALID`: the variable holds neither a duration nor `never` (the
            message names it).
    """
    text = os.environ.get(PARK_AFTER_ENV, "").strip()
    if not text:
        return default
    try:
        return _park_text_seconds(text, default)
    except (ValueError, WflowError) as exc:
        raise WflowError(
            f"{PARK_AFTER_ENV}={text!r}: expected a duration like '10s', '0s' or 'never' "
            f"({exc.message if isinstance(exc, WflowError) else exc})",
            ErrorKind.INVALID,
        ) from None


@dataclasses.dataclass(frozen=True)
class LuaLimits:
    """Limits of one Lua run: the runtime form of an entry's `limits` block.

    The registry's `wflow.registry.LuaLimits` is the schema (what a YAML file may say, every
    field optional); this is what a run uses, every field set.

    Attributes:
        max_memory: Bytes the whole Lua state may allocate (default 64 MiB). Exceeding it
            raises `LuaResourceError("memory")`; a script cannot catch it with `pcall`.
        max_instructions: VM instructions one uninterrupted slice may execute, i.e. between
            two intercepted calls of a workflow, or in a whole function call (default 50
            million, roughly 0.1-1 s). 0 disables the check.
        park_after: Seconds a workflow that waits keeps its Lua state before it is parked
            (dropped; its next step rebuilds it from the run's journal): 10 by default, 0
            parks at every wait, None never parks. Functions never park.
    """

    max_memory: int = DEFAULT_MAX_MEMORY
    max_instructions: int = DEFAULT_MAX_INSTRUCTIONS
    park_after: float | None = DEFAULT_PARK_AFTER

    @classmethod
    def from_entry(cls, limits: LimitsBlock | None, default: LuaLimits | None = None) -> LuaLimits:
        """Return the limits of an entry's `limits` block; unset fields (or None) from `default`.

        Raises:
            ValueError: `max_memory` is not a size (the registry has parsed it already; a
                block built in code may still hold a string like `"64MiB"`).
        """
        base = default or cls()
        if limits is None:
            return base
        memory: int | str | None = limits.max_memory
        instructions = limits.max_instructions
        return cls(
            max_memory=(
                base.max_memory if memory is None else parse_byte_size(memory, what="memory size")
            ),
            max_instructions=base.max_instructions if instructions is None else int(instructions),
            park_after=_park_seconds(getattr(limits, "park_after", None), base.park_after),
        )
