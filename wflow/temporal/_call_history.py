"""A Temporal history read back as the intercepted calls a workflow made, one step each.

Temporal records a call as several events (an activity is scheduled, started, completed); a
reader wants one line per call: `funcs.call app.api:charge_card({"amount": 42}) -> {...}`.
`call_steps` folds a history into such steps, in the order the workflow made the calls;
`wflow history` prints them, `wflow replay` names them when a changed workflow diverges, and
the testing kit asserts on them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from temporalio.api.common.v1 import Header, Payload, Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.converter import default as default_converter

from wflow.model import format_duration, message_payload

__all__ = ["COMMAND_KINDS", "CallStep", "call_steps", "describe_steps", "steps_to_json"]

COMMAND_KINDS = frozenset(
    {
        "call",
        "timer",
        "send",
        "cancel",
        "child",
        "version",
        "attrs",
        "continue_as_new",
        "completed",
        "failed",
    }
)
"""Step kinds the workflow code itself asked for (a Temporal command); a replay must make them
again, in the same order. The other kinds (start, message, update, task failure, ...) come from
outside the code."""

# Header key the executor writes on signals a workflow sends (see `_headers`).
_FROM_HEADER = "wflow-from"


@dataclasses.dataclass
class CallStep:
    """One intercepted call (or the start or end of the run) in a workflow's history.

    Attributes:
        number: Position in the run's steps, from 1.
        kind: `start`, `call` (function call), `timer`, `message` (received), `send`
            (message sent), `cancel` (cancellation of another workflow requested), `child`,
            `version` (`workflow.version` marker), `attrs`, `update`, `continue_as_new`,
            `task_failed`, or how the run ended: `completed`, `failed`, `canceled`,
            `terminated`, `timed_out`.
        name: What the step names: the function or workflow entry ID, the message topic,
            the version's change ID, the update's name.
        args: The arguments or payload, decoded from JSON.
        status: `ok`, `error`, `pending` (no outcome recorded yet), `fired` / `canceled`
            for timers, or the end state's kind.
        result: The call's or run's result, when it has one.
        error: `{"kind": ..., "message": ...}` when the step failed.
        details: Whatever else the step records: `duration` of a timer, `workflow_id` of a
            child or receiver, `sender` of a message, `version` of a marker.
        event_id: The history event that begins the step (for a code-made step: its
            command's event).
        event_ids: Every event the step was folded from.
    """

    number: int
    kind: str
    name: str | None = None
    args: list[Any] | None = None
    status: str = "ok"
    result: Any = None
    error: dict[str, str] | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    event_id: int = 0
    event_ids: list[int] = dataclasses.field(default_factory=list)

    @property
    def is_command(self) -> bool:
        """Whether the workflow code made this step (a replay must make it again)."""
        return self.kind in COMMAND_KINDS

    def call_text(self) -> str:
        """What was called, without its outcome: `funcs.call app.api:charge_card`."""
        name = self.name or ""
        texts = {
            "start": f"start {name}",
            "call": f"funcs.call {name}",
            "timer": f"time.sleep {self.details.get('duration', '?')}",
            "message": f"message {name!r}",
            "send": f"process.send {self.details.get('workflow_id', '?')} {name!r}",
            "cancel": f"process.cancel {self.details.get('workflow_id', '?')}",
            "child": f"process.spawn {name}",
            "version": f"workflow.version {name}",
            "attrs": "workflow.attrs",
            "update": f"update {name!r}",
            "continue_as_new": "process.upgrade",
            "task_failed": "workflow task failed",
            "completed": "the workflow's end (completed)",
            "failed": "the workflow's end (failed)",
        }
        return texts.get(self.kind, self.kind)

    def describe(self) -> str:
        """One line for people: the call, its arguments and its outcome."""
        if self.kind == "completed":
            return f"completed -> {_json(self.result)}"
        if self.kind == "failed" and self.error is not None:
            return f"failed -> error {self.error['kind']}: {self.error['message']}"
        text = self.call_text()
        if self.kind in ("start", "call", "child", "continue_as_new", "send", "message", "update"):
            text += f"({_args_text(self.args)})"
        if self.kind == "message" and self.details.get("sender"):
            text += f" from {self.details['sender']}"
        if self.kind == "child" and self.details.get("workflow_id"):
            text += f" as {self.details['workflow_id']}"
        if self.kind == "version":
            text += f" = {self.details.get('version')}"
        if self.kind == "attrs" and self.details:
            text += f" {_json(self.details)}"
        if self.error is not None:
            return f"{text} -> error {self.error['kind']}: {self.error['message']}"
        if self.kind in ("call", "child", "update"):
            if self.status == "pending":
                return f"{text} (pending)"
            return f"{text} -> {_json(self.result)}"
        if self.kind == "timer":
            return f"{text} -> {self.status}"
        if self.kind in ("canceled", "timed_out"):
            return text
        if self.kind == "terminated":
            reason = self.details.get("reason")
            return f"{text}: {reason}" if reason else text
        return text

    def to_json(self) -> dict[str, Any]:
        """The step as a JSON-ready dict (what `wflow history --json` prints)."""
        data: dict[str, Any] = {"step": self.number, "kind": self.kind, "name": self.name}
        if self.args is not None:
            data["args"] = self.args
        data["status"] = self.status
        if self.kind in ("call", "child", "update", "completed") and self.status == "ok":
            data["result"] = self.result
        if self.error is not None:
            data["error"] = self.error
        data.update(self.details)
        data["event_id"] = self.event_id
        return data


def _json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=False)
    except (TypeError, ValueError):
        return json.dumps(value, ensure_ascii=False, default=str)


def _args_text(args: Sequence[Any] | None) -> str:
    return ", ".join(_json(arg) for arg in args or [])


def _decode(payloads: Iterable[Payload]) -> list[Any]:
    """Decode with the default converter; a payload it cannot read becomes a short note."""
    converter = default_converter().payload_converter
    values: list[Any] = []
    for payload in payloads:
        try:
            values.append(converter.from_payloads([payload])[0])
        except Exception:
            encoding = payload.metadata.get("encoding", b"?").decode(errors="replace")
            values.append(f"<{encoding} payload of {len(payload.data)} bytes>")
    return values


def _values(payloads: Payloads) -> list[Any]:
    return _decode(payloads.payloads)


# Events that only close the step they refer to (found by the attributes' scheduling,
# initiating or starting event ID): event type -> status and, for those that carry no failure,
# the error to record. A result or failure the event carries is recorded with it.
_CLOSINGS: dict[str, tuple[str, dict[str, str] | None]] = {
    "activity_task_completed": ("ok", None),
    "activity_task_failed": ("error", None),
    "activity_task_timed_out": ("error", None),
    "activity_task_canceled": ("error", {"kind": "CANCELED", "message": "the call was canceled"}),
    "timer_fired": ("fired", None),
    "external_workflow_execution_signaled": ("ok", None),
    "external_workflow_execution_cancel_requested": ("ok", None),
    "child_workflow_execution_completed": ("ok", None),
    "child_workflow_execution_failed": ("error", None),
    "child_workflow_execution_canceled": (
        "error",
        {"kind": "CANCELED", "message": "the child was canceled"},
    ),
    "child_workflow_execution_terminated": (
        "error",
        {"kind": "CANCELED", "message": "the child was terminated"},
    ),
    "child_workflow_execution_timed_out": (
        "error",
        {"kind": "TIMEOUT", "message": "the child timed out"},
    ),
    # Commands the server could not carry out; `{cause}` is the event's cause.
    "signal_external_workflow_execution_failed": (
        "error",
        {"kind": "NOT_FOUND", "message": "not delivered ({cause})"},
    ),
    "request_cancel_external_workflow_execution_failed": (
        "error",
        {"kind": "NOT_FOUND", "message": "not delivered ({cause})"},
    ),
    "start_child_workflow_execution_failed": (
        "error",
        {"kind": "ALREADY_EXISTS", "message": "not started ({cause})"},
    ),
}
_REFERENCES = ("scheduled_event_id", "initiated_event_id", "started_event_id")


def _single(payloads: Payloads) -> Any:
    # A result or signal is one payload; several read as an array, as messages do.
    return message_payload(_values(payloads))


def _decoded(fields: Mapping[str, Payload]) -> dict[str, Any]:
    """Search attributes or memo fields, decoded, by sorted key."""
    return {key: _decode([fields[key]])[0] for key in sorted(fields)}


def _header_value(header: Header, key: str) -> Any:
    payload = header.fields.get(key)
    if payload is None:
        return None
    return _decode([payload])[0]


def _failure(failure: Failure) -> dict[str, str]:
    """The kind and message a failure carries (its innermost application error's, if any)."""
    current: Failure | None = failure
    while current is not None:
        if current.HasField("application_failure_info"):
            kind = current.application_failure_info.type or "UNKNOWN"
            return {"kind": kind, "message": current.message}
        if current.HasField("timeout_failure_info"):
            return {"kind": "TIMEOUT", "message": current.message or "timed out"}
        if current.HasField("canceled_failure_info"):
            return {"kind": "CANCELED", "message": current.message or "canceled"}
        current = current.cause if current.HasField("cause") else None
    return {"kind": "UNKNOWN", "message": failure.message}


def _type_name(event: HistoryEvent) -> str:
    return EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")


class _Folder:
    """Folds events into steps; outcome events find their step by the initiating event ID."""

    def __init__(self) -> None:
        self.steps: list[CallStep] = []
        self.by_event: dict[int, CallStep] = {}
        self.timers: dict[str, CallStep] = {}
        self.updates: dict[str, CallStep] = {}

    def add(self, event: HistoryEvent, kind: str, **fields: Any) -> CallStep:
        step = CallStep(
            number=len(self.steps) + 1,
            kind=kind,
            event_id=event.event_id,
            event_ids=[event.event_id],
            **fields,
        )
        self.steps.append(step)
        self.by_event[event.event_id] = step
        return step

    def outcome(self, event: HistoryEvent, initiated: int, status: str, **fields: Any) -> None:
        step = self.by_event.get(initiated)
        if step is None:  # a partial history: the initiating event is not in it
            return
        step.status = status
        step.event_ids.append(event.event_id)
        for key, value in fields.items():
            setattr(step, key, value)

    def fold(self, event: HistoryEvent) -> None:
        name = _type_name(event).lower()
        closing = _CLOSINGS.get(name)
        if closing is not None:
            self._close(event, name, *closing)
            return
        handler = getattr(self, f"_on_{name}", None)
        if handler is not None:
            handler(event)

    def _close(
        self, event: HistoryEvent, name: str, status: str, error: dict[str, str] | None
    ) -> None:
        attrs = getattr(event, f"{name}_event_attributes")
        fields = attrs.DESCRIPTOR.fields_by_name
        initiated = next(getattr(attrs, key) for key in _REFERENCES if key in fields)
        recorded: dict[str, Any] = {}
        if "result" in fields and status == "ok":
            recorded["result"] = _single(attrs.result)
        if status == "error":
            if error is None:
                recorded["error"] = _failure(attrs.failure)
            else:
                cause = attrs.cause if "cause" in fields else ""
                recorded["error"] = {**error, "message": error["message"].format(cause=cause)}
        self.outcome(event, initiated, status, **recorded)

    # The run itself.

    def _on_workflow_execution_started(self, event: HistoryEvent) -> None:
        a = event.workflow_execution_started_event_attributes
        self.add(
            event,
            "start",
            name=a.workflow_type.name,
            args=_values(a.input),
            details={"task_queue": a.task_queue.name},
        )

    def _on_workflow_execution_completed(self, event: HistoryEvent) -> None:
        a = event.workflow_execution_completed_event_attributes
        self.add(event, "completed", result=_single(a.result))

    def _on_workflow_execution_failed(self, event: HistoryEvent) -> None:
        a = event.workflow_execution_failed_event_attributes
        self.add(event, "failed", status="error", error=_failure(a.failure))

    def _on_workflow_execution_canceled(self, event: HistoryEvent) -> None:
        self.add(event, "canceled", status="canceled")

    def _on_workflow_execution_terminated(self, event: HistoryEvent) -> None:
        a = event.workflow_execution_terminated_event_attributes
        self.add(event, "terminated", status="terminated", details={"reason": a.reason})

    def _on_workflow_execution_timed_out(self, event: HistoryEvent) -> None:
        self.add(event, "timed_out", status="timed_out")

    def _on_workflow_execution_continued_as_new(self, event: HistoryEvent) -> None:
        a = event.workflow_execution_continued_as_new_event_attributes
        self.add(
            event,
            "continue_as_new",
            name=a.workflow_type.name,
            args=_values(a.input),
            details={"new_run_id": a.new_execution_run_id},
        )

    def _on_workflow_task_failed(self, event: HistoryEvent) -> None:
        a = event.workflow_task_failed_event_attributes
        self.add(
            event,
            "task_failed",
            status="error",
            error={"kind": "TASK_FAILED", "message": a.failure.message},
        )

    # Function calls (activities).

    def _on_activity_task_scheduled(self, event: HistoryEvent) -> None:
        a = event.activity_task_scheduled_event_attributes
        self.add(event, "call", name=a.activity_type.name, args=_values(a.input), status="pending")

    # Timers.

    def _on_timer_started(self, event: HistoryEvent) -> None:
        a = event.timer_started_event_attributes
        duration = format_duration(a.start_to_fire_timeout.ToTimedelta())
        step = self.add(event, "timer", status="pending", details={"duration": duration})
        self.timers[a.timer_id] = step

    def _on_timer_canceled(self, event: HistoryEvent) -> None:
        a = event.timer_canceled_event_attributes
        step = self.timers.get(a.timer_id)
        self.outcome(event, step.event_id if step else a.started_event_id, "canceled")

    # Messages in and out.

    def _on_workflow_execution_signaled(self, event: HistoryEvent) -> None:
        a = event.workflow_execution_signaled_event_attributes
        details: dict[str, Any] = {}
        sender = _header_value(a.header, _FROM_HEADER)
        if sender is not None:
            details["sender"] = sender
        self.add(event, "message", name=a.signal_name, args=_values(a.input), details=details)

    def _on_signal_external_workflow_execution_initiated(self, event: HistoryEvent) -> None:
        a = event.signal_external_workflow_execution_initiated_event_attributes
        self.add(
            event,
            "send",
            name=a.signal_name,
            args=_values(a.input),
            status="pending",
            details={"workflow_id": a.workflow_execution.workflow_id},
        )

    def _on_request_cancel_external_workflow_execution_initiated(self, event: HistoryEvent) -> None:
        a = event.request_cancel_external_workflow_execution_initiated_event_attributes
        details = {"workflow_id": a.workflow_execution.workflow_id}
        self.add(event, "cancel", status="pending", details=details)

    # Children.

    def _on_start_child_workflow_execution_initiated(self, event: HistoryEvent) -> None:
        a = event.start_child_workflow_execution_initiated_event_attributes
        self.add(
            event,
            "child",
            name=a.workflow_type.name,
            args=_values(a.input),
            status="pending",
            details={"workflow_id": a.workflow_id},
        )

    # Versions, attributes, updates.

    def _on_marker_recorded(self, event: HistoryEvent) -> None:
        a = event.marker_recorded_event_attributes
        if a.marker_name != "core_patch":
            self.add(event, "version", name=a.marker_name)
            return
        data = _single(a.details["patch_data"]) if "patch_data" in a.details else None
        patch_id = data.get("id", "") if isinstance(data, dict) else ""
        # `workflow.version` records one patch named `change_id@version` (see _processes).
        change_id, _, version = str(patch_id).rpartition("@")
        self.add(
            event,
            "version",
            name=change_id or patch_id,
            details={"version": int(version) if version.isdigit() else version},
        )

    def _on_upsert_workflow_search_attributes(self, event: HistoryEvent) -> None:
        a = event.upsert_workflow_search_attributes_event_attributes
        self.add(event, "attrs", details={"search": _decoded(a.search_attributes.indexed_fields)})

    def _on_workflow_properties_modified(self, event: HistoryEvent) -> None:
        a = event.workflow_properties_modified_event_attributes
        self.add(event, "attrs", details={"memo": _decoded(a.upserted_memo.fields)})

    def _on_workflow_execution_update_accepted(self, event: HistoryEvent) -> None:
        a = event.workflow_execution_update_accepted_event_attributes
        request = a.accepted_request
        step = self.add(
            event,
            "update",
            name=request.input.name,
            args=_values(request.input.args),
            status="pending",
        )
        self.updates[a.protocol_instance_id] = step

    def _on_workflow_execution_update_completed(self, event: HistoryEvent) -> None:
        a = event.workflow_execution_update_completed_event_attributes
        if a.outcome.HasField("failure"):
            self.outcome(event, a.accepted_event_id, "error", error=_failure(a.outcome.failure))
        else:
            result = _single(a.outcome.success)
            self.outcome(event, a.accepted_event_id, "ok", result=result)

    def _on_workflow_execution_update_rejected(self, event: HistoryEvent) -> None:
        a = event.workflow_execution_update_rejected_event_attributes
        request = a.rejected_request
        self.add(
            event,
            "update",
            name=request.input.name,
            args=_values(request.input.args),
            status="error",
            error=_failure(a.failure),
        )


def call_steps(history: WorkflowHistory | Iterable[HistoryEvent]) -> list[CallStep]:
    """Return the intercepted calls of a workflow history, in the order they were made.

    One step per function call, timer, message received or sent, child, version marker,
    update, continue-as-new and failed workflow task, between the run's start and its end.
    Payloads are decoded with the default (JSON) converter. Events that record no call
    (workflow tasks, activity starts) are folded away; an outcome (an activity's result, a
    timer firing) is kept on the step that began it.

    Example:
        ```python
        history = await handle.fetch_history()
        for step in call_steps(history):
            print(step.number, step.describe())
        ```

    Args:
        history: A `WorkflowHistory` (from `handle.fetch_history()` or
            `WorkflowHistory.from_json`) or its events.

    Returns:
        The steps, numbered from 1.
    """
    events = history.events if isinstance(history, WorkflowHistory) else history
    folder = _Folder()
    for event in events:
        folder.fold(event)
    return folder.steps


def describe_steps(steps: Iterable[CallStep]) -> list[str]:
    """Return one numbered line per step, as `wflow history` prints them (`  3  time.sleep ...`)."""
    steps = list(steps)
    width = len(str(len(steps)))
    return [f"{step.number:>{width}}  {step.describe()}" for step in steps]


def steps_to_json(steps: Iterable[CallStep]) -> list[dict[str, Any]]:
    """Return the steps as JSON-ready dicts (what `wflow history --json` prints)."""
    return [step.to_json() for step in steps]
