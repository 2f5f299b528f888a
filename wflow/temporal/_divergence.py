"""Nondeterminism in call-level words, in `wflow replay` and in running workers alike.

temporalio says *that* a changed workflow no longer matches its history, in terms of
Temporal's state machines (`Activity type of scheduled event 'a' does not match activity
type of activity command 'b'`, `HistoryEvent(id: 17, ...)`). `diagnose` says it the way the
workflow was written: `history has funcs.call app.api:charge_card at step 3; the code now
calls app.api:refund (order.lua:14)`, with the steps of `call_steps`.

The code's side comes from two places: the error text (which command the code made), and a
workflow interceptor (`CallRecorder`) that notes, for each call the code makes while
replaying, where in the user's Python source it was made. Lua lines come from the Lua
engine's call site, or are looked up in the script by the call's target.

**While running.** Temporal's core finds a divergence when it compares the commands of a
replayed workflow task with the history, and fails the task with its own words before
Python hears of it. So a worker checks first (`CheckingRunner`): when a workflow starts on
it from an existing history (a restart, an evicted or disabled cache), the commands the code
makes while replaying are compared with the history's, which the worker fetches once. On the
first that differs, the task is failed with the diagnosis as its message (what the web UI,
`temporal workflow describe` and `wflow history` show, cause `NON_DETERMINISTIC_ERROR`) and
the worker prints it. The check only says "diverged" where core would too: it compares
function calls, timers, child starts and sends, and stops checking a run at the first command
or event of another kind (local calls, cancellations, versions, updates, ...), leaving those
to core; a divergence core finds first is still printed in these words (the task's message
is then core's).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import os
import re
import sys
import threading
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, NoReturn

import temporalio.worker
from temporalio import workflow
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.failure.v1 import ApplicationFailureInfo, Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.bridge.proto.workflow_activation import RemoveFromCache, WorkflowActivation
from temporalio.bridge.proto.workflow_completion import (
    Failure as CompletionFailure,
)
from temporalio.bridge.proto.workflow_completion import (
    WorkflowActivationCompletion,
)
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner

from wflow.model import current_call_site
from wflow.registry import Registry, WorkflowLuaEntry, WorkflowPyEntry
from wflow.temporal._call_history import CallStep, call_steps
from wflow.temporal._failure_reports import FailureReport, FailureSink, is_user_file

__all__ = [
    "CallRecorder",
    "CheckingRunner",
    "CodeCall",
    "core_message",
    "diagnose",
    "recorded_calls",
    "source_of",
    "take_only_recording",
]


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


def recorded_calls(run_id: str) -> list[CodeCall]:
    """Take (and forget) the calls recorded for `run_id`."""
    with _recorded_lock:
        return _recorded.pop(run_id, [])


def take_only_recording() -> list[CodeCall]:
    """Take the calls of the one run recorded, when exactly one was (a replayer's new run ID)."""
    with _recorded_lock:
        return _recorded.popitem()[1] if len(_recorded) == 1 else []


class _RecordingOutbound(temporalio.worker.WorkflowOutboundInterceptor):
    # A worker only needs the calls of a replay (a divergence happens there); a replayer
    # records them all.
    only_while_replaying = False

    def _record(self, kind: str, name: str | None) -> None:
        if self.only_while_replaying and not workflow.unsafe.is_replaying():
            return
        # A Lua script's frames are not on Python's stack: its engine names the call's line.
        call = CodeCall(kind, name, _user_location() or current_call_site())
        run_id = workflow.info().run_id
        with _recorded_lock:
            _recorded.setdefault(run_id, []).append(call)

    def start_activity(self, input: temporalio.worker.StartActivityInput) -> Any:
        self._record("call", input.activity)
        return super().start_activity(input)

    async def start_child_workflow(self, input: temporalio.worker.StartChildWorkflowInput) -> Any:
        self._record("child", str(input.workflow))
        return await super().start_child_workflow(input)

    async def signal_external_workflow(
        self, input: temporalio.worker.SignalExternalWorkflowInput
    ) -> None:
        self._record("send", input.signal)
        await super().signal_external_workflow(input)

    async def signal_child_workflow(
        self, input: temporalio.worker.SignalChildWorkflowInput
    ) -> None:
        self._record("send", input.signal)
        await super().signal_child_workflow(input)

    def continue_as_new(self, input: temporalio.worker.ContinueAsNewInput) -> NoReturn:
        self._record("continue_as_new", None)
        super().continue_as_new(input)


class _ReplayOnlyOutbound(_RecordingOutbound):
    only_while_replaying = True


class _RecordingInbound(temporalio.worker.WorkflowInboundInterceptor):
    outbound_class: type[_RecordingOutbound] = _RecordingOutbound

    def init(self, outbound: temporalio.worker.WorkflowOutboundInterceptor) -> None:
        super().init(self.outbound_class(outbound))


class _ReplayOnlyInbound(_RecordingInbound):
    outbound_class = _ReplayOnlyOutbound


class CallRecorder(temporalio.worker.Interceptor):
    """Notes each call a workflow makes, with where it was made (see `recorded_calls`).

    Args:
        only_while_replaying: Only the calls made while replaying (a worker's; a replayer
            replays everything).
    """

    def __init__(self, *, only_while_replaying: bool = False) -> None:
        self._inbound = _ReplayOnlyInbound if only_while_replaying else _RecordingInbound

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor] | None:
        return self._inbound


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


