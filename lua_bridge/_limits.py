"""Resource limits of one Lua run: memory (lupa's allocator) and instructions per slice."""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from wflow.model import parse_byte_size

__all__ = [
    "DEFAULT_MAX_INSTRUCTIONS",
    "DEFAULT_MAX_MEMORY",
    "LuaLimits",
    "LuaLimitsLike",
    "parse_size",
]

DEFAULT_MAX_MEMORY = 64 * 1024 * 1024
"""Memory a Lua run may use, in bytes (64 MiB), unless the entry sets `limits.max_memory`."""

DEFAULT_MAX_INSTRUCTIONS = 50_000_000
"""Lua VM instructions between two intercepted calls (one uninterrupted slice)."""


class LuaLimitsLike(Protocol):
    """The `limits` block of a registry entry."""

    @property
    def max_memory(self) -> int | str | None: ...

    @property
    def max_instructions(self) -> int | None: ...


def parse_size(value: int | str) -> int:
    """Parse a memory size: an int, or a string like `"64MiB"`, `"128MB"`, `"512k"`.

    Raises:
        ValueError: The value is not a positive size.
    """
    return parse_byte_size(value, what="memory size")


@dataclasses.dataclass(frozen=True)
class LuaLimits:
    """Limits of one Lua run.

    Attributes:
        max_memory: Bytes the whole Lua state may allocate (default 64 MiB). Exceeding it
            raises `LuaResourceError("memory")`; a script cannot catch it with `pcall`.
        max_instructions: VM instructions one uninterrupted slice may execute, i.e. between
            two intercepted calls of a workflow, or in a whole function call (default 50
            million, roughly 0.1-1 s). 0 disables the check.
    """

    max_memory: int = DEFAULT_MAX_MEMORY
    max_instructions: int = DEFAULT_MAX_INSTRUCTIONS

    @classmethod
    def from_entry(cls, limits: Any, default: LuaLimits | None = None) -> LuaLimits:
        """Return the limits of an entry's `limits` block (None: the defaults)."""
        base = default or cls()
        if limits is None:
            return base
        memory = getattr(limits, "max_memory", None)
        instructions = getattr(limits, "max_instructions", None)
        return cls(
            max_memory=base.max_memory if memory is None else parse_size(memory),
            max_instructions=base.max_instructions if instructions is None else int(instructions),
        )
