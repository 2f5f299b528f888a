"""Programs: what an entry becomes once its engine (Python or Lua) has loaded it.

The Temporal executor runs every workflow and function through these two protocols, so it
never needs to know which language an entry is written in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from wflow.model._runtime import ProcessClient, WorkflowRuntime

__all__ = ["FunctionContext", "FunctionProgram", "WorkflowProgram"]


class WorkflowProgram(Protocol):
    """A loaded workflow entry."""

    async def run(self, runtime: WorkflowRuntime, args: Sequence[Any]) -> Any:
        """Run the workflow to its end.

        Returns:
            The JSON-compatible result.

        Raises:
            WflowError: The workflow failed (Lua: it returned `nil, err`); this fails the
                workflow execution with that kind.
            Exception: Any other exception is a bug in the workflow code; it fails the
                workflow *task*, so a fixed deploy can resume the workflow.
        """
        ...


@dataclasses.dataclass(frozen=True)
class FunctionContext:
    """What a function call knows about itself besides its arguments.

    Attributes:
        entry_id: The function entry being called.
        attempt: The attempt number, starting at 1.
        workflow_id: The calling workflow's ID, or None when not called from a workflow.
        values: Values the caller attached with `with_context`.
        processes: The process API (spawn, send, ...) for code running in this call, or
            None where no Temporal client is at hand.
        heartbeat_details: The details of the previous attempt's last heartbeat (empty on
            the first attempt): where a retried call resumes.
        heartbeater: Records a heartbeat with details; None where there is no server.
        cancel_requested: Whether the caller asked to cancel the call; None where there is
            no server. Cancellation reaches a function through its heartbeats.
    """

    entry_id: str
    attempt: int = 1
    workflow_id: str | None = None
    values: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    processes: ProcessClient | None = None
    heartbeat_details: Sequence[Any] = ()
    heartbeater: Callable[..., None] | None = None
    cancel_requested: Callable[[], bool] | None = None

    def heartbeat(self, *details: Any) -> None:
        """Tell Temporal the call is alive, with `details` a retry can read back.

        Needed for `heartbeat_timeout` and for cancellation to reach the function.
        """
        if self.heartbeater is not None:
            self.heartbeater(*details)

    def is_cancelled(self) -> bool:
        """Return whether cancellation of this call was requested (seen at a heartbeat)."""
        return self.cancel_requested is not None and self.cancel_requested()


class FunctionProgram(Protocol):
    """A loaded function entry; called on a worker thread, never inside a workflow."""

    def call(self, args: Sequence[Any], context: FunctionContext) -> Any:
        """Run the function once.

        Returns:
            The JSON-compatible result.

        Raises:
            WflowError: The function failed with that kind (Lua: returned `nil, err`).
        """
        ...
