"""Building Temporal workers from a project's `temporal.worker` entries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from wflow.temporal._activities import function_activity
from wflow.temporal._headers import HeaderInterceptor
from wflow.temporal._workflows import workflow_class

__all__ = ["build_workers", "sandbox_runner"]

_PASSED_THROUGH = ("wflow", "lua_bridge", "pydantic", "pydantic_core", "ruamel", "lupa")


def sandbox_runner() -> SandboxedWorkflowRunner:
    """Return the sandbox runner for Python workflows.

    wflow itself is passed through: its workflow classes are generated at run time and must be
    found by name, and its modules hold no per-workflow state. User modules are still
    re-imported inside the sandbox with its restrictions.
    """
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*_PASSED_THROUGH)
    return SandboxedWorkflowRunner(restrictions=restrictions)


def build_workers(registry: Any, clients: Mapping[str | None, Client]) -> list[Worker]:
    """Return one Temporal worker per auto-started `temporal.worker` entry with work.

    Args:
        registry: The project registry.
        clients: Connected clients by `temporal.client` entry ID (None for a worker without
            a client reference).
    """
    workers: list[Worker] = []
    activity = function_activity(registry)
    for worker_entry in registry.workers():
        if not worker_entry.lifecycle.auto_start:
            continue
        workflows = [
            workflow_class(entry, registry)
            for entry in registry.workflows()
            if registry.worker_of(entry.id, "workflow").id == worker_entry.id
        ]
        has_functions = any(
            registry.worker_of(entry.id, "activity").id == worker_entry.id
            for entry in registry.functions()
        )
        if not workflows and not has_functions:
            continue
        client_entry = registry.client_of(worker_entry)
        options = worker_entry.worker_options
        settings = {
            "max_concurrent_activities": options.max_concurrent_activity_execution_size,
            "max_concurrent_workflow_tasks": options.max_concurrent_workflow_task_execution_size,
            "max_cached_workflows": options.max_cached_workflows,
            "identity": options.identity,
        }
        extra: dict[str, Any] = {k: v for k, v in settings.items() if v is not None}
        workers.append(
            Worker(
                clients[client_entry.id if client_entry is not None else None],
                task_queue=registry.task_queue_of(worker_entry),
                workflows=workflows,
                # Always: workflows terminate other workflows through it too.
                activities=[activity],
                workflow_runner=sandbox_runner(),
                interceptors=[HeaderInterceptor()],
                **extra,
            )
        )
    return workers
