"""Runs decorated (or YAML-declared) Python callables as workflow and function programs."""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from wflow.model import (
    ErrorKind,
    FunctionContext,
    WflowError,
    WorkflowRuntime,
    bind_runtime,
)

__all__ = ["PythonEngine", "current_function_context"]

_function_context: contextvars.ContextVar[FunctionContext | None] = contextvars.ContextVar(
    "wflow_function_context", default=None
)


def current_function_context() -> FunctionContext | None:
    """Return the context of the function call running in this task, if any."""
    return _function_context.get()


def _import_target(module_name: str, qualname: str) -> Callable[..., Any]:
    # builtins.__import__ rather than importlib: inside Temporal's sandbox it is the sandbox's
    # importer, so the user module is loaded fresh and under the sandbox's restrictions.
    module = __import__(module_name, fromlist=["__name__"])
    target: Any = module
    for part in qualname.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise TypeError(f"{module_name}.{qualname} is not callable")
    unwrapped: Callable[..., Any] = inspect.unwrap(target)
    return unwrapped


class _PythonWorkflowProgram:
    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn

    async def run(self, runtime: WorkflowRuntime, args: Sequence[Any]) -> Any:
        # Set, never reset: the value lives in the workflow's own task context, and a reset
        # from a coroutine closed elsewhere (worker shutdown, cache eviction) would raise.
        bind_runtime(runtime)
        return await self._fn(*args)


class _PythonFunctionProgram:
    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn

    def call(self, args: Sequence[Any], context: FunctionContext) -> Any:
        token = _function_context.set(context)
        try:
            return self._fn(*args)
        finally:
            _function_context.reset(token)


class _AsyncPythonFunctionProgram:
    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn

    async def call(self, args: Sequence[Any], context: FunctionContext) -> Any:
        token = _function_context.set(context)
        try:
            return await self._fn(*args)
        finally:
            _function_context.reset(token)


class PythonEngine:
    """Loads `workflow.py` and `function.py` entries."""

    def workflow_program(self, entry: Any, registry: Any) -> _PythonWorkflowProgram:
        """Return the program of a Python workflow entry (importing its module here)."""
        fn = _import_target(entry.module, entry.method)
        if not inspect.iscoroutinefunction(fn):
            raise WflowError(
                f"workflow {entry.id}: {entry.module}.{entry.method} must be an async function",
                ErrorKind.INVALID,
            )
        return _PythonWorkflowProgram(fn)

    def function_program(
        self, entry: Any, registry: Any
    ) -> _PythonFunctionProgram | _AsyncPythonFunctionProgram:
        """Return the program of a Python function entry."""
        fn = _import_target(entry.module, entry.method)
        if inspect.iscoroutinefunction(fn):
            return _AsyncPythonFunctionProgram(fn)
        return _PythonFunctionProgram(fn)
