"""Static checks of Python DSL calls in the modules of Python entries (`wflow validate`).

Read with `ast`, never run: for each module that holds `workflow.py` / `function.py` entries,

- a string-literal target of `funcs.call/start/async_`, `process.spawn/spawn_monitored/exec`
  (and their literal host) and `workflow.exec` is resolved against the registry
  (`wflow.registry._call_targets`, the same rules as for Lua);
- `funcs.cal`, `time.slep`, ... on a DSL module that has no such name is reported, with the
  names of the module's `__all__` as suggestions.

Only names bound by an import of wflow's DSL (`from wflow import funcs`, `import wflow` then
`wflow.funcs`, `from wflow.dsl import process as p`, ...) and never rebound in the module
count; a target that is not one string literal (a decorated function, a variable, an
f-string) is left alone. A problem belongs to the entry whose function encloses the call, or
else to the module's first entry, so each is reported once.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import inspect
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from wflow.registry import Entry, Problem, PythonEntry, Registry
from wflow.registry._call_targets import TARGET_CALLS, TargetKind, target_problems

__all__ = ["python_problems"]

_DSL_NAMES = ("channel", "errors", "funcs", "process", "time", "uuid", "workflow")
_DSL_PACKAGES = ("wflow", "wflow.dsl")
_DSL_PATHS = [[name] for name in _DSL_NAMES]  # `import wflow.dsl.<name> as x`
# (DSL name, function) -> what the first argument names, and whether the second is a host.
_TARGET_CALLS: Mapping[tuple[str, str], tuple[TargetKind, bool]] = {
    **TARGET_CALLS,
    ("funcs", "start"): ("function", False),
    ("funcs", "async_"): ("function", False),
}


@dataclasses.dataclass(frozen=True)
class _Found:
    """One finding in a module: where, inside which top-level function, and what."""

    line: int
    function: str | None
    message: str | None = None  # an unknown name: the whole message
    call: str = ""
    target: str = ""
    kind: TargetKind = "function"
    host: str | None = None


def _dsl_object(package: str, name: str) -> Any:
    """The object `from <package> import <name>` gives (the `workflow` decorator, a module)."""
    return getattr(importlib.import_module(package), name)


def _bindings(tree: ast.Module) -> tuple[dict[str, str], set[str]]:
    """Names bound to DSL objects (name -> DSL name) and names bound to the `wflow` package."""
    dsl: dict[str, str] = {}
    packages: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                if node.module in _DSL_PACKAGES and alias.name in _DSL_NAMES:
                    dsl[alias.asname or alias.name] = alias.name
                elif node.module == "wflow" and alias.name == "dsl":
                    packages.add(alias.asname or "dsl")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if alias.asname is None and parts[0] == "wflow":
                    packages.add("wflow")
                elif alias.asname and alias.name in _DSL_PACKAGES:
                    packages.add(alias.asname)
                elif alias.asname and parts[:2] == ["wflow", "dsl"] and parts[2:] in _DSL_PATHS:
                    dsl[alias.asname] = parts[2]
    return dsl, packages


def _rebound(tree: ast.Module) -> set[str]:
    """Names the module assigns other than by import (then the scanner leaves them alone)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def _string(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _top_level_functions(tree: ast.Module) -> Iterator[tuple[str, int, int]]:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.lineno, node.end_lineno or node.lineno


@functools.cache
def _scan(path: Path, mtime_ns: int) -> tuple[_Found, ...]:
    """The findings of one source file (cached per file version; registry-independent)."""
    del mtime_ns  # part of the cache key only
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return ()
    dsl, packages = _bindings(tree)
    rebound = _rebound(tree)
    dsl = {name: target for name, target in dsl.items() if name not in rebound}
    packages -= rebound
    functions = list(_top_level_functions(tree))

    def enclosing(line: int) -> str | None:
        for name, first, last in functions:
            if first <= line <= last:
                return name
        return None

    def dsl_name(node: ast.expr) -> tuple[str, str] | None:
        """(DSL name, package) when `node` is a DSL object: `funcs`, `wflow.funcs`, ..."""
        if isinstance(node, ast.Name) and node.id in dsl:
            return dsl[node.id], "wflow"
        if (
            isinstance(node, ast.Attribute)
            and node.attr in _DSL_NAMES
            and isinstance(node.value, ast.Name)
            and node.value.id in packages
        ):
            return node.attr, "wflow"
        if (
            isinstance(node, ast.Attribute)
            and node.attr in _DSL_NAMES
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "dsl"
            and isinstance(node.value.value, ast.Name)
            and node.value.value.id in packages
        ):
            return node.attr, "wflow.dsl"
        return None

    found: list[_Found] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            owner = dsl_name(node.value)
            if owner is None:
                continue
            obj = _dsl_object(owner[1], owner[0])
            if not hasattr(obj, node.attr):
                public = getattr(obj, "__all__", None) or [
                    n for n in dir(obj) if not n.startswith("_")
                ]
                hint = Registry.suggest_name(node.attr, public)
                spelled = ast.unparse(node)
                message = f"{spelled}: module '{owner[0]}' has no '{node.attr}'{hint}"
                found.append(_Found(node.lineno, enclosing(node.lineno), message))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = dsl_name(node.func.value)
            shape = None if owner is None else _TARGET_CALLS.get((owner[0], node.func.attr))
            if owner is None or shape is None or not node.args:
                continue
            target = _string(node.args[0])
            if target is None:
                continue
            host = _string(node.args[1]) if shape[1] and len(node.args) > 1 else None
            found.append(
                _Found(
                    node.args[0].lineno,
                    enclosing(node.lineno),
                    call=f"{owner[0]}.{node.func.attr}",
                    target=target,
                    kind=shape[0],
                    host=host,
                )
            )
    return tuple(found)


def _source_file(module_name: str) -> Path | None:
    module = sys.modules.get(module_name)
    if module is None:
        return None
    try:
        source = inspect.getsourcefile(module)
    except TypeError:
        return None
    return None if source is None else Path(source)


def python_problems(entry: Entry, registry: Registry) -> list[Problem]:
    """Return the problems of the DSL calls in `entry`'s module that belong to `entry`.

    A finding inside the entry's own function belongs to it; one elsewhere in the module
    belongs to the module's first entry (in registry order), so each is reported once.
    """
    if not isinstance(entry, PythonEntry) or not entry.module:
        return []
    path = _source_file(entry.module)
    if path is None or not path.is_file():
        return []
    siblings = [
        other
        for other in registry
        if isinstance(other, PythonEntry) and other.module == entry.module
    ]
    by_function = {other.method: other for other in siblings}
    namespaces = {other.namespace for other in siblings}
    problems: list[Problem] = []
    for item in _scan(path, path.stat().st_mtime_ns):
        owner = by_function.get(item.function) if item.function is not None else None
        if (owner or siblings[0]) is not entry:
            continue
        if item.message is not None:
            problems.append(Problem(path, item.line, item.message, entry.id))
            continue
        # Outside any entry's function the namespace is known only if the module has one.
        namespace = (
            owner.namespace
            if owner is not None
            else (next(iter(namespaces)) if len(namespaces) == 1 else None)
        )
        for message in target_problems(
            registry,
            namespace,
            item.call,
            item.target,
            item.kind,
            host=item.host,
            default_queue=item.call in ("funcs.call", "funcs.start", "funcs.async_"),
        ):
            problems.append(Problem(path, item.line, message, entry.id))
    return problems
