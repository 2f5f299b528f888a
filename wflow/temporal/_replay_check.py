"""Replaying recorded histories against the current code, with divergences in call-level words.

temporalio's replayer says *that* a changed workflow no longer matches its history, in terms
of Temporal's state machines (`Activity type of scheduled event 'a' does not match activity
type of activity command 'b'`, `HistoryEvent(id: 17, ...)`). This module says it the way the
workflow was written: `history has funcs.call app.api:charge_card at step 3; the code now
calls app.api:refund (order.lua:14)`, with the steps of `call_steps`.

The code's side comes from two places: the replayer's error text (which command the code
made), and a workflow interceptor that notes, for each call the code makes during the
replay, where in the user's Python source it was made. Lua lines cannot be seen from
Python's stack, so for a Lua workflow the line is looked up in the script by the call's
target (when the target is written there literally).
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, NoReturn

import temporalio.worker
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from wflow.model import WflowError, current_call_site
from wflow.registry import Registry, WorkflowEntry, WorkflowLuaEntry, WorkflowPyEntry
from wflow.temporal._call_history import CallStep, call_steps
from wflow.temporal._codecs import data_converter_for
from wflow.temporal._failure_reports import is_user_file
from wflow.temporal._payloads import DATA_CONVERTER
from wflow.temporal._worker import build_replayer
from wflow.temporal._workflows import workflow_class

__all__ = ["CodeCall", "ReplayOutcome", "diagnose", "replay_history"]


@dataclasses.dataclass(frozen=True)
class CodeCall:
    """A call the current code made while replaying.

    Attributes:
        kind: `call`, `child`, `send` or `continue_as_new` (the step kinds of `CallStep`).
        name: The function or workflow entry ID, or the message topic.
        location: `file:line` in the user's source where it was made, when known.
    """

    kind: str
    name: str | None
    location: str | None = None


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


# Calls the code made during the current replays, by run ID (the interceptor runs inside the
# replayed workflow, possibly on a worker thread and inside the sandbox: wflow is passed
# through the sandbox, so this dict is the same object there).
_recorded: dict[str, list[CodeCall]] = {}
_recorded_lock = threading.Lock()


def _user_location() -> str | None:
    """`file:line` of the innermost frame in the user's code (not wflow, temporalio, stdlib)."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if is_user_file(filename):
            return f"{os.path.basename(filename)}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _record(kind: str, name: str | None) -> None:
    # A Lua script's frames are not on Python's stack: its engine names the call's line.
    call = CodeCall(kind, name, _user_location() or current_call_site())
    run_id = workflow.info().run_id
    with _recorded_lock:
        _recorded.setdefault(run_id, []).append(call)


class _RecordingOutbound(temporalio.worker.WorkflowOutboundInterceptor):
    def start_activity(self, input: temporalio.worker.StartActivityInput) -> Any:
        _record("call", input.activity)
        return super().start_activity(input)

    async def start_child_workflow(self, input: temporalio.worker.StartChildWorkflowInput) -> Any:
        _record("child", str(input.workflow))
        return await super().start_child_workflow(input)

    async def signal_external_workflow(
        self, input: temporalio.worker.SignalExternalWorkflowInput
    ) -> None:
        _record("send", input.signal)
        await super().signal_external_workflow(input)

    async def signal_child_workflow(
        self, input: temporalio.worker.SignalChildWorkflowInput
    ) -> None:
        _record("send", input.signal)
        await super().signal_child_workflow(input)

    def continue_as_new(self, input: temporalio.worker.ContinueAsNewInput) -> NoReturn:
        _record("continue_as_new", None)
        super().continue_as_new(input)


class _RecordingInbound(temporalio.worker.WorkflowInboundInterceptor):
    def init(self, outbound: temporalio.worker.WorkflowOutboundInterceptor) -> None:
        super().init(_RecordingOutbound(outbound))


class _Recorder(temporalio.worker.Interceptor):
    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor] | None:
        return _RecordingInbound


