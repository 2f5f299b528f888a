"""Looking up what a call, spawn or start names, with the registry's own kind checks."""

from __future__ import annotations

import uuid

from wflow.registry import (
    FUNCTION_KINDS,
    WORKFLOW_KINDS,
    FunctionEntry,
    FunctionLuaEntry,
    FunctionPyEntry,
    Registry,
    TemporalWorkerEntry,
    WorkflowEntry,
    WorkflowLuaEntry,
    WorkflowPyEntry,
)

__all__ = ["default_workflow_id", "function_entry", "host_worker", "workflow_entry"]


def workflow_entry(registry: Registry, ref: str, namespace: str) -> WorkflowEntry:
    """Return the workflow entry `ref` names (a bare name resolves in `namespace`).

    Raises:
        WflowError: `NOT_FOUND` for no such entry, `INVALID` for an entry of another kind.
    """
    entry = registry.get(registry.resolve(ref, namespace, WORKFLOW_KINDS))
    assert isinstance(entry, (WorkflowLuaEntry, WorkflowPyEntry))  # resolve checked the kind
    return entry


def function_entry(registry: Registry, ref: str, namespace: str) -> FunctionEntry:
    """Return the function entry `ref` names (a bare name resolves in `namespace`).

    Raises:
        WflowError: `NOT_FOUND` for no such entry, `INVALID` for an entry of another kind.
    """
    entry = registry.get(registry.resolve(ref, namespace, FUNCTION_KINDS))
    assert isinstance(entry, (FunctionLuaEntry, FunctionPyEntry))  # resolve checked the kind
    return entry


def host_worker(
    registry: Registry, host: str | None, entry: WorkflowEntry, namespace: str
) -> TemporalWorkerEntry:
    """Return the `temporal.worker` a spawn of `entry` runs on.

    Args:
        registry: The project registry.
        host: A worker entry ID or bare name, or None for the entry's own worker.
        entry: The workflow entry being started.
        namespace: Where a bare `host` resolves: the caller's namespace.
    """
    if host is None:
        return registry.worker_of(entry.id, "workflow")
    worker = registry.get(registry.resolve(host, namespace, ("temporal.worker",)))
    assert isinstance(worker, TemporalWorkerEntry)  # resolve checked the kind
    return worker


def default_workflow_id(entry_id: str, random: uuid.UUID) -> str:
    """Return the ID of a workflow started without one: its entry ID and 12 random hex digits.

    The one rule for `wflow run`, `Session.start`, `Connection.spawn` and spawns inside
    workflows.

    Args:
        entry_id: The workflow entry.
        random: A random UUID: `workflow.uuid4()` inside a workflow (so a replay makes the same
            ID), `uuid.uuid4()` elsewhere.
    """
    return f"{entry_id}-{random.hex[:12]}"
