"""Process operations between OS processes, through Temporal (no second broker).

Every instance of a `process.host` runs two small Temporal workers: one on the host's task
queue (`wflow-processes/<host>`, shared by its instances: spawns and name lookups) and one on
its instance's queue (`wflow-processes/<host>/<instance>`: messages, cancels, terminates and
`EXIT` events for the processes it holds). Both serve one activity, `OP_ACTIVITY`, which runs
the operation on the host (`ProcessRouter.local_op`).

- A **workflow** runs that activity itself (`workflow_op`): the operation is then an event of
  the workflow's history, and a replay reads its outcome from there instead of sending again.
- **Everything else** (processes, functions, outside code) starts a short relay workflow on
  the target queue (`relay`), which runs the activity there and returns its outcome.

Guarantee: **at most once**. The activity has one attempt (`maximum_attempts=1`): a message is
put in the mailbox once or not at all, and the sender hears which (or a `TIMEOUT` when the
host did not answer in time, in which case the message may or may not have arrived). A retry
could deliver twice, and a process keeps no history to notice. A message to a process whose
host instance is gone fails with `NOT_FOUND` / `TIMEOUT`; it is not kept for later (the process
is gone with its memory).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import temporalio.exceptions
from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.service import RPCError
from temporalio.worker import Worker

from wflow.model import ErrorKind, WflowError
from wflow.temporal._error_mapping import to_application_error, to_wflow_error
from wflow.temporal._process_host import ProcessHost, host_queue
from wflow.temporal._process_router import ProcessRouter

__all__ = [
    "OP_ACTIVITY",
    "OP_TIMEOUT",
    "RELAY_WORKFLOW",
    "ProcessRelay",
    "describe_op",
    "host_workers",
    "relay",
    "workflow_op",
]

OP_ACTIVITY = "wflow.processes:op"
"""The activity that runs one process operation on a host instance."""

RELAY_WORKFLOW = "wflow.processes:relay"
"""The workflow that runs `OP_ACTIVITY` for callers that are not workflows."""

OP_TIMEOUT = timedelta(seconds=10)
"""How long a host instance has to pick up and run one operation."""

_ONCE = RetryPolicy(maximum_attempts=1)


def describe_op(op: str, params: Mapping[str, Any]) -> str:
    """Return what operation `op` does, in a line (`send <pid> <topic>`, `spawn <entry> on ...`).

    It is the activity's summary: progress lines and the Temporal UI show it instead of the
    activity's name, which is the same for every operation.
    """
    if op == "send":
        return f"send {params.get('pid')} {params.get('topic')}"
    if op == "spawn":
        return f"spawn {params.get('entry')} on {params.get('host')}"
    if op in ("cancel", "terminate", "monitor", "unmonitor", "link", "unlink", "link_down"):
        return f"{op} {params.get('pid')}"
    if op == "lookup":
        return f"lookup {params.get('name')} on {params.get('host')}"
    if op == "exit":
        event = params.get("event")
        origin = event.get("from") if isinstance(event, Mapping) else None
        return f"EXIT of {origin} to {params.get('monitor')}"
    if op == "list":
        return f"list processes on {params.get('host')}"
    return f"process operation {op}"


async def workflow_op(queue: str, op: str, params: Mapping[str, Any]) -> Any:
    """Run process operation `op` on `queue` from a workflow (recorded in its history).

    Raises:
        WflowError: The operation's error; `TIMEOUT` when no host instance ran it in time.
    """
    try:
        return await workflow.execute_activity(
            OP_ACTIVITY,
            args=[op, dict(params)],
            task_queue=queue,
            schedule_to_start_timeout=OP_TIMEOUT,
            start_to_close_timeout=OP_TIMEOUT,
            retry_policy=_ONCE,
            summary=describe_op(op, params),
        )
    except temporalio.exceptions.ActivityError as exc:
        raise to_wflow_error(exc) from None


@workflow.defn(name=RELAY_WORKFLOW, sandboxed=False)
class ProcessRelay:
    """Runs one process operation on its queue for a caller outside workflows."""

    @workflow.run
    async def run(self, op: str, params: dict[str, Any]) -> Any:
        """Run `op` with `params` on this workflow's task queue; return its outcome."""
        try:
            return await workflow_op(workflow.info().task_queue, op, params)
        except WflowError as exc:
            raise to_application_error(exc, non_retryable=True) from None


async def relay(
    client: Client,
    queue: str,
    op: str,
    params: Mapping[str, Any],
    timeout: timedelta = OP_TIMEOUT * 2,
) -> Any:
    """Run process operation `op` on `queue` through a relay workflow and return its outcome.

    `timeout` bounds the whole relay (no instance polling `queue`: `TIMEOUT` after it).

    Raises:
        WflowError: The operation's error; `TIMEOUT` when no host instance ran it in time.
    """
    try:
        return await client.execute_workflow(
            RELAY_WORKFLOW,
            args=[op, dict(params)],
            id=f"wflow-process-op-{uuid.uuid4().hex}",
            task_queue=queue,
            execution_timeout=timeout,
        )
    except WorkflowFailureError as exc:
        error = to_wflow_error(exc.cause)
        if error.kind is ErrorKind.TIMEOUT or "timed out" in error.message:
            raise WflowError(
                f"no instance of the process host answered on {queue} in time",
                ErrorKind.TIMEOUT,
            ) from None
        raise error from None
    except RPCError as exc:
        raise WflowError(f"process operation {op}: {exc.message}", ErrorKind.UNAVAILABLE) from None


def _op_activity(router: ProcessRouter) -> Any:
    @activity.defn(name=OP_ACTIVITY)
    async def process_op(op: str, params: dict[str, Any]) -> Any:
        try:
            return await router.local_op(op, params)
        except WflowError as exc:
            raise to_application_error(exc, non_retryable=True) from None

    return process_op


def host_workers(client: Client, host: ProcessHost, router: ProcessRouter) -> list[Worker]:
    """Return the two Temporal workers of one host instance (host queue, instance queue)."""
    operation = _op_activity(router)
    return [
        Worker(
            client,
            task_queue=queue,
            workflows=[ProcessRelay],
            activities=[operation],
        )
        for queue in (host_queue(host.registry, host.host_id), host.instance_queue)
    ]
