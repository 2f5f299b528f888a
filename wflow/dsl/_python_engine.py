"""The engine of Python entries: runs decorated (or YAML-declared) callables as programs."""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from wflow.dsl._python_check import python_problems
from wflow.dsl._typed import argument_types, plain_result
from wflow.model import (
    ErrorKind,
    FunctionContext,
    WflowError,
    WorkflowRuntime,
    argument_count_error,
    bind_runtime,
)
from wflow.registry import Entry, Problem, PythonEntry, Registry, WorkflowPyEntry

__all__ = ["PythonEngine", "current_function_context"]

_function_context: contextvars.ContextVar[FunctionContext | None] = contextvars.ContextVar(
    "wflow_function_context", default=None
)


def current_function_context() -> FunctionContext | None:
    """Return the context of the function call running in this task, if any."""
    return _function_context.get()


class _Arity:
    """The positional parameters of an entry's callable, checked before each call."""

    def __init__(self, entry_id: str, fn: Callable[..., Any]) -> None:
        self._entry_id = entry_id
        self._params: list[str] = []
        self._required = 0
        self._variadic = False
        try:
            signature = inspect.signature(fn)
        except (TypeError, ValueError):  # a builtin without a signature: let the call decide
            self._variadic = True
            return
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        for param in signature.parameters.values():
            if param.kind in positional:
                self._params.append(param.name)
                if param.default is inspect.Parameter.empty:
                    self._required = len(self._params)
            elif param.kind is inspect.Parameter.VAR_POSITIONAL:
                self._variadic = True

    def check(self, args: Sequence[Any]) -> None:
        error = argument_count_error(
            self._entry_id, self._params, self._required, self._variadic, len(args)
        )
        if error is not None:
            raise error


class _PythonWorkflowProgram:
    def __init__(self, fn: Callable[..., Any], entry_id: str) -> None:
        self._fn = fn
        self._arity = _Arity(entry_id, fn)

    async def run(self, runtime: WorkflowRuntime, args: Sequence[Any]) -> Any:
        # Set, never reset: the value lives in the workflow's own task context, and a reset
        # from a coroutine closed elsewhere (worker shutdown, cache eviction) would raise.
        bind_runtime(runtime)
        self._arity.check(args)
        return plain_result(await self._fn(*argument_types(self._fn).convert(args)))


class _PythonFunctionProgram:
    def __init__(self, fn: Callable[..., Any], entry_id: str) -> None:
        self._fn = fn
        self._arity = _Arity(entry_id, fn)

    def call(self, args: Sequence[Any], context: FunctionContext) -> Any:
        self._arity.check(args)
        token = _function_context.set(context)
        try:
            return plain_result(self._fn(*argument_types(self._fn).convert(args)))
        finally:
            _function_context.reset(token)


class _AsyncPythonFunctionProgram:
    def __init__(self, fn: Callable[..., Any], entry_id: str) -> None:
        self._fn = fn
        self._arity = _Arity(entry_id, fn)

    async def call(self, args: Sequence[Any], context: FunctionContext) -> Any:
        self._arity.check(args)
        token = _function_context.set(context)
        try:
            return plain_result(await self._fn(*argument_types(self._fn).convert(args)))
        finally:
            _function_context.reset(token)


class PythonEngine:
    """Loads `workflow.py`, `function.py` and `process.py` entries (an `wflow.model.Engine`).

    Attributes:
        kinds: `workflow.py`, `function.py` and `process.py` (a process is loaded as a
            workflow program is, and run against a process runtime).
        sandbox_passthrough: None beyond wflow's own: a Python workflow's modules are
            re-imported inside Temporal's sandbox, which is the point of it.
    """

    kinds: frozenset[str] = frozenset({"workflow.py", "function.py", "process.py"})
    sandbox_passthrough: tuple[str, ...] = ()

    def workflow_program(self, entry: Entry, registry: Registry) -> _PythonWorkflowProgram:
        """Return the program of a Python workflow entry.

        The module is imported again here, with the importer in effect (inside a workflow
        run: Temporal's sandbox), so each run gets a fresh copy under its restrictions.

        Raises:
            WflowError: `INVALID` when the entry is not a Python entry or its callable is
                not an `async def` function.
        """
        fn = registry.python_target(entry, fresh=True)
        if not inspect.iscoroutinefunction(fn):
            assert isinstance(entry, PythonEntry)  # python_target refuses any other
            raise WflowError(
                f"workflow {entry.id}: {entry.module}.{entry.method} must be an async function",
                ErrorKind.INVALID,
            )
        return _PythonWorkflowProgram(fn, entry.id)

    def function_program(
        self, entry: Entry, registry: Registry
    ) -> _PythonFunctionProgram | _AsyncPythonFunctionProgram:
        """Return the program of a Python function entry (sync or async).

        Raises:
            WflowError: `INVALID` when the entry is not a Python entry.
        """
        fn = registry.python_target(entry, fresh=True)
        if inspect.iscoroutinefunction(fn):
            return _AsyncPythonFunctionProgram(fn, entry.id)
        return _PythonFunctionProgram(fn, entry.id)

    def needs_sandbox(self, entry: Entry) -> bool:
        """Return the entry's `sandboxed` flag (True unless the workflow opted out)."""
        return isinstance(entry, WorkflowPyEntry) and entry.sandboxed

    def check(self, entry: Entry, registry: Registry) -> list[Problem]:
        """Return the problems of the DSL calls in the entry's module (`wflow validate`).

        Loading the project already imported every Python callable (the registry reports
        modules that do not import, missing attributes, decorator mismatches). This reads the
        module's source with `ast`: string-literal targets of `funcs.call/start/async_`,
        `process.spawn/spawn_monitored/exec` and `workflow.exec` that name no entry of the
        right kind (or a function no started worker serves), and names a DSL module does not
        have (`funcs.cal`), each at the source's `file.py:line` with a suggestion.
        """
        if not isinstance(registry, Registry):
            return []
        return python_problems(entry, registry)
