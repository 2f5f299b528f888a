"""Context values (Lua: the `ctx` module), in workflows and in functions.

In a workflow: what its starter attached (Wippy's `process.with_context`). In a function: the
calling workflow's context plus the call's `funcs.new().with_context(...)` values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wflow.dsl._python_engine import current_function_context
from wflow.model import ErrorKind, WflowError, current_runtime, in_workflow

__all__ = ["all", "get"]


def _values() -> Mapping[str, Any]:
    if in_workflow():
        return current_runtime().info().context
    context = current_function_context()
    if context is None:
        raise WflowError("ctx: no context available here", ErrorKind.INTERNAL)
    return context.values


def get(key: str) -> Any:
    """Return the context value `key`.

    Raises:
        WflowError: `INVALID` for an empty key, `NOT_FOUND` when there is no such value.
    """
    if not isinstance(key, str) or not key:
        raise WflowError("ctx.get: key must be a non-empty string", ErrorKind.INVALID)
    values = _values()
    if key not in values:
        raise WflowError(f"ctx.get: no context value {key!r}", ErrorKind.NOT_FOUND)
    return values[key]


def all() -> dict[str, Any]:
    """Return every context value."""
    return dict(_values())
