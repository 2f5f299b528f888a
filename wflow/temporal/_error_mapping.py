"""Mapping between `WflowError` and Temporal failures, in both directions."""

from __future__ import annotations

from typing import Any

from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    ChildWorkflowError,
    FailureError,
    TerminatedError,
    TimeoutError,
)

from wflow.model import ErrorKind, WflowError

__all__ = ["to_application_error", "to_wflow_error"]

# The message of the TimeoutError temporalio's client raises for a timed-out workflow.
_WORKFLOW_TIMED_OUT = "Workflow timed out"


def to_application_error(
    error: WflowError, *, non_retryable: bool | None = None
) -> ApplicationError:
    """Return the Temporal failure that carries `error` across the wire.

    This is the one place a wflow error becomes an `ApplicationError`: its type is the kind,
    its one detail the error's details (when there are any).

    Args:
        error: The error.
        non_retryable: Overrides `not error.retryable`, for failures where Temporal must not
            retry whatever the kind says (an update's answer, an unknown activity).
    """
    details: tuple[Any, ...] = () if error.details is None else (error.details,)
    if non_retryable is None:
        non_retryable = not error.retryable
    return ApplicationError(
        error.message, *details, type=error.kind.value, non_retryable=non_retryable
    )


def to_wflow_error(error: BaseException) -> WflowError:
    """Return the wflow error a caller sees for a Temporal failure."""
    if isinstance(error, WflowError):
        return error
    cause: BaseException | None = error
    # Activity and child-workflow errors wrap the interesting failure as their cause.
    while isinstance(cause, (ActivityError, ChildWorkflowError)) and cause.cause is not None:
        cause = cause.cause
    if isinstance(cause, ApplicationError):
        kind = ErrorKind.parse(cause.type)
        message = cause.message
        if kind is ErrorKind.UNKNOWN and cause.type and cause.type != ErrorKind.UNKNOWN.value:
            message = f"{cause.type}: {message}"
        details = cause.details[0] if cause.details else None
        return WflowError(message, kind, retryable=not cause.non_retryable, details=details)
    if isinstance(cause, TimeoutError):
        if cause.message == _WORKFLOW_TIMED_OUT:
            # temporalio's client says START_TO_CLOSE for a workflow's own execution or run
            # timeout, which reads like an activity's; name the workflow's timeouts instead.
            return WflowError(
                "the workflow timed out (its execution_timeout or run_timeout ran out)",
                ErrorKind.TIMEOUT,
            )
        return WflowError(f"timed out ({cause.type.name if cause.type else 'unknown'})", "TIMEOUT")
    if isinstance(cause, (CancelledError, TerminatedError)):
        return WflowError(str(cause) or "canceled", ErrorKind.CANCELED)
    if isinstance(cause, FailureError):
        return WflowError(str(cause), ErrorKind.UNKNOWN)
    return WflowError(f"{type(error).__name__}: {error}", ErrorKind.UNKNOWN)