# What temporalio's core says, and what it means. Its messages name the command the code made
# by the state machine that handles it.
_ACTIVITY_MISMATCH = re.compile(
    r"Activity type of scheduled event '(?P<expected>[^']*)' does not match activity type of "
    r"activity command '(?P<actual>[^']*)'"
)
_MACHINE = re.compile(
    r"(?P<machine>[A-Za-z ]+?) machine does not handle this event: "
    r"HistoryEvent\(id: (?P<event>\d+), (?P<type>\w+)\)"
)
_NO_COMMAND = re.compile(r"No command scheduled for event HistoryEvent\(id: (?P<event>\d+)")
_ANY_EVENT = re.compile(r"HistoryEvent\(id: (?P<event>\d+)")
_FAILURE_MESSAGE = re.compile(r'message: "((?:[^"\\]|\\.)*)"')

# The state machine that handled the code's command -> (step kind, how to say it).
_MACHINES: dict[str, tuple[str, str]] = {
    "Activity": ("call", "calls a function"),
    "Timer": ("timer", "sleeps (time.sleep)"),
    "Complete workflow": ("completed", "returns: the workflow ends here"),
    "Fail workflow": ("failed", "fails: the workflow ends here"),
    "Cancel workflow": ("canceled", "ends canceled here"),
    "Continue as new": ("continue_as_new", "continues as new (process.upgrade)"),
    "Child workflow": ("child", "starts a child workflow"),
    "Signal external": ("send", "sends a message (process.send)"),
    "Cancel external": ("cancel", "cancels another workflow (process.cancel)"),
    "Patch": ("version", "records a version (workflow.version)"),
    "Upsert search attributes": ("attrs", "sets attributes (workflow.attrs)"),
    "Modify workflow properties": ("attrs", "sets attributes (workflow.attrs)"),
}


def core_message(text: str) -> str:
    """The failure message inside temporalio's `Workflow activation completion failed` text."""
    match = _FAILURE_MESSAGE.search(text)
    message = match.group(1).encode().decode("unicode_escape") if match else text
    return re.sub(r"^\[TMPRL\d+\] ", "", message).removeprefix("Nondeterminism error: ")


def _step_of_event(steps: Sequence[CallStep], event_id: int) -> CallStep | None:
    for step in steps:
        if event_id in step.event_ids:
            return step
    # An event the view folds away (a workflow task): the next step after it.
    later = [step for step in steps if step.event_id > event_id]
    return later[0] if later else None


def _nth(steps: Sequence[CallStep], kind: str, index: int) -> CallStep | None:
    of_kind = [step for step in steps if step.kind == kind]
    return of_kind[index] if 0 <= index < len(of_kind) else None


def _code_call_at(
    steps: Sequence[CallStep], step: CallStep | None, kind: str, calls: Sequence[CodeCall]
) -> CodeCall | None:
    """The code's call of `kind` made where the history has `step`.

    The one after as many calls of that kind as the history has before `step`.
    """
    before = [s for s in steps if s.kind == kind and (step is None or s.number < step.number)]
    made = [call for call in calls if call.kind == kind]
    return made[len(before)] if len(before) < len(made) else None


def _lines_in(path: Path | None, name: str | None, nth: int = 1) -> str | None:
    """`file:line` of a quoted `name` in the script (a Lua call target written literally).

    Where the name is written on several lines, the `nth` of them: the code's nth call of
    that name, right for code without loops (a guess otherwise; the best Python can see).
    """
    if path is None or not name:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    quoted = re.compile(r"""["']""" + re.escape(name) + r"""["']""")
    lines = [str(n) for n, line in enumerate(text.splitlines(), 1) if quoted.search(line)]
    if not lines:
        return None
    return f"{path.name}:{lines[min(nth, len(lines)) - 1]}"


def _where(
    call: CodeCall | None, source: Path | None, calls: Sequence[CodeCall] = ()
) -> str | None:
    if call is None:
        return None
    nth = sum(1 for made in calls if made.kind == call.kind and made.name == call.name)
    return call.location or _lines_in(source, call.name, max(nth, 1))


def _doing(kind: str, name: str | None) -> str:
    texts = {
        "call": f"calls {name}",
        "child": f"starts child workflow {name}",
        "send": f"sends message {name!r}",
        "continue_as_new": "continues as new (process.upgrade)",
    }
    return texts.get(kind, kind)


