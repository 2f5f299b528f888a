"""Replaying recorded histories with wflow's workflow classes, as its workers run them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio.worker import Replayer

from wflow.model import ErrorKind, WflowError
from wflow.registry import Registry, WorkflowLuaEntry, WorkflowPyEntry
from wflow.temporal._worker import build_replayer
from wflow.temporal._workflows import workflow_class as _workflow_class

__all__ = ["replayer", "workflow_class", "workflow_classes"]


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
