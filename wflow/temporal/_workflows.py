"""One Temporal workflow class per workflow entry, all running the same interpreter.

Temporal's sandbox setting is per class and its type name is the entry ID, so each entry gets
a small generated class. The classes live as attributes of this module, which the sandbox
passes through, so the sandbox finds them by name.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import sys
from collections.abc import Coroutine, Sequence
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError, FailureError

from wflow.model import Event, Mailbox, WflowError, engine_for, message_payload
from wflow.registry import Registry, WorkflowEntry
from wflow.temporal._error_mapping import to_application_error
from wflow.temporal._failure_reports import (
    FailureReport,
    FailureSink,
    What,
    error_kind_and_message,
    python_location,
)
from wflow.temporal._headers import signal_sender
from wflow.temporal._payloads import PayloadError, check_payload_sizes, json_problem
from wflow.temporal._temporal_runtime import TemporalRuntime

__all__ = ["run_workflow_entry", "workflow_class"]

_serial = itertools.count(1)


async def run_workflow_entry(
    runtime: TemporalRuntime,
    registry: Registry,
    args: Sequence[Any],
    failures: FailureSink | None = None,
) -> Any:
    """Run the runtime's workflow entry inside the current Temporal workflow.

    Args:
        runtime: The workflow's runtime.
        registry: The project.
        args: The workflow's arguments.
        failures: Told when the workflow's code raises: a `"workflow task"` failure (any
            exception that is no wflow error; Temporal retries the task, so a fixed deploy
            resumes the workflow) or a `"workflow"` failure (a wflow error: the workflow fails).
            The exception goes on to Temporal unchanged.
    """
    runtime.processes.restore_carried()
    entry = registry.get(runtime.info().entry_id)
    # The program's module is imported here, inside the run, on purpose: that gives each run
    # a fresh copy under the sandbox's restrictions, so the sandbox's notice is not needed.
    with workflow.unsafe.sandbox_import_notification_policy(
        workflow.SandboxImportNotificationPolicy.SILENT
    ):
        program = engine_for(entry.kind).workflow_program(entry, registry)
    try:
        # run_main tells monitors and links how the run ended (`_workflow_links`); inside it,
        # a cancellation request becomes a CANCEL event for code that reads events.
        result = await runtime.processes.run_main(
            _run_cancelable(program.run(runtime, list(args)), runtime.mailbox())
        )
        # Checked here, not left to the payload converter, so the message names the entry.
        # Not a wflow error: the workflow task fails (as for a Lua workflow's invalid result)
        # and a fixed deploy resumes the run.
        problem = json_problem(result, "result")
        if problem is not None:
            raise PayloadError(f"{entry.id}: invalid result: {problem}")
        check_payload_sizes(result, entry.id, "result")
        return result
    except WflowError as exc:
        if failures is not None:
            _report(failures, "workflow", entry.id, exc.kind.value, exc.message, exc)
        # The user's frames go along, so Temporal's stack trace of the failure ends in them.
        raise to_application_error(exc).with_traceback(exc.__traceback__) from None
    except Exception as exc:
        if failures is not None:
            if isinstance(exc, ApplicationError):
                _report(failures, "workflow", entry.id, exc.type or "", exc.message, exc)
            elif not isinstance(exc, FailureError):
                _report(failures, "workflow task", entry.id, type(exc).__name__, str(exc), exc)
        raise


async def _run_cancelable(run: Coroutine[Any, Any, Any], mailbox: Mailbox) -> Any:
    """Run the workflow's code; a cancellation request becomes a `CANCEL` event if it reads events.

    Wippy's `process.cancel(pid, reason)`: the workflow sees `CANCEL` (with the reason) on
    `process.events()` and may clean up (call functions, wait) before it ends as it chooses.
    Code that never asked for `events()` is canceled where it waits, as before.
    """
    task = asyncio.ensure_future(run)
    told = False
    while True:
        try:
            # Shielded: Temporal cancels this task on a cancellation request, not the code's.
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            reason = workflow.cancellation_reason()
            if told or task.done() or reason is None or not mailbox.events_read:
                task.cancel()
                return await task
            told = True
            mailbox.post_event(Event("CANCEL", None, reason=_given_reason(reason)))


# What the server makes of a reason when a workflow asked for the cancellation.
_FROM_WORKFLOW = re.compile(r"^Cancel requested by workflow with run id \S+ with reason: ", re.S)


def _given_reason(reason: str) -> str | None:
    """The reason the canceler gave (`process.cancel(pid, reason)`), or None for none."""
    return _FROM_WORKFLOW.sub("", reason, count=1) or None


def _report(
    failures: FailureSink,
    what: What,
    entry_id: str,
    type_name: str,
    message: str,
    error: BaseException,
) -> None:
    # A replay re-raises what was reported when it first happened (queries of a failed run).
    if workflow.unsafe.is_replaying():
        return
    # The sink prints and reads the clock: outside the workflow sandbox's restrictions.
    with workflow.unsafe.sandbox_unrestricted():
        kind, message, location = error_kind_and_message(type_name, message)
        failures(
            FailureReport(
                what=what,
                workflow_id=workflow.info().workflow_id,
                entry_id=entry_id,
                kind=kind or "UNKNOWN",
                message=message,
                location=location or python_location(error),
            )
        )


def _payload(raw: Sequence[RawValue]) -> Any:
    converter = workflow.payload_converter()
    return message_payload([converter.from_payload(item.payload) for item in raw])


class _EntryWorkflow:
    """What every generated workflow class shares: its runtime and message handlers."""

    runtime: TemporalRuntime

    @workflow.signal(dynamic=True)
    def on_signal(self, name: str, args: Sequence[RawValue]) -> None:
        self.runtime.processes.on_signal(name, _payload(args), signal_sender())

    @workflow.update(dynamic=True)
    async def on_update(self, name: str, args: Sequence[RawValue]) -> Any:
        info = workflow.current_update_info()
        assert info is not None
        return await self.runtime.processes.on_update(name, _payload(args), info.id)

    @workflow.query(dynamic=True)
    def on_query(self, name: str, args: Sequence[RawValue]) -> Any:
        return self.runtime.processes.on_query(name)


def workflow_class(
    entry: WorkflowEntry,
    registry: Registry,
    *,
    sandboxed: bool | None = None,
    failures: FailureSink | None = None,
) -> type:
    """Return a new Temporal workflow class whose type name is `entry`'s workflow type.

    Its engine says whether it runs in Temporal's Python sandbox, unless `sandboxed` says so
    (benchmarks measure what the sandbox costs with it). `failures` is told when the
    workflow's code raises (see `run_workflow_entry`).
    """
    entry_id = entry.id
    if sandboxed is None:
        sandboxed = engine_for(entry.kind).needs_sandbox(entry)
    name = f"Workflow{next(_serial)}_{re.sub(r'[^0-9A-Za-z_]', '_', entry_id)}"

    namespace_of_entry = entry.namespace

    def __init__(self: _EntryWorkflow) -> None:
        self.runtime = TemporalRuntime(entry_id, namespace_of_entry, registry)

    async def run(self: _EntryWorkflow, *args: Any) -> Any:
        return await run_workflow_entry(self.runtime, registry, args, failures)

    run.__qualname__ = f"{name}.run"
    namespace = {
        "__init__": __init__,
        "run": workflow.run(run),
        "__module__": __name__,
        "__qualname__": name,
    }
    # The workflow type: the entry ID, or Wippy's `meta.temporal.workflow.name`.
    cls = workflow.defn(name=entry.workflow_type(), sandboxed=sandboxed)(
        type(name, (_EntryWorkflow,), namespace)
    )
    setattr(sys.modules[__name__], name, cls)
    return cls
