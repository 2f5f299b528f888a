"""Error kinds and the one error type that crosses every boundary (SPEC §2, §4)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

__all__ = ["ErrorKind", "WflowError", "error_is", "new_error", "wrap_error"]


class ErrorKind(str, enum.Enum):
    """The kinds an error can have; the same names in Lua (`errors.INVALID`) and Python."""

    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    INVALID = "INVALID"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"
    CANCELED = "CANCELED"
    CONFLICT = "CONFLICT"
    TIMEOUT = "TIMEOUT"
    RATE_LIMITED = "RATE_LIMITED"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def parse(cls, value: str | ErrorKind | None) -> ErrorKind:
        """Return the kind named by `value`; unknown names become `UNKNOWN`."""
        if isinstance(value, ErrorKind):
            return value
        if value is None:
            return cls.UNKNOWN
        try:
            return cls(value.upper())
        except ValueError:
            return cls.UNKNOWN


# Kinds that describe the request itself stay wrong on a retry; the others are transient.
_NOT_RETRYABLE_BY_DEFAULT = frozenset(
    {
        ErrorKind.NOT_FOUND,
        ErrorKind.ALREADY_EXISTS,
        ErrorKind.INVALID,
        ErrorKind.PERMISSION_DENIED,
        ErrorKind.CANCELED,
    }
)


class WflowError(Exception):
    """An error with a kind, a message, a retry hint and optional details.

    Raised by wflow functions to fail their activity with that kind, and raised in a calling
    workflow when a call fails. The Lua side sees the same error as `nil, err`.

    Attributes:
        kind: The error kind.
        message: Human-readable message, without the kind prefix.
        retryable: Whether a retry may succeed. Defaults by kind: `NOT_FOUND`,
            `ALREADY_EXISTS`, `INVALID`, `PERMISSION_DENIED` and `CANCELED` are not retryable,
            the others are.
        details: JSON-compatible extra data, or None.
    """

    def __init__(
        self,
        message: str,
        kind: ErrorKind | str = ErrorKind.UNKNOWN,
        *,
        retryable: bool | None = None,
        details: Any = None,
    ) -> None:
        self.kind = ErrorKind.parse(kind)
        self.message = message
        self.retryable = (
            self.kind not in _NOT_RETRYABLE_BY_DEFAULT if retryable is None else retryable
        )
        self.details = details
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"WflowError({self.message!r}, {self.kind.value!r}, retryable={self.retryable!r}, "
            f"details={self.details!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form used in payloads and EXIT events."""
        return {
            "kind": self.kind.value,
            "message": self.message,
            "retryable": self.retryable,
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WflowError:
        """Build an error from the form `to_dict` returns."""
        return cls(
            str(data.get("message", "")),
            str(data.get("kind", "UNKNOWN")),
            retryable=data.get("retryable"),
            details=data.get("details"),
        )


def new_error(
    message: str,
    kind: ErrorKind | str = ErrorKind.UNKNOWN,
    *,
    retryable: bool | None = None,
    details: Any = None,
) -> WflowError:
    """Create an error (Lua: `errors.new`)."""
    return WflowError(message, kind, retryable=retryable, details=details)


def wrap_error(cause: BaseException, message: str) -> WflowError:
    """Wrap an error with context, keeping its kind, retry hint and details (Lua: `errors.wrap`)."""
    if isinstance(cause, WflowError):
        return WflowError(
            f"{message}: {cause.message}",
            cause.kind,
            retryable=cause.retryable,
            details=cause.details,
        )
    return WflowError(f"{message}: {cause}", ErrorKind.UNKNOWN)


def error_is(error: BaseException | None, kind: ErrorKind | str) -> bool:
    """Return whether `error` is a wflow error of `kind` (Lua: `errors.is`)."""
    return isinstance(error, WflowError) and error.kind is ErrorKind.parse(kind)
