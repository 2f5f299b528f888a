"""`LuaEngine`: turns `workflow.lua` / `function.lua` registry entries into programs."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from lua_bridge._check import LuaProblem, check_entry
from lua_bridge._driver import WorkflowDriver, run_function
from lua_bridge._entries import Chunk, LuaEntryLike, RegistryLike, collect_chunks
from lua_bridge._limits import LuaLimits
from lua_bridge._runtime import bridge_bytecode, compile_bytecode
from wflow.model import FunctionContext, WorkflowRuntime

__all__ = ["LuaEngine", "LuaFunctionProgram", "LuaWorkflowProgram"]


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


class LuaEngine:
    """Loads Lua registry entries as programs, and validates them.

    Args:
        default_limits: Limits for entries without a `limits` block (64 MiB, 50 million
            instructions per slice by default).
    """

    def __init__(self, default_limits: LuaLimits | None = None) -> None:
        self.default_limits = default_limits or LuaLimits()
        # Read and compile the bridge's own Lua code now, outside any workflow sandbox.
        bridge_bytecode()

    def _load(self, entry: LuaEntryLike, registry: RegistryLike | None) -> dict[str, Chunk]:
        chunks = collect_chunks(entry, registry)
        compiled: dict[str, Chunk] = {}
        for key, chunk in chunks.items():
            code = compile_bytecode(chunk.source, chunk.chunkname)
            compiled[key] = dataclasses.replace(chunk, bytecode=code)
        return compiled

    def workflow_program(
        self, entry: LuaEntryLike, registry: RegistryLike | None = None
    ) -> LuaWorkflowProgram:
        """Load a `workflow.lua` entry.

        Raises:
            LuaScriptError: A source cannot be read, has a syntax error, or an import does
                not resolve.
        """
        chunks = self._load(entry, registry)
        limits = LuaLimits.from_entry(entry.limits, self.default_limits)
        return LuaWorkflowProgram(entry.id, entry.method or "main", chunks, limits)

    def function_program(
        self, entry: LuaEntryLike, registry: RegistryLike | None = None
    ) -> LuaFunctionProgram:
        """Load a `function.lua` entry.

        Raises:
            LuaScriptError: As for `workflow_program`.
        """
        chunks = self._load(entry, registry)
        limits = LuaLimits.from_entry(entry.limits, self.default_limits)
        return LuaFunctionProgram(entry.id, entry.method or "main", chunks, limits)

    def check(self, entry: LuaEntryLike, registry: RegistryLike | None = None) -> list[LuaProblem]:
        """Validate an entry without running it; see `lua_bridge.LuaProblem`."""
        return check_entry(entry, registry, self.default_limits)
