"""Importing the Python callables of `workflow.py` / `function.py` entries."""

from __future__ import annotations

import inspect
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wflow.registry._decorated import decorated_entries, decorated_entry_of, unwrap_target
from wflow.registry._problems import Problem
from wflow.registry._schema import PythonEntry

__all__ = ["ImportProblem", "find_target", "import_target", "put_on_sys_path"]


class ImportProblem(Exception):
    """A Python entry's callable cannot be imported; carries the problem to report."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def put_on_sys_path(root: Path | None) -> None:
    """Prepend the project folder to `sys.path` (once) so its modules import."""
    if root is None:
        return
    folder = str(root)
    if folder not in sys.path:
        sys.path.insert(0, folder)


def _describe_import_error(module: str, error: BaseException) -> str:
    if isinstance(error, SyntaxError):
        where = f"{error.filename}:{error.lineno}" if error.filename else "?"
        return f"cannot import module '{module}': syntax error at {where}: {error.msg}"
    if isinstance(error, ModuleNotFoundError) and error.name == module:
        return f"cannot import module '{module}': no such module"
    return f"cannot import module '{module}': {type(error).__name__}: {error}{_raised_at(error)}"


def _raised_at(error: BaseException) -> str:
    """` (at file.py:line)`: the innermost line of the user's code the error went through.

    A decorator's refusal (`@wflow.workflow` on a plain function) is raised inside wflow;
    the line worth naming is the decorator's, in the user's module.
    """
    wflow_dir = Path(__file__).resolve().parents[1]
    where = ""
    raised_in_wflow = False
    for frame, line in traceback.walk_tb(error.__traceback__):
        filename = Path(frame.f_code.co_filename)
        raised_in_wflow = filename.resolve().is_relative_to(wflow_dir)
        if filename.is_file() and not raised_in_wflow:
            where = f" (at {filename.name}:{line})"
    # An error the user's own code raised already says where (and its traceback is theirs).
    return where if raised_in_wflow else ""


class _TargetProblem(Exception):
    """The module imported, but the dotted name in it does not reach a callable."""


class _MissingAttribute(_TargetProblem, AttributeError):
    pass


class _NotCallable(_TargetProblem, TypeError):
    pass


def find_target(module_name: str, qualname: str) -> Any:
    """Import `module_name` and return the callable its dotted `qualname` names, as found.

    This is the one importer of Python entries: the registry uses it when a project loads,
    the Python engine each time a workflow run or an activity loads its program.

    Returns:
        The attribute itself (a decorator's wrapper is not unwrapped).

    Raises:
        AttributeError: `qualname` does not exist in the module.
        TypeError: It names something that is not callable.
        Exception: Whatever importing the module raised, unchanged.
    """
    # builtins.__import__ rather than importlib: inside Temporal's sandbox it is the sandbox's
    # importer, so a workflow's module is loaded fresh and under the sandbox's restrictions.
    module = __import__(module_name, fromlist=["__name__"])
    target: Any = module
    reached = module_name
    for part in qualname.split("."):
        if not hasattr(target, part):
            raise _MissingAttribute(f"module '{reached}' has no attribute '{part}'")
        target = getattr(target, part)
        reached = f"{reached}.{part}"
    if not callable(target):
        raise _NotCallable(f"'{module_name}.{qualname}' is not callable")
    return target


def import_target(entry: PythonEntry, root: Path | None) -> Callable[..., Any]:
    """Import the callable an entry names and check it against its decorator, if any.

    The result is kept on the entry, so a project's callables are imported once.

    Returns:
        The user's function (a decorator's wrapper is unwrapped).

    Raises:
        ImportProblem: The module does not import, the attribute is missing or not callable,
            or the function was decorated with a different entry ID or kind.
    """
    if entry._target is not None:
        return entry._target
    put_on_sys_path(root)
    try:
        target = find_target(entry.module, entry.method)
    except _TargetProblem as problem:
        raise ImportProblem(
            Problem(entry.file, entry.field_line(("method",)), str(problem), entry.id)
        ) from problem
    except (Exception, SystemExit) as error:  # a module calling sys.exit() is a problem too
        raise ImportProblem(
            Problem(
                entry.file,
                entry.field_line(("module",)),
                _describe_import_error(entry.module, error),
                entry.id,
            )
        ) from error
    decorated_id = decorated_entry_of(target)
    if decorated_id is not None:
        kind = next((d.kind for d in decorated_entries() if d.entry_id == decorated_id), entry.kind)
        if decorated_id != entry.id or kind != entry.kind:
            raise ImportProblem(
                Problem(
                    entry.file,
                    entry.field_line(("method",)),
                    f"'{entry.module}.{entry.method}' is decorated as {kind} '{decorated_id}', "
                    f"which does not match this {entry.kind} entry",
                    entry.id,
                )
            )
    function = unwrap_target(target)
    if entry.kind == "workflow.py" and not inspect.iscoroutinefunction(function):
        # Caught here, when the project loads (`wflow validate`), not when a run starts.
        raise ImportProblem(
            Problem(
                entry.file,
                entry.field_line(("method",)),
                f"'{entry.module}.{entry.method}' must be an async def function: a workflow.py "
                "entry runs on the workflow's event loop (it is a plain function"
                f"{_defined_at(function)})",
                entry.id,
            )
        )
    entry._target = function
    return function


def _defined_at(function: Any) -> str:
    """`, defined at file.py:line`, or "" when the source is unknown."""
    code = getattr(function, "__code__", None)
    if code is None:
        return ""
    return f", defined at {Path(code.co_filename).name}:{code.co_firstlineno}"
