"""The intercepted-call model shared by Lua and Python workflows.

Error kinds, durations, call options, channels and the `WorkflowRuntime` protocol that the
Temporal executor implements once for both authoring styles. This package imports neither
Temporal nor Lua.

Exception tree (this package's part; the whole tree is drawn in `wflow.exceptions`):

    Exception
    └── WflowError          kind, message, retryable, details
"""

from wflow.model._arguments import argument_count_error
from wflow.model._call_site import call_site, current_call_site, python_call_site
from wflow.model._channel import Channel, SelectResult, select
from wflow.model._duration import format_duration, parse_duration
from wflow.model._engine import (
    ENGINE_ENTRY_POINT_GROUP,
    Engine,
    engine_for,
    has_engine,
    register_engine,
)
from wflow.model._errors import ErrorKind, WflowError, error_is, new_error, wrap_error
from wflow.model._links import (
    CANCEL,
    EVENT_KINDS,
    EXIT,
    LINK_DOWN,
    Peers,
    link_down_first,
    link_failure,
)
from wflow.model._messages import (
    DEFAULT_MAILBOX_BOUND,
    UPDATE_PID_PREFIX,
    Event,
    Mailbox,
    Message,
    format_pid,
    message_payload,
    parse_pid,
)
from wflow.model._options import DEFAULT_START_TO_CLOSE, ActivityOptions, RetryPolicy, SpawnOptions
from wflow.model._program import FunctionContext, FunctionProgram, WorkflowProgram
from wflow.model._real_sources import RealSources
from wflow.model._runtime import (
    CallHandle,
    ProcessClient,
    WorkflowInfo,
    WorkflowRuntime,
    bind_runtime,
    current_runtime,
    in_workflow,
)
from wflow.model._sizes import parse_byte_size
from wflow.model._sources import after_channel, result_channel, ticker_channel
from wflow.model._spawn_request import SpawnRequest
from wflow.model._timelayout import LAYOUTS, format_layout, load_zone, parse_layout, zone_offset
from wflow.model._uuids import format_uuid, make_uuid1, make_uuid7, uuid_facts

__all__ = [
    "CANCEL",
    "DEFAULT_MAILBOX_BOUND",
    "DEFAULT_START_TO_CLOSE",
    "ENGINE_ENTRY_POINT_GROUP",
    "EVENT_KINDS",
    "EXIT",
    "LAYOUTS",
    "LINK_DOWN",
    "UPDATE_PID_PREFIX",
    "ActivityOptions",
    "CallHandle",
    "Channel",
    "Engine",
    "ErrorKind",
    "Event",
    "FunctionContext",
    "FunctionProgram",
    "Mailbox",
    "Message",
    "Peers",
    "ProcessClient",
    "RealSources",
    "RetryPolicy",
    "SelectResult",
    "SpawnOptions",
    "SpawnRequest",
    "WflowError",
    "WorkflowInfo",
    "WorkflowProgram",
    "WorkflowRuntime",
    "after_channel",
    "argument_count_error",
    "bind_runtime",
    "call_site",
    "current_call_site",
    "current_runtime",
    "engine_for",
    "error_is",
    "format_duration",
    "format_layout",
    "format_pid",
    "format_uuid",
    "has_engine",
    "in_workflow",
    "link_down_first",
    "link_failure",
    "load_zone",
    "make_uuid1",
    "make_uuid7",
    "message_payload",
    "new_error",
    "parse_byte_size",
    "parse_duration",
    "parse_layout",
    "parse_pid",
    "python_call_site",
    "register_engine",
    "result_channel",
    "select",
    "ticker_channel",
    "uuid_facts",
    "wrap_error",
    "zone_offset",
]
