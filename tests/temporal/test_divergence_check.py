"""The worker's divergence check on its own: which replayed commands it calls a divergence.

No server: a stand-in workflow instance answers each activation with given commands, and the
run's history is one the check already holds. What must hold: a real difference fails the
task in `wflow replay`'s words, and nothing that core would accept is called a divergence
(the check stops at any command it does not compare).
"""

from __future__ import annotations

import asyncio
import types
from typing import Any

from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent
from temporalio.bridge.proto.workflow_activation import RemoveFromCache, WorkflowActivation
from temporalio.bridge.proto.workflow_commands import WorkflowCommand
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.client import WorkflowHistory
from temporalio.worker import UnsandboxedWorkflowRunner

from wflow.temporal._divergence import CheckingRunner, _CheckedInstance
from wflow.temporal._failure_reports import FailureReport

RUN = "run-1"
INFO = types.SimpleNamespace(run_id=RUN, workflow_id="wf-1", workflow_type="app:order")


def _history() -> WorkflowHistory:
    """start, call app:charge (event 5), sleep (event 9), call app:ship (event 13)."""
    events = [HistoryEvent(event_id=1, event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)]
    events[0].workflow_execution_started_event_attributes.workflow_type.name = "app:order"
    charge = HistoryEvent(event_id=5, event_type=EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    charge.activity_task_scheduled_event_attributes.activity_type.name = "app:charge"
    timer = HistoryEvent(event_id=9, event_type=EventType.EVENT_TYPE_TIMER_STARTED)
    timer.timer_started_event_attributes.timer_id = "1"
    timer.timer_started_event_attributes.start_to_fire_timeout.seconds = 60
    ship = HistoryEvent(event_id=13, event_type=EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    ship.activity_task_scheduled_event_attributes.activity_type.name = "app:ship"
    return WorkflowHistory("wf-1", [*events, charge, timer, ship])


class _Code:
    """Stands in for a workflow instance: answers activation N with the N-th command list."""

    def __init__(self, *answers: list[WorkflowCommand]) -> None:
        self.answers = list(answers)

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        completion = WorkflowActivationCompletion(run_id=act.run_id)
        completion.successful.commands.extend(self.answers.pop(0) if self.answers else [])
        return completion

    def get_info(self) -> Any:
        return INFO


def _activity(name: str) -> WorkflowCommand:
    command = WorkflowCommand()
    command.schedule_activity.activity_type = name
    return command


def _timer(seq: int) -> WorkflowCommand:
    command = WorkflowCommand()
    command.start_timer.seq = seq
    return command


def _cancel_timer(seq: int) -> WorkflowCommand:
    command = WorkflowCommand()
    command.cancel_timer.seq = seq
    return command


def _run(
    *answers: list[WorkflowCommand], replaying: bool = True
) -> tuple[list[WorkflowActivationCompletion], list[FailureReport]]:
    reports: list[FailureReport] = []
    runner = CheckingRunner(UnsandboxedWorkflowRunner(), None, None, reports.append)  # type: ignore[arg-type]
    runner.histories._kept[RUN] = _history()  # held already: nothing to fetch
    runner.source = lambda workflow_type: None  # type: ignore[method-assign]
    loop = asyncio.new_event_loop()
    try:
        instance = _CheckedInstance(_Code(*answers), runner, loop)  # type: ignore[arg-type]
        activation = WorkflowActivation(run_id=RUN, is_replaying=replaying, history_length=3)
        return [instance.activate(activation) for _ in answers], reports
    finally:
        loop.close()


def test_a_different_call_fails_the_task_in_call_level_words() -> None:
    completions, reports = _run([_activity("app:charge")], [_timer(1)], [_activity("app:refund")])
    assert [c.HasField("successful") for c in completions] == [True, True, False]
    failed = completions[2].failed
    message = "history has funcs.call app:ship at step 4; the code now calls app:refund"
    assert failed.failure.message == message
    assert failed.failure.application_failure_info.type == "NondeterminismError"
    assert (
        failed.force_cause
        == WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR
    )
    assert [(r.what, r.kind, r.message) for r in reports] == [
        ("workflow task", "NondeterminismError", message)
    ]


def test_a_call_where_the_history_sleeps() -> None:
    completions, _ = _run([_activity("app:charge")], [_activity("app:ship")])
    assert completions[1].failed.failure.message == (
        "history has time.sleep 1m0s at step 3; the code now calls app:ship"
    )


def test_the_same_calls_pass_unchanged() -> None:
    answers = ([_activity("app:charge")], [_timer(1)], [_activity("app:ship")])
    completions, reports = _run(*answers)
    assert all(c.HasField("successful") for c in completions)
    assert [len(c.successful.commands) for c in completions] == [1, 1, 1]
    assert reports == []


def test_a_timer_started_and_canceled_at_once_is_left_to_core() -> None:
    # Core sends neither command (the timer never reaches the history): no divergence here,
    # and the check stops, so the later call is not compared against the wrong event.
    answers = ([_activity("app:charge")], [_timer(1), _cancel_timer(1)], [_activity("app:x")])
    completions, reports = _run(*answers)
    assert all(c.HasField("successful") for c in completions)
    assert reports == []


def test_activations_that_are_not_replayed_are_not_checked() -> None:
    completions, reports = _run([_activity("app:other")], replaying=False)
    assert completions[0].HasField("successful")
    assert reports == []


class _Handle:
    async def fetch_history(self) -> WorkflowHistory:
        return _history()


class _Client:
    def get_workflow_handle(self, workflow_id: str, *, run_id: str) -> _Handle:
        assert (workflow_id, run_id) == ("wf-1", RUN)
        return _Handle()


def test_a_divergence_core_found_first_is_printed_in_the_same_words() -> None:
    # A difference the check leaves to core (here: any; core's eviction says what it found).
    reports: list[FailureReport] = []
    runner = CheckingRunner(UnsandboxedWorkflowRunner(), _Client(), None, reports.append)  # type: ignore[arg-type]
    runner.source = lambda workflow_type: None  # type: ignore[method-assign]
    loop = asyncio.new_event_loop()
    try:
        instance = _CheckedInstance(_Code(), runner, loop)  # type: ignore[arg-type]
        eviction = WorkflowActivation(run_id=RUN)
        job = eviction.jobs.add().remove_from_cache
        job.reason = RemoveFromCache.EvictionReason.NONDETERMINISM
        job.message = (
            "[TMPRL1100] Nondeterminism error: Activity type of scheduled event 'app:ship' "
            "does not match activity type of activity command 'app:refund'"
        )
        instance.activate(eviction)

        async def reported() -> None:
            await asyncio.sleep(0)  # the report is scheduled on the loop, then runs there
            await asyncio.gather(*runner._tasks)

        loop.run_until_complete(reported())
    finally:
        loop.close()
    assert [r.message for r in reports] == [
        "history has funcs.call app:ship at step 4; the code now calls app:refund"
    ]
