"""`LuaEngine`: the `wflow.model.Engine` of Lua entries: programs from them, and checks.

It handles `workflow.lua`, `function.lua`, `library.lua` and `process.lua` entries (a process
is loaded as a workflow program is, and run against a process runtime: `wflow.processes`).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from lua_bridge._chunks import Chunk, collect_chunks
from lua_bridge._function_runner import run_function
from lua_bridge._limits import LuaLimits, park_after_from_env
from lua_bridge._lua_state import bridge_bytecode, compile_bytecode
from lua_bridge._static_check import check_entry
from lua_bridge._workflow_driver import WorkflowDriver
from wflow.model import FunctionContext, WorkflowRuntime

if TYPE_CHECKING:
    from wflow.model import Engine
    from wflow.registry import Entry, LuaEntry, LuaProgramEntry, Problem, Registry

__all__ = ["LuaEngine", "LuaFunctionProgram", "LuaWorkflowProgram"]

_MAX_LOADED = 512
"""Loaded entries an engine keeps (a `wflow dev` session reloads its registry many times)."""


def _stamps(chunks: dict[str, Chunk]) -> tuple[tuple[str, int, int], ...]:
    """The files of `chunks` with their modification time and size now."""
    out = []
    for chunk in chunks.values():
        try:
            stat = os.stat(chunk.path)
        except OSError:
            return ()  # reported by the next load
        out.append((str(chunk.path), stat.st_mtime_ns, stat.st_size))
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class _Loaded:
    """An entry's compiled chunks, for as long as the entry, registry and files are the same.

    The entry and registry are held, so their ids (the cache key) are not reused meanwhile.
    """

    entry: object
    registry: object
    chunks: dict[str, Chunk]
    stamps: tuple[tuple[str, int, int], ...]

    def valid(self, entry: object, registry: object) -> bool:
        return (
            self.entry is entry
            and self.registry is registry
            and bool(self.stamps)
            and _stamps(self.chunks) == self.stamps
        )


class LuaWorkflowProgram:
    """A loaded `workflow.lua` entry (a `wflow.model.WorkflowProgram`).

    Each `run` gets a fresh sandboxed Lua runtime, closed when the run ends.
    """

    def __init__(self, entry_id: str, method: str, chunks: dict[str, Chunk], limits: LuaLimits):
        self.entry_id = entry_id
        self.method = method
        self.limits = limits
        self._chunks = chunks

    async def run(self, runtime: WorkflowRuntime, args: Sequence[Any]) -> Any:
        """Run the workflow to its end against `runtime`.

        Returns:
            The JSON result (the Lua code's first return value).

        Raises:
            WflowError: The Lua code returned `nil, err`: fails the workflow.
            LuaScriptError: An unhandled Lua error (message starts with `file.lua:line:`):
                fails the workflow task.
            LuaResourceError: A memory or instruction limit was exceeded: fails the task.
        """
        driver = WorkflowDriver(runtime, self._chunks, self.limits)
        return await driver.run(self.entry_id, self.method, args)


class LuaFunctionProgram:
    """A loaded `function.lua` entry (a `wflow.model.FunctionProgram`).

    Each call gets a fresh sandboxed runtime with real time (`time.now`, `os.time`),
    real randomness, and a `time.sleep` that really sleeps (blocking the worker thread).
    """

    def __init__(self, entry_id: str, method: str, chunks: dict[str, Chunk], limits: LuaLimits):
        self.entry_id = entry_id
        self.method = method
        self.limits = limits
        self._chunks = chunks

    def call(self, args: Sequence[Any], context: FunctionContext) -> Any:
        """Run the function once.

        Raises:
            WflowError: Its kind when the Lua code returned `nil, err`; `INTERNAL` (with
                `file.lua:line:` in the message) for an unhandled error or exceeded limit.
        """
        return run_function(self._chunks, self.entry_id, self.method, self.limits, args, context)


@functools.lru_cache(maxsize=16)
def _limits_parking_after(park_after: float | None) -> LuaLimits:
    """The default limits with `park_after` (one object per value, not one per run)."""
    return LuaLimits(park_after=park_after)


class LuaEngine:
    """Loads Lua registry entries as programs, and validates them (a `wflow.model.Engine`).

    The registry hands an engine only entries of its `kinds`; the entry's class is not
    checked at run time (any object with the same attributes works, as in the tests).

    Args:
        default_limits: Limits for entries without a `limits` block (64 MiB, 50 million
            instructions per slice, parking after 10 s by default; `WFLOW_LUA_PARK_AFTER`
            sets the parking when this is not given).
    """

    kinds: frozenset[str] = frozenset(
        {"workflow.lua", "function.lua", "library.lua", "process.lua"}
    )
    """The entry kinds this engine handles."""

    sandbox_passthrough: tuple[str, ...] = ("lua_bridge", "lupa")
    """Modules Temporal's workflow sandbox passes through (Lua workflows need no sandbox)."""

    def __init__(self, default_limits: LuaLimits | None = None) -> None:
        self._default_limits = default_limits
        self._loaded: dict[tuple[int, int], _Loaded] = {}
        # Read and compile the bridge's own Lua code now, outside any workflow sandbox.
        bridge_bytecode()

    @property
    def default_limits(self) -> LuaLimits:
        """Limits of entries without a `limits` block (`WFLOW_LUA_PARK_AFTER` read now).

        Raises:
            WflowError: `INVALID`: `WFLOW_LUA_PARK_AFTER` is not a duration or `never`
                (`wflow validate` reports it once, as a problem of the project).
        """
        if self._default_limits is not None:
            return self._default_limits
        return _limits_parking_after(park_after_from_env())

    def _load(self, entry: LuaEntry, registry: Registry | None) -> dict[str, Chunk]:
        # Every workflow run loads its program: reuse the chunks of the same entry (and
        # registry) while none of its files changed (`wflow dev` edits them in place).
        key = (id(entry), id(registry))
        loaded = self._loaded.get(key)
        if loaded is not None and loaded.valid(entry, registry):
            return loaded.chunks
        chunks = collect_chunks(entry, registry)
        compiled: dict[str, Chunk] = {}
        for chunk_key, chunk in chunks.items():
            code = compile_bytecode(chunk.source, chunk.chunkname)
            compiled[chunk_key] = dataclasses.replace(chunk, bytecode=code)
        if len(self._loaded) >= _MAX_LOADED:
            self._loaded.clear()
        self._loaded[key] = _Loaded(entry, registry, compiled, _stamps(compiled))
        return compiled

    def _program_parts(
        self, entry: Entry, registry: Registry | None
    ) -> tuple[LuaProgramEntry, dict[str, Chunk], LuaLimits]:
        program_entry = cast("LuaProgramEntry", entry)
        chunks = self._load(program_entry, registry)
        limits = LuaLimits.from_entry(program_entry.limits, self.default_limits)
        return program_entry, chunks, limits

    def workflow_program(
        self, entry: Entry, registry: Registry | None = None
    ) -> LuaWorkflowProgram:
        """Load a `workflow.lua` entry (a `wflow.registry.WorkflowLuaEntry`).

        Args:
            entry: The entry.
            registry: Where its `imports` resolve (None: the entry imports nothing).

        Raises:
            LuaScriptError: A source cannot be read, has a syntax error, or an import does
                not resolve.
        """
        program_entry, chunks, limits = self._program_parts(entry, registry)
        return LuaWorkflowProgram(program_entry.id, program_entry.method or "main", chunks, limits)

    def function_program(
        self, entry: Entry, registry: Registry | None = None
    ) -> LuaFunctionProgram:
        """Load a `function.lua` entry (a `wflow.registry.FunctionLuaEntry`).

        Raises:
            LuaScriptError: As for `workflow_program`.
        """
        program_entry, chunks, limits = self._program_parts(entry, registry)
        return LuaFunctionProgram(program_entry.id, program_entry.method or "main", chunks, limits)

    def needs_sandbox(self, entry: Entry) -> bool:
        """Return False: Lua workflows are deterministic by construction (no Python sandbox)."""
        return False

    def check(self, entry: Entry, registry: Registry | None = None) -> list[Problem]:
        """Validate a `workflow.lua`, `function.lua` or `library.lua` entry without running it.

        Returns:
            Its problems (`wflow.registry.Problem`), file and line where known.
        """
        return check_entry(cast("LuaEntry", entry), registry, self.default_limits)


if TYPE_CHECKING:
    # LuaEngine satisfies the Engine protocol (checked by mypy only).
    _ENGINE: type[Engine] = LuaEngine
