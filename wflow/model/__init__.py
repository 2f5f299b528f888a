"""The intercepted-call model shared by Lua and Python workflows.

Error kinds, durations, call options, channels and the `WorkflowRuntime` protocol that the
Temporal executor implements once for both authoring styles. This package imports neither
Temporal nor Lua.

Exception tree:

    Exception
    └── WflowError          kind, message, retryable, details
"""

from wflow.model._channel import Channel, SelectResult, select
from wflow.model._duration import format_duration, parse_duration
from wflow.model._errors import ErrorKind, WflowError, error_is, new_error, wrap_error
from wflow.model._options import DEFAULT_START_TO_CLOSE, ActivityOptions, RetryPolicy
from wflow.model._program import FunctionContext, FunctionProgram, WorkflowProgram
from wflow.model._runtime import (
    CallHandle,
    WorkflowInfo,
    WorkflowRuntime,
    bind_runtime,
    current_runtime,
    in_workflow,
)
from wflow.model._sources import after_channel, result_channel

__all__ = [
    "DEFAULT_START_TO_CLOSE",
    "ActivityOptions",
    "CallHandle",
    "Channel",
    "ErrorKind",
    "FunctionContext",
    "FunctionProgram",
    "RetryPolicy",
    "SelectResult",
    "WflowError",
    "WorkflowInfo",
    "WorkflowProgram",
    "WorkflowRuntime",
    "after_channel",
    "bind_runtime",
    "current_runtime",
    "error_is",
    "format_duration",
    "in_workflow",
    "new_error",
    "parse_duration",
    "result_channel",
    "select",
    "wrap_error",
]
