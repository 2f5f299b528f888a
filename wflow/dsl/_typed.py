"""Typed payloads: pydantic models and dataclasses in the signatures of Python entries.

A workflow's or function's parameters annotated with a pydantic model or a dataclass (or a
container of them) are validated and converted when the call arrives; a result that is (or
holds) one is turned back into plain JSON data. The JSON on the wire stays the same, so a Lua
workflow calls a typed Python function with plain tables. A wrong shape fails the call with a
non-retryable `INVALID` naming the parameter and the field path: the same input would fail the
same way on every retry.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable, Sequence
from typing import Any

import pydantic
import pydantic_core

from wflow.model import ErrorKind, WflowError

__all__ = ["ArgumentTypes", "argument_types", "plain_result"]


def _is_structured(annotation: Any) -> bool:
    if inspect.isclass(annotation) and (
        issubclass(annotation, pydantic.BaseModel) or dataclasses.is_dataclass(annotation)
    ):
        return True
    return any(_is_structured(arg) for arg in typing.get_args(annotation))


class ArgumentTypes:
    """The typed parameters of one callable, and how to convert arguments for it."""

    def __init__(self, fn: Callable[..., Any], adapters: dict[int, tuple[str, Any]]) -> None:
        self._name = getattr(fn, "__qualname__", repr(fn))
        self._adapters = adapters

    def convert(self, args: Sequence[Any]) -> list[Any]:
        """Return `args` with each typed one validated and converted.

        Raises:
            WflowError: `INVALID`, not retryable, naming the parameter and the field path.
        """
        out = list(args)
        for index, (name, adapter) in self._adapters.items():
            if index >= len(out):
                continue
            try:
                out[index] = adapter.validate_python(out[index])
            except pydantic.ValidationError as exc:
                problems = [
                    {
                        "path": ".".join(str(p) for p in (name, *err["loc"])),
                        "message": err["msg"],
                    }
                    for err in exc.errors()
                ]
                text = "; ".join(f"{p['path']}: {p['message']}" for p in problems)
                raise WflowError(
                    f"{self._name}: invalid argument {text}",
                    ErrorKind.INVALID,
                    retryable=False,
                    details={"errors": problems},
                ) from None
        return out


@functools.cache
def argument_types(fn: Callable[..., Any]) -> ArgumentTypes:
    """Return the typed parameters of `fn` (positional ones annotated with models)."""
    try:
        hints = typing.get_type_hints(fn)
    except (NameError, TypeError):
        hints = {}
    adapters: dict[int, tuple[str, Any]] = {}
    params = [
        p
        for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    for index, param in enumerate(params):
        annotation = hints.get(param.name)
        if annotation is not None and _is_structured(annotation):
            adapters[index] = (param.name, pydantic.TypeAdapter(annotation))
    return ArgumentTypes(fn, adapters)


def _holds_model(value: Any) -> bool:
    if isinstance(value, pydantic.BaseModel) or (
        dataclasses.is_dataclass(value) and not isinstance(value, type)
    ):
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_model(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_model(item) for item in value.values())
    return False


def plain_result(value: Any) -> Any:
    """Return `value` as plain JSON data when it is or holds a model or dataclass.

    Anything else is returned as it is (and checked as JSON data by the executor).
    """
    return pydantic_core.to_jsonable_python(value) if _holds_model(value) else value
