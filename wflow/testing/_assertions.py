"""History assertions: the calls a run made, and whether two runs left the same history."""

from __future__ import annotations

import dataclasses
import difflib
import pprint
from collections.abc import Iterable, Sequence
from typing import Any

from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

from wflow.temporal import CallStep, call_steps, describe_steps
from wflow.testing._history import history_summary

__all__ = ["HistoryLike", "assert_same_calls", "assert_same_history", "calls"]

HistoryLike = WorkflowHistory | Iterable[HistoryEvent] | Sequence[tuple[Any, ...]] | Any
"""A history (`WorkflowHistory`, its events), its `history_summary`, or anything with a
`history` attribute holding one (a `RunRecord`)."""


def _events(history: Any) -> Any:
    return getattr(history, "history", history)


def _summary(history: Any) -> list[tuple[Any, ...]]:
    history = _events(history)
    if isinstance(history, WorkflowHistory):
        return history_summary(history)
    items = list(history)
    if all(isinstance(item, tuple) for item in items):
        return items  # already a summary
    return history_summary(items)


def calls(history: HistoryLike) -> list[CallStep]:
    """Return the intercepted calls of a run, in order: what `wflow history` prints.

    One `CallStep` per function call, timer, message, child, ..., between the run's `start`
    and how it ended, with arguments, results and errors decoded.

    Example:
        ```python
        record = await wflow_env.execute(PROJECT, "app.workflows:order_processor", order)
        assert [(s.kind, s.name) for s in calls(record)][1] == ("call", "app.api:charge_card")
        ```

    Args:
        history: A `WorkflowHistory`, its events, or a `RunRecord`.

    Returns:
        The steps, numbered from 1.
    """
    return call_steps(_events(history))


def _diff(left: list[str], right: list[str], names: tuple[str, str]) -> str:
    return "\n".join(
        difflib.unified_diff(left, right, fromfile=names[0], tofile=names[1], lineterm="")
    )


def assert_same_history(
    a: HistoryLike, b: HistoryLike, *, names: tuple[str, str] = ("a", "b")
) -> None:
    """Assert that two runs left equivalent histories (`history_summary` equal).

    What must agree between a Lua workflow and its Python twin: the event types in order,
    every scheduled function call (entry, decoded arguments, task queue, timeouts, retry
    policy, headers), timers, and the result or failure; worker identities, timestamps and
    the like are left out (`wflow.testing.event_summary`).

    Example:
        ```python
        lua = await wflow_env.execute(PROJECT, "app.workflows:order_saga")
        python = await wflow_env.execute(PROJECT, "app.twins:order_saga")
        assert_same_history(lua, python, names=("lua", "python"))
        ```

    Args:
        a: One history (or its summary, or a `RunRecord`).
        b: The other.
        names: What to call them in the diff.

    Raises:
        AssertionError: They differ; the message is a unified diff, one event per line.
    """
    left, right = _summary(a), _summary(b)
    if left == right:
        return
    lines = [pprint.pformat(event, width=200) for event in left]
    other = [pprint.pformat(event, width=200) for event in right]
    raise AssertionError(
        f"the histories differ ({len(left)} vs {len(right)} events):\n" + _diff(lines, other, names)
    )


def _described(history: HistoryLike) -> list[str]:
    # The workflow's own entry ID is not a call it made (twins differ in it): leave it out.
    steps = [
        dataclasses.replace(step, name="workflow") if step.kind == "start" else step
        for step in calls(history)
    ]
    return describe_steps(steps)


def assert_same_calls(
    a: HistoryLike, b: HistoryLike, *, names: tuple[str, str] = ("a", "b")
) -> None:
    """Assert that two runs made the same intercepted calls (`calls`), in the same order.

    Compared as `wflow history` prints them: kind, entry, arguments, outcome; not the
    workflow's own entry ID (a Lua workflow and its Python twin differ in it). Coarser than
    `assert_same_history` (no task queues, timeouts or headers): for two runs that need
    only do the same thing, e.g. a recorded run and a new one.

    Raises:
        AssertionError: They differ; the message is a diff of the calls as `wflow history`
            prints them.
    """
    left, right = _described(a), _described(b)
    if left != right:
        raise AssertionError("the calls differ:\n" + _diff(left, right, names))