def diagnose(
    text: str,
    steps: Sequence[CallStep],
    calls: Sequence[CodeCall] = (),
    *,
    source: Path | None = None,
) -> tuple[str, CallStep | None, str | None, str | None, str | None]:
    """Say in call-level words where a nondeterminism error's code left its history.

    Args:
        text: temporalio's nondeterminism error text.
        steps: The history's steps (`call_steps`).
        calls: The calls the code made during the replay, in order, when recorded.
        source: The workflow's Lua script, to look call targets up in.

    Returns:
        (message, the history's step, expected, actual, location), the last four None when
        unknown. The message reads `history has funcs.call a at step 3; the code now calls b
        (order.lua:14)`, or falls back to temporalio's own words.
    """
    message = core_message(text)
    step: CallStep | None = None
    actual: str | None = None
    location: str | None = None
    if match := _ACTIVITY_MISMATCH.search(message):
        name = match["actual"]
        made = [call for call in calls if call.kind == "call"]
        step = _nth(steps, "call", len(made) - 1) if made else None
        if step is None or step.name != match["expected"]:
            step = next(
                (s for s in steps if s.kind == "call" and s.name == match["expected"]), None
            )
        last = made[-1] if made else None
        call = last if last is not None and last.name == name else CodeCall("call", name)
        actual, location = f"funcs.call {name}", _where(call, source, calls)
        doing = _doing("call", name)
    elif match := _MACHINE.search(message):
        step = _step_of_event(steps, int(match["event"]))
        kind, doing = _MACHINES.get(match["machine"], ("", f"does something else ({match[0]})"))
        found = _code_call_at(steps, step, kind, calls)
        if found is not None:
            doing = _doing(kind, found.name)
            actual = f"{'funcs.call' if kind == 'call' else kind} {found.name}"
            location = _where(found, source, calls[: calls.index(found) + 1])
        else:
            actual = kind or None
    elif match := _NO_COMMAND.search(message):
        step = _step_of_event(steps, int(match["event"]))
        doing, actual = "makes no such call there (it waits or ends elsewhere)", "nothing"
    else:
        any_event = _ANY_EVENT.search(message)
        step = _step_of_event(steps, int(any_event["event"])) if any_event else None
        where = f" at step {step.number} ({step.call_text()})" if step else ""
        return f"diverged{where}: {message}", step, None, None, None
    expected = step.call_text() if step else None
    lead = f"history has {expected} at step {step.number}" if step else "history differs"
    text_out = f"{lead}; the code now {doing}"
    if location:
        text_out += f" ({location})"
    return text_out, step, expected, actual, location


def _source_of(registry: Registry, workflow_type: str) -> tuple[Path | None, bool]:
    """(Lua script of the workflow, whether the project has such a workflow at all)."""
    try:
        entry = registry.get(workflow_type)
    except Exception:
        return None, False
    if isinstance(entry, WorkflowLuaEntry):
        return entry.source_path(), True
    return None, isinstance(entry, WorkflowPyEntry)


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
    source, known = _source_of(registry, workflow_type)
    if not known:
        known_ids = ", ".join(sorted(entry.id for entry in registry.workflows())) or "none"
        message = f"the project has no workflow entry {workflow_type} (its workflows: {known_ids})"
        return outcome("error", message)
    entry = registry.get(workflow_type)
    assert isinstance(entry, (WorkflowLuaEntry, WorkflowPyEntry))
    replayer_options.setdefault("data_converter", _data_converter_of(registry, entry))
    replayer = build_replayer(
        registry,
        workflows=[workflow_class(entry, registry)],
        interceptors=[_Recorder()],
        **replayer_options,
    )
    run_id = history.events[0].workflow_execution_started_event_attributes.original_execution_run_id
    try:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    finally:
        with _recorded_lock:
            calls = _recorded.pop(run_id, [])
            # The replayer may give the run another ID; take what this replay recorded.
            if not calls and len(_recorded) == 1:
                calls = _recorded.popitem()[1]
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
