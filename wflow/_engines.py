"""Which engine loads which entry kind.

The executor asks here for a program and never learns the language behind it; the Lua
engine is imported by name only when a Lua entry is loaded, so Temporal code never imports
lupa.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from wflow.model import ErrorKind, FunctionProgram, WflowError, WorkflowProgram

__all__ = ["Engine", "engine_for", "function_program", "workflow_program"]

_ENGINE_BY_KIND = {
    "workflow.py": "wflow.dsl._engine:PythonEngine",
    "function.py": "wflow.dsl._engine:PythonEngine",
    "workflow.lua": "lua_bridge:LuaEngine",
    "function.lua": "lua_bridge:LuaEngine",
}

_loaded: dict[str, Engine] = {}


class Engine(Protocol):
    def workflow_program(self, entry: Any, registry: Any) -> WorkflowProgram: ...

    def function_program(self, entry: Any, registry: Any) -> FunctionProgram: ...


def engine_for(kind: str) -> Engine:
    """Return the engine that runs entries of `kind`."""
    target = _ENGINE_BY_KIND.get(kind)
    if target is None:
        raise WflowError(f"entries of kind {kind!r} cannot be executed", ErrorKind.INVALID)
    engine = _loaded.get(target)
    if engine is None:
        module_name, _, attr = target.partition(":")
        engine = getattr(importlib.import_module(module_name), attr)()
        _loaded[target] = engine
    return engine


def workflow_program(entry: Any, registry: Any) -> WorkflowProgram:
    """Load the workflow program of `entry` with its kind's engine."""
    return engine_for(entry.kind).workflow_program(entry, registry)


def function_program(entry: Any, registry: Any) -> FunctionProgram:
    """Load the function program of `entry` with its kind's engine."""
    return engine_for(entry.kind).function_program(entry, registry)
