"""Replaying recorded histories with wflow's workflow classes, as its workers run them.

`replay(project, "histories/*.json")` is the regression test against stored runs: it replays
each file with `wflow.temporal.replay_history` (whose diagnosis says, in calls, where the code
left its history) and fails with the history's calls and the code's call set against them.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from wflow.model import ErrorKind, WflowError
from wflow.registry import Registry, WorkflowLuaEntry, WorkflowPyEntry, load_project
from wflow.temporal import (
    ReplayOutcome,
    call_steps,
    describe_steps,
    read_history_file,
    replay_history,
)
from wflow.temporal._worker import build_replayer
from wflow.temporal._workflows import workflow_class as _workflow_class

__all__ = ["replay", "replay_report", "replayer", "workflow_class", "workflow_classes"]


def workflow_class(registry: Registry, entry_id: str, *, sandboxed: bool | None = None) -> type:
    """Return a Temporal workflow class for one workflow entry, as a worker builds it.

    Its workflow type is the entry ID, so it replays histories of that entry.

    Args:
        registry: The project registry.
        entry_id: The workflow entry.
        sandboxed: Run it inside Temporal's Python sandbox (True) or not (False) instead of
            the entry's own setting (None; Lua workflows never need the sandbox). For
            measuring what the sandbox costs; the run itself is still the entry's.

    Returns:
        A new workflow class.

    Raises:
        WflowError: `NOT_FOUND` when no entry has that ID, `INVALID` when it is no workflow.
    """
    entry = registry.get(entry_id)
    if not isinstance(entry, (WorkflowLuaEntry, WorkflowPyEntry)):
        raise WflowError(f"{entry_id} is a {entry.kind} entry, not a workflow", ErrorKind.INVALID)
    return _workflow_class(entry, registry, sandboxed=sandboxed)


def workflow_classes(registry: Registry) -> list[type]:
    """Return the workflow classes of all of the project's workflow entries.

    Args:
        registry: The project registry.

    Returns:
        One class per workflow entry, in the registry's order.
    """
    return [_workflow_class(entry, registry) for entry in registry.workflows()]


def replayer(
    registry: Registry, *, workflows: Sequence[type] | None = None, **kwargs: Any
) -> Replayer:
    """Return a temporalio `Replayer` configured as wflow's workers are.

    Same workflow classes, workflow runner (the sandbox for Python workflows that want it)
    and interceptors, so a history recorded from a real run replays exactly as a worker
    would replay it; a changed workflow that no longer matches fails with a
    nondeterminism error.

    Example:
        ```python
        history = WorkflowHistory.from_json(workflow_id, Path("run.json").read_text())
        await replayer(load_project("my_project")).replay_workflow(history)
        ```

    Args:
        registry: The project registry.
        workflows: The classes to replay with; `workflow_classes(registry)` by default.
        **kwargs: More arguments for `Replayer` (`debug_mode`, ...).

    Returns:
        The replayer.
    """
    return build_replayer(registry, workflows=workflows, **kwargs)


def _history_files(base: Path | None, patterns: Sequence[str | Path]) -> list[Path]:
    found: list[Path] = []
    for pattern in patterns:
        path = Path(pattern)
        if not path.is_absolute() and base is not None:
            path = base / path
        matches = sorted(Path(match) for match in glob.glob(str(path), recursive=True))
        if not matches:
            raise WflowError(f"replay: no history file matches {str(path)!r}", ErrorKind.NOT_FOUND)
        found += [match for match in matches if match not in found]
    return found


def replay_report(label: str, history: WorkflowHistory, outcome: ReplayOutcome) -> str:
    """Say how one history failed to replay, as the history's calls with the code's against them.

    The history's steps as `wflow history` prints them; at the step where the code left it,
    `-` marks what the history has and `+` what the code does now (with its `file:line`).

    Args:
        label: What to call the history (its file).
        history: The history.
        outcome: How it replayed (`replay_history`).

    Returns:
        Lines for people, starting with the label and the diagnosis.
    """
    steps = call_steps(history)
    lines = [f"{label} ({outcome.workflow_type}, {outcome.steps} steps): {outcome.status}"]
    lines.append(f"  {outcome.message}")
    if outcome.status != "diverged":
        return "\n".join(lines)
    actual = outcome.actual or "something else"
    if outcome.location:
        actual += f"  ({outcome.location})"
    width = len(str(len(steps)))
    for step, text in zip(steps, describe_steps(steps), strict=True):
        if step.number == outcome.step:
            lines.append(f"  - {text}")
            lines.append(f"  + {'':>{width}}  {actual}")
        else:
            lines.append(f"    {text}")
    if outcome.step is None:
        lines.append(f"  + {'':>{width}}  {actual}")
    return "\n".join(lines)


async def replay(
    project: Registry | str | Path, *patterns: str | Path, **replayer_options: Any
) -> list[ReplayOutcome]:
    """Replay stored histories against the project's current code; fail where one diverges.

    The regression test for a workflow change: histories recorded from earlier runs (saved
    with `RunRecord.save_history` or `wflow history PID --raw > file.json`) must replay with
    the code as it is now. Each is replayed as a worker would replay it
    (`wflow.temporal.replay_history`); no server is needed.

    Example:
        ```python
        async def test_recorded_runs_still_replay() -> None:
            await replay(PROJECT, "histories/*.json")
        ```

    Args:
        project: The project (a folder or a loaded `Registry`).
        *patterns: Glob patterns of history files (`**` allowed); relative ones are relative
            to the project folder. The workflow ID of each is the file's stem.
        **replayer_options: More arguments for temporalio's `Replayer`.

    Returns:
        The outcomes, one per file, all `ok`.

    Raises:
        AssertionError: A history diverged or the code failed while replaying it; the
            message shows, for each such file, the diagnosis (`history has funcs.call a at
            step 3; the code now calls b (order.lua:5)`) and the history's calls with the
            code's call marked `+` against the history's `-`.
        WflowError: `NOT_FOUND` when a pattern matches no file (a replay test that replays
            nothing would pass for nothing), `INVALID` for a file that is no history.
    """
    if isinstance(project, Registry):
        registry, base = project, project.root
    else:
        registry, base = load_project(Path(project)), Path(project)
    if not patterns:
        raise WflowError("replay: give at least one history file pattern", ErrorKind.INVALID)
    files = _history_files(base, patterns)
    outcomes: list[ReplayOutcome] = []
    reports: list[str] = []
    for path in files:
        history = read_history_file(path)
        outcome = await replay_history(registry, history, **replayer_options)
        outcomes.append(outcome)
        if not outcome.ok:
            label = str(path.relative_to(base)) if base and path.is_relative_to(base) else str(path)
            reports.append(replay_report(label, history, outcome))
    if reports:
        raise AssertionError(
            f"{len(reports)} of {len(files)} recorded histories no longer replay:\n\n"
            + "\n\n".join(reports)
        )
    return outcomes
