"""Loading a project: definition files, Python entries and decorators, into one registry."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from wflow.model import WflowError, engine_for, has_engine
from wflow.registry._decorated import decorated_entries, decorated_in_module, unwrap_target
from wflow.registry._loader import discover_files, load_files
from wflow.registry._problems import ConfigError, Problem, sort_problems
from wflow.registry._python import ImportProblem, import_target, put_on_sys_path
from wflow.registry._registry import Registry
from wflow.registry._schema import Entry, PythonEntry

__all__ = ["ExtraCheck", "load_project", "validate_project"]

ExtraCheck = Callable[[Registry], Iterable[Problem]]
"""A check another part of wflow adds to validation (e.g. Lua syntax), given the registry."""


def _same_function(entry: Entry, kind: str, fn: Callable[..., object]) -> bool:
    if not isinstance(entry, PythonEntry) or entry.kind != kind:
        return False
    target = unwrap_target(fn)
    if entry._target is not None:
        return entry._target is target
    module = getattr(target, "__module__", None)
    return (module, getattr(target, "__qualname__", None)) == (entry.module, entry.method)


def _defined_below(fn: Callable[..., Any], root: Path) -> bool:
    # Decorations are process-global; a project takes only those its own code defines, so two
    # projects loaded in one process (tests, tools) cannot see each other's entries.
    try:
        source = inspect.getsourcefile(fn)
    except TypeError:
        return False
    return source is not None and Path(source).resolve().is_relative_to(root.resolve())


def _check_programs(registry: Registry) -> list[Problem]:
    """Ask each entry's engine to check it without running it (Lua syntax, modules, ...).

    Entries of kinds no engine handles (workers, clients, ...) have no program to check; an
    entry whose code file is missing is skipped, since loading reported that already.

    Returns:
        The engines' problems, each message without the entry ID (`Problem` adds it).
    """
    problems: list[Problem] = []
    checked_kinds: dict[str, bool] = {}
    for entry in registry:
        if entry.kind not in checked_kinds:
            checked_kinds[entry.kind] = has_engine(entry.kind)
        if not checked_kinds[entry.kind]:
            continue
        code_file = entry.code_file()
        if code_file is not None and not code_file.is_file():
            continue
        try:
            found_problems = engine_for(entry.kind).check(entry, registry)
        except WflowError as exc:  # the engine's own settings (environment variables)
            problem = Problem(None, None, exc.message)
            if problem not in problems:  # one engine serves several kinds: say it once
                problems.append(problem)
            checked_kinds[entry.kind] = False
            continue
        for found in found_problems:
            message = found.message.removeprefix(f"{found.entry_id}: ")
            problems.append(Problem(found.file, found.line, message, found.entry_id))
    return problems


def _check_workflow_types(registry: Registry) -> list[Problem]:
    """Report two workflow entries of one worker with the same Temporal workflow type.

    A type is the entry ID unless `meta.temporal.workflow.name` renames it, so only a renamed
    entry can clash; Temporal's worker would refuse to start with the two.
    """
    problems: list[Problem] = []
    seen: dict[tuple[str, str], str] = {}
    for entry in registry.workflows():
        try:
            worker = registry.worker_of(entry.id, "workflow").id
        except WflowError:
            continue  # reported with the entry's references
        key = (worker, entry.workflow_type())
        if key in seen:
            problems.append(
                Problem(
                    entry.file,
                    entry.line,
                    f"meta.temporal.workflow.name: workflow type {key[1]!r} is already the "
                    f"type of {seen[key]} on worker {worker}",
                    entry.id,
                )
            )
        else:
            seen[key] = entry.id
    return problems


def _load(path: str | Path, extra_checks: Sequence[ExtraCheck]) -> tuple[Registry, list[Problem]]:
    target = Path(path).absolute()
    if not target.exists():
        registry, _ = Registry.collect([], root=None)
        return registry, [Problem(target, None, "no such project folder or file")]
    if target.is_file():
        root, files = target.parent, [target]
    else:
        root, files = target, discover_files(target)
    entries, problems = load_files(files)

    put_on_sys_path(root)
    for entry in entries:
        if isinstance(entry, PythonEntry):
            try:
                import_target(entry, root)
            except ImportProblem as error:
                problems.append(error.problem)

    by_id = {entry.id: entry for entry in entries}
    candidates = {d.entry_id: d for d in decorated_entries() if _defined_below(d.fn, root)}
    for module_name in sorted({e.module for e in entries if isinstance(e, PythonEntry)}):
        module = sys.modules.get(module_name)
        if module is not None:
            candidates.update({d.entry_id: d for d in decorated_in_module(module)})
    for decorated in candidates.values():
        existing = by_id.get(decorated.entry_id)
        if existing is not None and _same_function(existing, decorated.kind, decorated.fn):
            continue
        entries.append(decorated.to_entry())

    registry, more = Registry.collect(entries, root=root)
    problems += more + _check_workflow_types(registry)
    for check in extra_checks:
        try:
            problems.extend(check(registry))
        except Exception as error:  # a broken check must not hide the other problems
            name = getattr(check, "__qualname__", repr(check))
            problems.append(
                Problem(None, None, f"check {name} failed: {type(error).__name__}: {error}")
            )
    return registry, sort_problems(problems)


def load_project(
    path: str | Path,
    *,
    extra_checks: Sequence[ExtraCheck] = (),
    check_programs: bool = False,
) -> Registry:
    """Load a project into a registry.

    Reads every definition file below `path` (or the one file `path` names), imports the
    Python entries (with the project folder on `sys.path`) and adds the decorated entries
    defined in source files below the project folder.

    Args:
        path: The project folder, or a single definition file.
        extra_checks: More checks to run on the loaded registry.
        check_programs: Also have each entry's engine check its program (see
            `validate_project`), as the `wflow` command does before anything else.

    Returns:
        The registry.

    Raises:
        ConfigError: With every problem found, in file and line order.
    """
    checks = [_check_programs, *extra_checks] if check_programs else extra_checks
    registry, problems = _load(path, checks)
    if problems:
        raise ConfigError(problems)
    return registry


def validate_project(
    path: str | Path,
    extra_checks: Sequence[ExtraCheck] = (),
    *,
    check_programs: bool = False,
) -> list[Problem]:
    """Check a project and return its problems (empty when valid); never raises for them.

    Args:
        path: The project folder, or a single definition file.
        extra_checks: More checks to run on the loaded registry; each gets the registry
            (with every entry that loaded) and returns problems.
        check_programs: Also have each entry's engine check its program first: Lua syntax
            errors, unknown or disallowed modules, missing methods, ... (`Engine.check`).
            `wflow validate` does.

    Returns:
        Every problem found, in file and line order.
    """
    checks = [_check_programs, *extra_checks] if check_programs else extra_checks
    return _load(path, checks)[1]
