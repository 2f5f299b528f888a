"""Replaying recorded histories against the current code, with divergences in call-level words.

temporalio's replayer says *that* a changed workflow no longer matches its history; this
module replays a history and says *where*, in the words of `wflow.temporal._divergence`
(`history has funcs.call app.api:charge_card at step 3; the code now calls app.api:refund
(order.lua:14)`), which running workers use too.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from wflow.model import WflowError
from wflow.registry import Registry, WorkflowEntry, WorkflowLuaEntry, WorkflowPyEntry
from wflow.temporal._call_history import call_steps
from wflow.temporal._codecs import data_converter_for
from wflow.temporal._divergence import (
    CallRecorder,
    CodeCall,
    core_message,
    diagnose,
    recorded_calls,
    source_of,
    take_only_recording,
)
from wflow.temporal._payloads import DATA_CONVERTER
from wflow.temporal._worker import build_replayer
from wflow.temporal._workflows import workflow_class

__all__ = ["CodeCall", "ReplayOutcome", "core_message", "diagnose", "replay_history"]


@dataclasses.dataclass
class ReplayOutcome:
    """How one history replayed against the current code.

    Attributes:
        workflow_id: The history's workflow ID.
        workflow_type: Its workflow type (the entry ID).
        status: `ok`, `diverged` (the code no longer makes the recorded calls) or `error`
            (the code failed while replaying, or the history cannot be replayed here).
        message: One line for people: `ok`, or where and how it diverged or failed.
        step: The history step where it diverged, when known.
        expected: What the history has there (`funcs.call app.api:charge_card`).
        actual: What the code does there now (`funcs.call app.api:refund`).
        location: `file:line` of the code's call, when known.
        steps: Number of steps in the history.
        raw: temporalio's own error text, for `--verbose` and bug reports.
    """

    workflow_id: str
    workflow_type: str
    status: Literal["ok", "diverged", "error"]
    message: str
    step: int | None = None
    expected: str | None = None
    actual: str | None = None
    location: str | None = None
    steps: int = 0
    raw: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the history replayed without divergence or error."""
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        """The outcome as a JSON-ready dict (`wflow replay --json`)."""
        return dataclasses.asdict(self)


def _data_converter_of(registry: Registry, entry: WorkflowEntry) -> DataConverter:
    """The data converter of the workflow's worker: its client's codecs decode the history.

    A history exported from the server keeps its payloads as stored (encrypted, compressed);
    payloads already decoded pass through the codecs unchanged.
    """
    try:
        client = registry.client_of(registry.worker_of(entry, "workflow"))
    except WflowError:
        client = None
    return data_converter_for(client, DATA_CONVERTER)


async def replay_history(
    registry: Registry, history: WorkflowHistory, **replayer_options: Any
) -> ReplayOutcome:
    """Replay one history against the project's current code and say how it went.

    The workflow classes, sandbox and interceptors are the workers' (see
    `wflow.testing.replayer`), plus one that notes where the code makes each call.

    Example:
        ```python
        outcome = await replay_history(load_project("shop"), history)
        assert outcome.ok, outcome.message
        ```

    Args:
        registry: The project, as the code is now.
        history: A recorded history (`handle.fetch_history()`, `WorkflowHistory.from_json`).
        **replayer_options: More arguments for temporalio's `Replayer` (`debug_mode`, ...).

    Returns:
        `ok`; or `diverged` with the step, what the history has there and what the code does
        now; or `error` when the code fails while replaying (a Lua error, an exception) or
        the project has no such workflow.
    """
    steps = call_steps(history)
    start = steps[0] if steps and steps[0].kind == "start" else None
    workflow_type = (start.name or "") if start else ""

    def outcome(
        status: Literal["ok", "diverged", "error"], message: str, **more: Any
    ) -> ReplayOutcome:
        return ReplayOutcome(
            workflow_id=history.workflow_id,
            workflow_type=workflow_type,
            status=status,
            message=message,
            steps=len(steps),
            **more,
        )

    if start is None:
        message = "the history has no start event (is it a complete workflow history?)"
        return outcome("error", message)
    source, known = source_of(registry, workflow_type)
    if not known:
        known_ids = ", ".join(sorted(entry.id for entry in registry.workflows())) or "none"
        message = f"the project has no workflow entry {workflow_type} (its workflows: {known_ids})"
        return outcome("error", message)
    entry = registry.workflow_of_type(workflow_type)
    assert isinstance(entry, (WorkflowLuaEntry, WorkflowPyEntry))
    replayer_options.setdefault("data_converter", _data_converter_of(registry, entry))
    replayer = build_replayer(
        registry,
        workflows=[workflow_class(entry, registry)],
        interceptors=[CallRecorder()],
        **replayer_options,
    )
    run_id = history.events[0].workflow_execution_started_event_attributes.original_execution_run_id
    try:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    finally:
        # The replayer may give the run another ID; then take what this replay recorded.
        calls = recorded_calls(run_id) or take_only_recording()
    failure = result.replay_failure
    if failure is None:
        return outcome("ok", "ok")
    raw = str(failure)
    if isinstance(failure, workflow.NondeterminismError):
        message, step, expected, actual, location = diagnose(raw, steps, calls, source=source)
        return outcome(
            "diverged",
            message,
            step=step.number if step else None,
            expected=expected,
            actual=actual,
            location=location,
            raw=raw,
        )
    return outcome("error", f"the code fails while replaying: {core_message(raw)}", raw=raw)
