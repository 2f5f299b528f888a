"""The Temporal executor: one runtime, workflow classes, activity, workers and sessions."""

from wflow.temporal._client import connect_client
from wflow.temporal._connection import BlockingConnection, Connection, WorkflowSummary, connect
from wflow.temporal._error_mapping import to_application_error, to_wflow_error
from wflow.temporal._project_session import Session, describe_event
from wflow.temporal._servers import (
    DEFAULT_ADDRESS,
    ensure_local_server,
    is_local_address,
    split_address,
)
from wflow.temporal._temporal_runtime import TemporalRuntime
from wflow.temporal._worker import build_workers, sandbox_runner

__all__ = [
    "DEFAULT_ADDRESS",
    "BlockingConnection",
    "Connection",
    "Session",
    "TemporalRuntime",
    "WorkflowSummary",
    "build_workers",
    "connect",
    "connect_client",
    "describe_event",
    "ensure_local_server",
    "is_local_address",
    "sandbox_runner",
    "split_address",
    "to_application_error",
    "to_wflow_error",
]
