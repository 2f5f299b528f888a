"""Resetting a workflow to just before one of its intercepted calls (`wflow reset`).

Temporal's ResetWorkflowExecution starts a new run of the workflow from a workflow task of the
old run's history: everything before that task is kept, the task and what followed are
replayed anew by the (fixed) code. wflow picks the task from the call-level view
(`wflow history`): the task that made step N (its `workflow_task_completed_event_id`), so the
new run makes step N again, and everything after it.
"""

from __future__ import annotations

import dataclasses
import uuid

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import ResetReapplyType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError

from wflow.model import ErrorKind, WflowError
from wflow.temporal._call_history import CallStep, call_steps

__all__ = ["ResetPoint", "reset_point", "reset_workflow"]


@dataclasses.dataclass(frozen=True)
class ResetPoint:
    """Where a reset goes back to.

    Attributes:
        step: The step the new run makes again (and everything after it).
        event_id: The workflow task event Temporal resets to (the task that made the step).
    """

    step: CallStep
    event_id: int


def _task_of(event: HistoryEvent) -> int:
    """The `workflow_task_completed_event_id` of a command event (0 when it has none)."""
    attributes = event.WhichOneof("attributes")
    if attributes is None:
        return 0
    return int(getattr(getattr(event, attributes), "workflow_task_completed_event_id", 0) or 0)


def reset_point(
    history: WorkflowHistory, *, to_call: int | None = None, to_last_failure: bool = False
) -> ResetPoint:
    """Find the reset point: before step `to_call`, or before the last failed call.

    Args:
        history: The workflow's history.
        to_call: A step number as `wflow history` prints it; the step must be one the code
            made (a call, timer, message sent, child, ...).
        to_last_failure: Instead, the last function call (or child) that failed.

    Raises:
        WflowError: `INVALID` for a step that does not exist or that the code did not make;
            `NOT_FOUND` when `to_last_failure` finds no failed call.
    """
    steps = call_steps(history)
    by_id = {event.event_id: event for event in history.events}
    if to_last_failure:
        failed = [s for s in steps if s.kind in ("call", "child") and s.status == "error"]
        if not failed:
            raise WflowError(
                "no failed function call in the workflow's history (see `wflow history`)",
                ErrorKind.NOT_FOUND,
            )
        step = failed[-1]
    else:
        if to_call is None or not 1 <= to_call <= len(steps):
            raise WflowError(
                f"no step {to_call}: the history has steps 1..{len(steps)} (see `wflow history`)",
                ErrorKind.INVALID,
            )
        step = steps[to_call - 1]
        if not step.is_command:
            raise WflowError(
                f"step {to_call} ({step.call_text()}) was not made by the workflow's code; "
                "give a call, timer, message sent or child step",
                ErrorKind.INVALID,
            )
    task = _task_of(by_id[step.event_id]) if step.event_id in by_id else 0
    if task <= 0:
        raise WflowError(
            f"step {step.number} ({step.call_text()}) has no workflow task to reset to",
            ErrorKind.INVALID,
        )
    return ResetPoint(step=step, event_id=task)


async def reset_workflow(
    client: Client, workflow_id: str, run_id: str, point: ResetPoint, reason: str
) -> str:
    """Reset `workflow_id`'s run `run_id` to `point`; return the new run's ID.

    Signals the old run received after the point are applied to the new run again.

    Raises:
        WflowError: `INVALID` when the server refuses the reset.
    """
    request = ResetWorkflowExecutionRequest(
        namespace=client.namespace,
        workflow_execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
        reason=reason,
        workflow_task_finish_event_id=point.event_id,
        request_id=str(uuid.uuid4()),
        reset_reapply_type=ResetReapplyType.RESET_REAPPLY_TYPE_SIGNAL,
    )
    try:
        response = await client.workflow_service.reset_workflow_execution(request)
    except RPCError as exc:
        raise WflowError(f"reset refused: {exc.message}", ErrorKind.INVALID) from None
    return str(response.run_id)