def source_of(registry: Registry, workflow_type: str) -> tuple[Path | None, bool]:
    """(Lua script of the workflow, whether the project has such a workflow at all)."""
    # The type is the entry ID, or the entry's `meta.temporal.workflow.name`.
    entry = registry.workflow_of_type(workflow_type)
    if entry is None:
        return None, False
    if isinstance(entry, WorkflowLuaEntry):
        return entry.source_path(), True
    return None, isinstance(entry, WorkflowPyEntry)


# --- While running -----------------------------------------------------------------------

# How long a workflow task may wait for its history (it runs under temporalio's 2 s deadlock
# timer); past it the check is skipped and core judges alone.
_FETCH_TIMEOUT_S = 1.0
# Histories kept per worker, so a run whose every task replays (no cache) is fetched once
# per task at most, not once per replayed activation.
_HISTORIES_KEPT = 64

# The command kinds the check compares, by the name of core's state machine for them (the
# words of core's own messages, which `diagnose` reads), and the events they record.
_COMMAND_MACHINES = {
    "schedule_activity": "Activity",
    "start_timer": "Timer",
    "start_child_workflow_execution": "Child workflow",
    "signal_external_workflow_execution": "Signal external",
}
_EVENT_MACHINES = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "Activity",
    EventType.EVENT_TYPE_TIMER_STARTED: "Timer",
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: "Child workflow",
    EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: "Signal external",
}
# Every other event a command records: the check stops there (core compares those).
_OTHER_COMMAND_EVENTS = frozenset(
    {
        EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
        EventType.EVENT_TYPE_TIMER_CANCELED,
        EventType.EVENT_TYPE_MARKER_RECORDED,
        EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
        EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
        EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_REJECTED,
        EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED,
        EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUESTED,
    }
)


def _command_events(history: WorkflowHistory) -> list[HistoryEvent]:
    """The history's events that record a command, in order."""
    return [
        event
        for event in history.events
        if event.event_type in _EVENT_MACHINES or event.event_type in _OTHER_COMMAND_EVENTS
    ]


def _event_name(event: HistoryEvent) -> str:
    """What core calls the event in its messages: `TimerStarted`."""
    words = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_").split("_")
    return "".join(word.capitalize() for word in words)


def _command_name(command: Any, kind: str) -> str | None:
    if kind == "schedule_activity":
        return str(command.schedule_activity.activity_type)
    if kind == "start_child_workflow_execution":
        return str(command.start_child_workflow_execution.workflow_type)
    if kind == "signal_external_workflow_execution":
        return str(command.signal_external_workflow_execution.signal_name)
    return None


def _event_call_name(event: HistoryEvent) -> str | None:
    if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        return event.activity_task_scheduled_event_attributes.activity_type.name
    if event.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        return event.start_child_workflow_execution_initiated_event_attributes.workflow_type.name
    if event.event_type == EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
        return event.signal_external_workflow_execution_initiated_event_attributes.signal_name
    return None


