"""Looking up what a call, spawn or start names, with the registry's own kind checks."""

from __future__ import annotations

from typing import Any

from wflow.registry import FUNCTION_KINDS, WORKFLOW_KINDS

__all__ = ["function_entry", "host_worker", "workflow_entry"]


def workflow_entry(registry: Any, ref: str, namespace: str) -> Any:
    """Return the workflow entry `ref` names (a bare name resolves in `namespace`).

    Raises:
        WflowError: `NOT_FOUND` for no such entry, `INVALID` for an entry of another kind.
    """
    return registry.get(registry.resolve(ref, namespace, WORKFLOW_KINDS))


def function_entry(registry: Any, ref: str, namespace: str) -> Any:
    """Return the function entry `ref` names (a bare name resolves in `namespace`)."""
    return registry.get(registry.resolve(ref, namespace, FUNCTION_KINDS))


def host_worker(registry: Any, host: str | None, entry: Any, namespace: str) -> Any:
    """Return the `temporal.worker` a spawn of `entry` runs on.

    Args:
        registry: The project registry.
        host: A worker entry ID or bare name, or None for the entry's own worker.
        entry: The workflow entry being started.
        namespace: Where a bare `host` resolves: the caller's namespace.
    """
    if host is None:
        return registry.worker_of(entry.id, "workflow")
    return registry.get(registry.resolve(host, namespace, ("temporal.worker",)))
