"""The Temporal executor: one runtime, workflow classes, activity, workers and sessions."""

from wflow.temporal._call_history import (
    COMMAND_KINDS,
    CallStep,
    call_steps,
    describe_steps,
    steps_to_json,
)
from wflow.temporal._client import connect_client
from wflow.temporal._connection import BlockingConnection, Connection, WorkflowSummary, connect
from wflow.temporal._error_mapping import to_application_error, to_wflow_error
from wflow.temporal._history_files import read_history_file
from wflow.temporal._project_session import Session, describe_event
from wflow.temporal._replay_check import CodeCall, ReplayOutcome, diagnose, replay_history
from wflow.temporal._servers import (
    DEFAULT_ADDRESS,
    ensure_local_server,
    is_local_address,
    split_address,
)
from wflow.temporal._temporal_runtime import TemporalRuntime
from wflow.temporal._worker import build_workers, sandbox_runner

__all__ = [
    "COMMAND_KINDS",
    "DEFAULT_ADDRESS",
    "BlockingConnection",
    "CallStep",
    "CodeCall",
    "Connection",
    "ReplayOutcome",
    "Session",
    "TemporalRuntime",
    "WorkflowSummary",
    "build_workers",
    "call_steps",
    "connect",
    "connect_client",
    "describe_event",
    "describe_steps",
    "diagnose",
    "ensure_local_server",
    "is_local_address",
    "read_history_file",
    "replay_history",
    "sandbox_runner",
    "split_address",
    "steps_to_json",
    "to_application_error",
    "to_wflow_error",
]