class _Histories:
    """The histories a worker fetched for the check, the latest few runs'."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._kept: collections.OrderedDict[str, WorkflowHistory] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(
        self, loop: asyncio.AbstractEventLoop, info: workflow.Info, length: int
    ) -> WorkflowHistory | None:
        """The run's history with at least `length` events, or None when it cannot be had.

        Called on a workflow task thread: the fetch runs on the worker's event loop.
        """
        with self._lock:
            kept = self._kept.get(info.run_id)
        if kept is not None and len(kept.events) >= length:
            return kept
        try:
            if asyncio.get_running_loop() is loop:
                return None  # debug mode runs tasks on the loop itself: it cannot wait for it
        except RuntimeError:
            pass
        handle = self._client.get_workflow_handle(info.workflow_id, run_id=info.run_id)
        future = asyncio.run_coroutine_threadsafe(handle.fetch_history(), loop)
        try:
            history = future.result(timeout=_FETCH_TIMEOUT_S)
        except Exception:  # slow, or the server is away: core judges alone
            future.cancel()
            return None
        with self._lock:
            self._kept[info.run_id] = history
            self._kept.move_to_end(info.run_id)
            while len(self._kept) > _HISTORIES_KEPT:
                self._kept.popitem(last=False)
        return history


@dataclasses.dataclass
class _Divergence:
    text: str  # in core's words, for `diagnose`
    calls_made: int  # function calls the code made up to the diverging one


class _CheckedInstance(WorkflowInstance):
    """A workflow instance whose replayed commands are compared with its history."""

    def __init__(
        self,
        inner: WorkflowInstance,
        runner: CheckingRunner,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._inner = inner
        self._runner = runner
        self._loop = loop
        self._info = inner.get_info()
        # Checking until the replay is over or the check cannot tell any more.
        self._checking = True
        self._replayed = False  # the replay is over (the calls recorded in it are dropped)
        self._matched = 0  # command events of the history matched so far
        # What the code's commands called while replaying (without lines: the recorder's
        # `CodeCall`s have them, these stand in when it has none).
        self._made: list[CodeCall] = []
        self._reported = False

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        removal = next(
            (job.remove_from_cache for job in act.jobs if job.HasField("remove_from_cache")),
            None,
        )
        if removal is not None:
            if removal.reason == RemoveFromCache.EvictionReason.NONDETERMINISM:
                self._report_core_divergence(removal.message)
            recorded_calls(self._info.run_id)
            return self._inner.activate(act)
        completion = self._inner.activate(act)
        if not act.is_replaying:
            if not self._replayed:
                self._replayed, self._checking = True, False
                recorded_calls(self._info.run_id)
            return completion
        if self._checking and completion.HasField("successful"):
            divergence = self._compare(act, completion)
            if divergence is not None:
                return self._fail(act, completion, divergence)
        return completion

    def _compare(
        self, act: WorkflowActivation, completion: WorkflowActivationCompletion
    ) -> _Divergence | None:
        made = [
            (command, command.WhichOneof("variant"))
            for command in completion.successful.commands
            if command.WhichOneof("variant") != "respond_to_query"
        ]
        if not made:
            return None
        if any(kind not in _COMMAND_MACHINES for _, kind in made):
            # Another kind of command (a cancellation, a local call, a version, ...) may also
            # undo one of these before it is sent (a timer started and canceled at once
            # leaves no event): from here on, core compares alone.
            self._checking = False
            return None
        history = self._runner.histories.get(self._loop, self._info, act.history_length)
        if history is None:
            self._checking = False
            return None
        events = _command_events(history)
        for command, kind in made:
            machine = _COMMAND_MACHINES[kind or ""]
            if self._matched >= len(events):
                self._checking = False  # past the history: core says what that means
                return None
            event = events[self._matched]
            step_kind = _MACHINES[machine][0]
            if step_kind != "timer":
                self._made.append(CodeCall(step_kind, _command_name(command, kind or "")))
            calls = sum(1 for call in self._made if call.kind == "call")
            recorded = _EVENT_MACHINES.get(event.event_type)
            if recorded is None:
                self._checking = False
                return None
            if recorded != machine:
                text = (
                    f"{machine} machine does not handle this event: "
                    f"HistoryEvent(id: {event.event_id}, {_event_name(event)})"
                )
                return _Divergence(text, calls)
            name, expected = _command_name(command, kind or ""), _event_call_name(event)
            if name != expected:
                if machine != "Activity":
                    self._checking = False  # core words these its own way
                    return None
                text = (
                    f"Activity type of scheduled event '{expected}' does not match activity "
                    f"type of activity command '{name}'"
                )
                return _Divergence(text, calls)
            self._matched += 1
        return None

    def _fail(
        self,
        act: WorkflowActivation,
        completion: WorkflowActivationCompletion,
        divergence: _Divergence,
    ) -> WorkflowActivationCompletion:
        self._checking = False
        history = self._runner.histories.get(self._loop, self._info, act.history_length)
        assert history is not None  # kept since `_compare` fetched it
        calls = recorded_calls(self._info.run_id) or self._made
        # The diverging call is the last one `diagnose` should see.
        cut = [i for i, call in enumerate(calls) if call.kind == "call"]
        if len(cut) >= divergence.calls_made > 0:
            calls = calls[: cut[divergence.calls_made - 1] + 1]
        message = diagnose(
            divergence.text,
            call_steps(history),
            calls,
            source=self._runner.source(self._info.workflow_type),
        )[0]
        self._report(message)
        return WorkflowActivationCompletion(
            run_id=completion.run_id or act.run_id,
            failed=CompletionFailure(
                failure=Failure(
                    message=message,
                    source="wflow",
                    stack_trace=f"Nondeterminism error: {divergence.text}",
                    application_failure_info=ApplicationFailureInfo(type="NondeterminismError"),
                ),
                force_cause=WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR,
            ),
        )

    def _report(self, message: str) -> None:
        if self._reported or self._runner.failures is None:
            return
        self._reported = True
        self._runner.failures(
            FailureReport(
                what="workflow task",
                workflow_id=self._info.workflow_id,
                entry_id=self._info.workflow_type,
                kind="NondeterminismError",
                message=message,
                location=None,  # the message names it
            )
        )

    def _report_core_divergence(self, text: str) -> None:
        """Core found a divergence the check did not: print it in the same words."""
        if self._reported or self._runner.failures is None:
            return
        calls = recorded_calls(self._info.run_id)
        source = self._runner.source(self._info.workflow_type)
        info, runner = self._info, self._runner

        async def report() -> None:
            try:
                handle = runner.client.get_workflow_handle(info.workflow_id, run_id=info.run_id)
                steps = call_steps(await handle.fetch_history())
            except Exception:
                steps = []  # the server is away: core's words, at least
            self._report(diagnose(text, steps, calls, source=source)[0])

        # On the event loop, after the eviction: a workflow task thread must not wait for it.
        self._loop.call_soon_threadsafe(runner.start, report())

    # The rest is the inner instance's.
    def get_serialization_context(self, command_info: Any) -> Any:
        return self._inner.get_serialization_context(command_info)

    def get_external_store_context(self, command_info: Any) -> Any:
        return self._inner.get_external_store_context(command_info)

    def get_info(self) -> workflow.Info:
        return self._inner.get_info()

    def get_thread_id(self) -> int | None:
        return self._inner.get_thread_id()


class CheckingRunner(WorkflowRunner):
    """Runs workflows with another runner, checking their replays against their histories.

    Args:
        inner: The runner that really runs them (the sandbox, or none).
        client: The worker's client, to fetch histories with.
        registry: The project (a Lua workflow's script is where its lines are found).
        failures: Told about each divergence, in `diagnose`'s words (the worker's output).
    """

    def __init__(
        self,
        inner: WorkflowRunner,
        client: Client,
        registry: Registry,
        failures: FailureSink | None,
    ) -> None:
        self.inner = inner
        self.client = client
        self.failures = failures
        self.histories = _Histories(client)
        self._registry = registry
        self._tasks: set[asyncio.Task[None]] = set()

    def prepare_workflow(self, defn: workflow._Definition) -> None:
        self.inner.prepare_workflow(defn)

    def set_worker_level_failure_exception_types(
        self, types: Sequence[type[BaseException]]
    ) -> None:
        self.inner.set_worker_level_failure_exception_types(types)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        # Called on the worker's event loop, which the check fetches histories on.
        return _CheckedInstance(self.inner.create_instance(det), self, asyncio.get_running_loop())

    def source(self, workflow_type: str) -> Path | None:
        """The Lua script of a workflow entry, or None."""
        return source_of(self._registry, workflow_type)[0]

    def start(self, report: Coroutine[Any, Any, None]) -> None:
        """Run `report` on the event loop (the caller is on it), keeping a reference."""
        task = asyncio.get_running_loop().create_task(report)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
