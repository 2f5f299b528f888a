"""Value types of entry fields: durations and byte sizes, with their JSON Schema."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, PlainValidator, WithJsonSchema

from wflow.model import WflowError, format_duration, parse_byte_size, parse_duration

__all__ = ["ByteSize", "Duration", "DurationOrNever"]


def _to_duration(value: Any) -> Any:
    if isinstance(value, (str, int, float, timedelta)):
        try:
            return parse_duration(value)
        except WflowError as error:
            raise ValueError(error.message) from None
    return value


def _format_duration(value: timedelta) -> str:
    return format_duration(value)


_DURATION_TEXT: dict[str, Any] = {
    "type": "string",
    "pattern": r"^(\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)(.*)$|^0$",
}
_SECONDS: dict[str, Any] = {"type": "number", "minimum": 0}

Duration = Annotated[
    timedelta,
    BeforeValidator(_to_duration),
    PlainSerializer(_format_duration, when_used="json"),
    WithJsonSchema({"anyOf": [_DURATION_TEXT, _SECONDS], "examples": ["10s", "1h30m", "250ms"]}),
]
"""A duration: a string like `"10s"` / `"1h30m"` or a number of seconds."""


def _to_duration_or_never(value: Any) -> timedelta | str:
    if value == "never":
        return "never"
    if isinstance(value, bool) or not isinstance(value, (str, int, float, timedelta)):
        raise ValueError(f"expected a duration like '10s' or 'never', got {value!r}")
    try:
        result: timedelta = _to_duration(value)
    except ValueError as exc:
        raise ValueError(f"{exc}; or 'never'") from None
    return result


def _format_duration_or_never(value: timedelta | str) -> str:
    return value if isinstance(value, str) else _format_duration(value)


DurationOrNever = Annotated[
    timedelta | str,
    PlainValidator(_to_duration_or_never),
    PlainSerializer(_format_duration_or_never, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [_DURATION_TEXT, _SECONDS, {"const": "never"}],
            "examples": ["10s", "0s", "never"],
        }
    ),
]
"""A duration (as `Duration`), or `"never"`."""


def _to_byte_size(value: Any) -> Any:
    if isinstance(value, (str, int)):
        return parse_byte_size(value)
    return value


ByteSize = Annotated[
    int,
    BeforeValidator(_to_byte_size),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*([KkMmGgTt][Ii]?[Bb]|[Bb])?\s*$"},
            ],
            "examples": [67108864, "64MiB", "32MB"],
        }
    ),
]
"""A size in bytes: an integer or a string with a unit (`"64MiB"`, `"32MB"`)."""
