"""Resource limits of one Lua run: memory (lupa's allocator) and instructions per slice."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from wflow.model import parse_byte_size

if TYPE_CHECKING:
    from wflow.registry import LuaLimits as LimitsBlock

__all__ = ["DEFAULT_MAX_INSTRUCTIONS", "DEFAULT_MAX_MEMORY", "LuaLimits"]

DEFAULT_MAX_MEMORY = 64 * 1024 * 1024
"""Memory a Lua run may use, in bytes (64 MiB), unless the entry sets `limits.max_memory`."""

DEFAULT_MAX_INSTRUCTIONS = 50_000_000
"""Lua VM instructions between two intercepted calls (one uninterrupted slice)."""


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
    """

    max_memory: int = DEFAULT_MAX_MEMORY
    max_instructions: int = DEFAULT_MAX_INSTRUCTIONS

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
        )
