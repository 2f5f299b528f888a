"""Engines: what turns a registry entry of some kinds into a program, and checks it.

An engine is the one place that knows a language. The Temporal executor, the CLI and the
registry's validation ask `engine_for(entry.kind)` and never learn which language is behind
an entry: there is no per-language branch outside the engines.

Engines register themselves by kind, either as installed plugins (the `wflow.engines` entry
point group in a distribution's metadata, one name per kind, e.g.
`"workflow.lua" = "lua_bridge:LuaEngine"`), loaded the first time an entry of that kind is
met, or at run time with `register_engine`. wflow's own two (`wflow.dsl:PythonEngine`,
`lua_bridge:LuaEngine`) are declared in its `pyproject.toml`, so a process that never meets a
Lua entry never imports lupa.
"""

from __future__ import annotations

import importlib.metadata
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from wflow.model._errors import ErrorKind, WflowError
from wflow.model._program import FunctionProgram, WorkflowProgram

if TYPE_CHECKING:
    from wflow.registry import Entry, Problem, Registry

__all__ = ["ENGINE_ENTRY_POINT_GROUP", "Engine", "engine_for", "has_engine", "register_engine"]

ENGINE_ENTRY_POINT_GROUP = "wflow.engines"
"""The entry point group engines are declared in (name: an entry kind; value: a class)."""


@runtime_checkable
class Engine(Protocol):
    """Loads and checks the entries of the kinds it registered for.

    Attributes:
        kinds: The entry kinds this engine handles (`workflow.lua`, `function.py`, ...).
        sandbox_passthrough: Modules Temporal's workflow sandbox must pass through (not
            re-import) for this engine's programs to run inside it.
    """

    kinds: frozenset[str]
    sandbox_passthrough: tuple[str, ...]

    def workflow_program(self, entry: Entry, registry: Registry) -> WorkflowProgram:
        """Load a workflow entry as a program.

        Raises:
            Exception: The entry cannot be loaded; the message says why and where. Python
                entries raise `WflowError` (`INVALID`), Lua entries `LuaScriptError` with the
                `file.lua:line:` of a syntax error. Inside a workflow either fails the
                workflow *task*, so a fixed deploy resumes the run.
        """
        ...

    def function_program(self, entry: Entry, registry: Registry) -> FunctionProgram:
        """Load a function entry as a program.

        Raises:
            Exception: The entry cannot be loaded, as for `workflow_program`.
        """
        ...

    def needs_sandbox(self, entry: Entry) -> bool:
        """Return whether the workflow entry must run in Temporal's Python sandbox."""
        ...

    def check(self, entry: Entry, registry: Registry) -> Sequence[Problem]:
        """Check an entry without running it (`wflow validate`); return its problems."""
        ...


_lock = threading.RLock()  # an engine module may call register_engine while it loads
_engines: dict[str, Engine] = {}
_instances: dict[str, Engine] = {}  # by entry point value, so one class is instantiated once


def register_engine(engine: Engine, kinds: Sequence[str] | None = None) -> None:
    """Make `engine` the one that handles `kinds` (default: `engine.kinds`) in this process."""
    with _lock:
        for kind in kinds if kinds is not None else sorted(engine.kinds):
            _engines[kind] = engine


def _from_entry_point(kind: str) -> Engine | None:
    for point in importlib.metadata.entry_points(group=ENGINE_ENTRY_POINT_GROUP):
        if point.name != kind:
            continue
        engine = _instances.get(point.value)
        if engine is None:
            engine = point.load()()
            _instances[point.value] = engine
        return engine
    return None


def engine_for(kind: str) -> Engine:
    """Return the engine that handles entries of `kind`.

    Raises:
        WflowError: `INVALID` when no engine is registered for `kind`.
    """
    with _lock:
        engine = _engines.get(kind)
        if engine is None:
            engine = _from_entry_point(kind)
            if engine is not None:
                _engines[kind] = engine
    if engine is None:
        raise WflowError(
            f"entries of kind {kind!r} cannot be executed: no wflow engine is registered for "
            f"it (is the package that provides it installed?)",
            ErrorKind.INVALID,
        )
    return engine


def has_engine(kind: str) -> bool:
    """Return whether some engine handles entries of `kind` (loading it if needed)."""
    try:
        engine_for(kind)
    except WflowError:
        return False
    return True
