"""Looking up what a call, spawn or start names, with the registry's own kind checks."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from typing import Any

import temporalio.common
import temporalio.workflow

from wflow.model import ErrorKind, SpawnOptions, WflowError, format_pid
from wflow.registry import (
    WORKFLOW_KINDS,
    Entry,
    Registry,
    TemporalWorkerEntry,
    WorkflowEntry,
    WorkflowLuaEntry,
    WorkflowPyEntry,
)
from wflow.temporal._policies import retry_policy, reuse_policy
from wflow.temporal._search_attributes import typed_search_attributes

__all__ = [
    "SpawnPlan",
    "default_workflow_id",
    "function_entry",
    "host_worker",
    "plan_spawn",
    "workflow_entry",
    "workflow_metadata",
]


def _entry_of(
    registry: Registry, ref: str, namespace: str, kinds: tuple[str, ...], types: tuple[type, ...]
) -> Any:
    """The entry `ref` names, one of `kinds` (a bare name resolves in `namespace`).

    Raises:
        WflowError: `NOT_FOUND` for no such entry, `INVALID` for an entry of another kind.
    """
    entry = registry.get(registry.resolve(ref, namespace, kinds))
    assert isinstance(entry, types)  # resolve checked the kind
    return entry


def workflow_entry(registry: Registry, ref: str, namespace: str) -> WorkflowEntry:
    """Return the workflow entry `ref` names (errors as for `_entry_of`)."""
    kinds = (WorkflowLuaEntry, WorkflowPyEntry)
    found: WorkflowEntry = _entry_of(registry, ref, namespace, WORKFLOW_KINDS, kinds)
    return found


def function_entry(registry: Registry, ref: str, namespace: str) -> Entry:
    """Return the entry a function call of `ref` runs (as an activity).

    A function entry, or a process entry registered as an activity; errors as for
    `Registry.activity_entry`.
    """
    return registry.activity_entry(ref, namespace)


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


def workflow_metadata(entry: WorkflowEntry, registry: Registry) -> tuple[str, str]:
    """The summary and details Temporal's web UI shows for a run of `entry`.

    `static_summary`: the entry's kind and ID (`workflow.lua app.workflows:order_processor`);
    `static_details`: where its code is and which worker runs it (Markdown).

    Returns:
        (static_summary, static_details) for `start_workflow` / `start_child_workflow`.
    """
    code = entry.code_file()
    if code is not None:
        source = code.name
    else:
        source = f"{getattr(entry, 'module', '?')}:{getattr(entry, 'method', '?')}"
    where = f"{entry.file.name}:{entry.line}" if entry.file is not None else "decorator"
    worker = registry.worker_of(entry.id, "workflow").id
    return (
        f"{entry.kind} {entry.id}",
        f"**entry** `{entry.id}` ({entry.kind})  \n**code** `{source}`  \n"
        f"**declared** `{where}`  \n**worker** `{worker}`",
    )


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


@dataclasses.dataclass(frozen=True)
class SpawnPlan:
    """What starting a workflow entry resolves to, before the start itself.

    Attributes:
        target: The workflow entry.
        worker: The `temporal.worker` it runs on.
        workflow_id: The workflow ID (given, named, or the default rule).
        pid: Its PID.
        workflow_type: Its Temporal workflow type (the entry ID, or `meta.temporal.workflow.name`).
        start_options: Keyword arguments of `Client.start_workflow` (a client start) or
            `workflow.start_child_workflow` (a child): ID, task queue, timeouts, policies, memo,
            search attributes, priority, summary, versioning.
    """

    target: WorkflowEntry
    worker: TemporalWorkerEntry
    workflow_id: str
    pid: str
    workflow_type: str
    start_options: dict[str, Any]


# The options only one kind of start has, and why the other refuses them.
_CLIENT_ONLY = {
    "start_delay": "Temporal has no start delay for child workflows",
    "enable_eager_start": "eager start is a client start's request",
    "namespace": "a child workflow runs in its parent's namespace",
}
_CHILD_ONLY = {
    "wait_for_cancellation": "only a parent waits for a child's cancellation",
    "parent_close_policy": "a workflow started from outside a workflow has no parent",
}


def _refuse_unsupported(options: SpawnOptions, child: bool, parent_namespace: str | None) -> None:
    """Raise `INVALID` naming an option the start at hand cannot honour (never ignore one)."""
    neutral: dict[str, Any] = {
        "start_delay": None,
        "enable_eager_start": False,
        "namespace": parent_namespace,
        "wait_for_cancellation": None,
        "parent_close_policy": "abandon",  # outside workflows: what a started workflow is
    }
    where = "in a workflow (a child start)" if child else "outside workflows (a client start)"
    for key, why in (_CLIENT_ONLY if child else _CHILD_ONLY).items():
        value = getattr(options, key)
        if value is not None and value != neutral[key] and (key != "namespace" or child):
            raise WflowError(
                f"temporal.workflow.{key} is not available {where}: {why}", ErrorKind.INVALID
            )
    if child and options.conflict_policy() == "terminate_existing":
        raise WflowError(
            "temporal.workflow.id_conflict_policy = terminate_existing is not available in a "
            "workflow (a child start): Temporal's child start has no conflict policy; "
            "terminate the running workflow first (process.terminate)",
            ErrorKind.INVALID,
        )


def _versioning(
    value: str | Mapping[str, str] | None,
) -> temporalio.common.VersioningOverride | None:
    if value is None:
        return None
    if isinstance(value, str):  # SpawnOptions allows only "auto_upgrade"
        return temporalio.common.AutoUpgradeVersioningOverride()
    version = temporalio.common.WorkerDeploymentVersion(
        deployment_name=value["deployment_name"], build_id=value["build_id"]
    )
    return temporalio.common.PinnedVersioningOverride(version)


def plan_spawn(
    registry: Registry,
    entry: str,
    host: str | None,
    namespace: str,
    options: SpawnOptions,
    random: uuid.UUID,
    *,
    child: bool = False,
    parent_namespace: str | None = None,
) -> SpawnPlan:
    """Resolve a spawn of `entry` on `host` with `options`: the one mapping of `SpawnOptions`.

    Used by `Connection.spawn` (a client start) and by spawns inside workflows (a child).

    Args:
        registry: The project registry.
        entry: The workflow entry ID or bare name.
        host: The worker, or None for the entry's own.
        namespace: Where bare names resolve (the caller's; the entry's outside workflows).
        options: The spawn options.
        random: For the default workflow ID (see `default_workflow_id`).
        child: Whether a workflow starts it as its child (else a client start).
        parent_namespace: A child's Temporal namespace (the only one it may name).

    Raises:
        WflowError: `INVALID` naming an option this kind of start cannot honour.
    """
    _refuse_unsupported(options, child, parent_namespace)
    target = workflow_entry(registry, entry, namespace)
    worker = host_worker(registry, host, target, namespace or target.namespace)
    workflow_id = options.workflow_id_for(target.id) or default_workflow_id(target.id, random)
    summary, details = workflow_metadata(target, registry)
    start: dict[str, Any] = {
        "id": workflow_id,
        "task_queue": options.task_queue or registry.task_queue_of(worker),
        "execution_timeout": options.execution_timeout,
        "run_timeout": options.run_timeout,
        "task_timeout": options.task_timeout,
        "id_reuse_policy": reuse_policy(options.id_reuse_policy),
        "retry_policy": retry_policy(options.retry_policy),
        "cron_schedule": options.cron_schedule or "",
        "memo": dict(options.memo) if options.memo else None,
        "search_attributes": (
            typed_search_attributes(options.search_attributes, registry.search_attribute_types())
            if options.search_attributes
            else None
        ),
        "static_summary": options.summary or summary,
        "static_details": options.details or details,
        "priority": temporalio.common.Priority(priority_key=options.priority),
        "versioning_override": _versioning(options.versioning_override),
    }
    if child:
        start["parent_close_policy"] = temporalio.workflow.ParentClosePolicy[
            (options.parent_close_policy or "abandon").upper()
        ]
        # Unset keeps temporalio's default (the parent waits), as before the option existed.
        if options.wait_for_cancellation is False:
            start["cancellation_type"] = (
                temporalio.workflow.ChildWorkflowCancellationType.TRY_CANCEL
            )
    else:
        start["start_delay"] = options.start_delay
        start["request_eager_start"] = options.enable_eager_start
    return SpawnPlan(
        target=target,
        worker=worker,
        workflow_id=workflow_id,
        pid=format_pid(worker.id, workflow_id),
        workflow_type=target.workflow_type(),
        start_options=start,
    )
