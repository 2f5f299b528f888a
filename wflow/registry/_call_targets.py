"""Checking a literal call target found in a program's source against the registry.

`wflow validate` finds literal targets in Lua sources (`lua_bridge._static_check`) and in
Python DSL modules (`wflow.dsl._python_check`); both ask `target_problems` what is wrong with
one, so a target reads the same in either language. The rules are the executor's: a bare name
resolves in the calling entry's namespace, `funcs.*` names a function entry, spawning names a
workflow entry, and a function call runs on the task queue of the worker its function entry
runs on (`Registry.worker_of(..., "activity")`). Targets are checked only against a registry
that has entries of the kind they name (else it is a fragment of a project).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from wflow.model import WflowError
from wflow.registry._registry import Registry
from wflow.registry._schema import (
    FUNCTION_KINDS,
    PROCESS_KINDS,
    WORKFLOW_KINDS,
    TemporalWorkerEntry,
)

__all__ = ["TARGET_CALLS", "TargetKind", "target_problems"]

TargetKind = Literal["function", "workflow"]
"""What a call's target names: a function entry (`funcs.*`) or a workflow entry (spawning)."""

TARGET_CALLS: Mapping[tuple[str, str], tuple[TargetKind, bool]] = {
    ("funcs", "call"): ("function", False),
    ("process", "spawn"): ("workflow", True),
    ("process", "spawn_monitored"): ("workflow", True),
    ("process", "spawn_linked"): ("workflow", True),
    ("process", "spawn_linked_monitored"): ("workflow", True),
    ("process", "exec"): ("workflow", True),
    ("workflow", "exec"): ("workflow", False),
}
"""The calls that name a target in both languages: (module, function) -> what the first
argument names, and whether a host argument follows it. Each checker adds its language's
spellings of the others (Lua's `funcs.async`, Python's `funcs.start` and `funcs.async_`)."""


def _quoted(call: str, target: str, host: str | None) -> str:
    args = f'"{target}"' if host is None else f'"{target}", "{host}"'
    return f"{call}({args})"


def target_problems(
    registry: Registry,
    namespace: str | None,
    call: str,
    target: str,
    kind: TargetKind,
    *,
    host: str | None = None,
    default_queue: bool = False,
) -> list[str]:
    """Return what is wrong with one literal call target, one message each (empty if fine).

    Args:
        registry: The project's registry.
        namespace: Where a bare name resolves (the calling entry's namespace), or None when
            it is not known: then bare names are left alone.
        call: How the source spells the call (`funcs.call`, `process.spawn`, ...).
        target: The literal target.
        kind: Whether it must name a function or a workflow entry.
        host: A literal worker reference (`process.spawn(entry, host)`), or None.
        default_queue: The call runs on its function's worker's task queue (no options that
            might name another queue): check that a started worker serves it.

    Returns:
        Messages like `funcs.call("app.api:chrage"): no entry 'app.api:chrage' (did you mean
        'app.api:charge'?)`, without a location.
    """
    prefix = _quoted(call, target, host) + ": "
    if ":" not in target and namespace is None:
        return []
    kinds = FUNCTION_KINDS if kind == "function" else WORKFLOW_KINDS
    if kind == "workflow" and "spawn" in call:
        kinds = (*WORKFLOW_KINDS, *PROCESS_KINDS)  # a spawn may start a process as well
    if kind == "function":
        kinds = (*FUNCTION_KINDS, *PROCESS_KINDS)  # a process may be registered as an activity
    if not registry.of_kind(*kinds):
        # A registry without a single entry of that kind is a fragment (one definition file
        # loaded alone, workflows checked before their functions exist): nothing to check
        # against, rather than a report for every call.
        return []
    try:
        if kind == "function":  # a function, or a process registered as an activity
            full = registry.activity_entry(target, namespace or "").id
        else:
            full = registry.resolve(target, namespace or "", tuple(kinds))
    except WflowError as exc:
        return [prefix + exc.message]
    problems: list[str] = []
    if host is not None and (":" in host or namespace is not None):
        try:
            registry.resolve(host, namespace or "", ("temporal.worker", "process.host"))
        except WflowError as exc:
            problems.append(prefix + "host: " + exc.message)
    if kind == "function" and default_queue:
        problems.extend(prefix + message for message in _unreachable(registry, full))
    return problems


def _unreachable(registry: Registry, function_id: str) -> list[str]:
    entry = registry.get(function_id)
    try:
        worker = registry.worker_of(entry, "activity")
    except WflowError as exc:
        if entry.worker_ref("activity") is not None:
            return []  # a meta naming no worker: the registry reports it at the entry
        return [f"the call cannot be scheduled: {exc.message}"]
    if isinstance(worker, TemporalWorkerEntry) and not worker.lifecycle.auto_start:
        return [
            f"'{function_id}' runs on worker '{worker.id}', which has lifecycle.auto_start: "
            f"false, so no wflow command polls its task queue "
            f"'{registry.task_queue_of(worker)}'; set auto_start: true, or name a started "
            "worker in its meta.temporal.activity.worker"
        ]
    return []
