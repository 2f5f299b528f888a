"""Pydantic validation errors rewritten as short human messages, each with its field path."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

__all__ = ["describe_error", "format_loc"]

_SCALARS = (str, int, float, bool, type(None))


def format_loc(loc: tuple[str | int, ...]) -> str:
    """`('auth', 'api_key')` -> `auth.api_key`; `('modules', 1)` -> `modules[1]`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _model_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model that holds the field at `loc` (the parent of its last part)."""
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        if current is None or not isinstance(part, str):
            return None
        field = _field(current, part)
        if field is None:
            return None
        current = _model_in(field.annotation)
    return current


def _field(model: type[BaseModel], name: str) -> Any:
    for field_name, field in model.model_fields.items():
        if name in (field_name, field.alias):
            return field
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _known_fields(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def describe_error(error: ErrorDetails, model: type[BaseModel]) -> str:
    """Rewrite one pydantic error as a short message naming the field; no pydantic URLs."""
    loc = tuple(error["loc"])
    field = format_loc(loc)
    kind = error["type"]
    if kind == "missing":
        return f"missing required field '{field}'"
    if kind == "extra_forbidden":
        message = f"unknown field '{field}'"
        parent = _model_at(model, loc)
        if parent is not None and isinstance(loc[-1], str):
            known = _known_fields(parent)
            close = difflib.get_close_matches(loc[-1], known, n=1)
            if close:
                message += f" (did you mean '{close[0]}'?)"
            else:
                message += f" (known fields: {', '.join(known)})"
        return message
    if kind in ("value_error", "assertion_error"):
        context = error.get("ctx") or {}
        text = str(context.get("error", error["msg"]))
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        text = "must be a mapping"
    elif kind == "list_type":
        text = "must be a list"
    else:
        text = error["msg"]
        if text.startswith("Input should be "):
            text = "must be " + text[len("Input should be ") :]
        elif text.startswith("String should "):
            text = "must " + text[len("String should ") :]
        value = error.get("input")
        if isinstance(value, _SCALARS):
            text += f" (got {value!r})"
    return f"field '{field}': {text}" if field else text
