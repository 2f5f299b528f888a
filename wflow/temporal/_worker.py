"""Building Temporal workers from a project's `temporal.worker` entries."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from temporalio.client import Client
from temporalio.worker import (
    Interceptor,
    Replayer,
    UnsandboxedWorkflowRunner,
    Worker,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from wflow.model import ErrorKind, WflowError, engine_for
from wflow.registry import Registry, WorkerOptions, WorkflowEntry
from wflow.temporal._activities import function_activity
from wflow.temporal._attempt_cap import AttemptCapInterceptor
from wflow.temporal._divergence import CallRecorder, CheckingRunner
from wflow.temporal._failure_reports import FailureSink
from wflow.temporal._headers import HeaderInterceptor
from wflow.temporal._payloads import DATA_CONVERTER
from wflow.temporal._workflows import workflow_class

__all__ = ["CACHE_ENV", "build_replayer", "build_workers", "sandbox_runner"]

CACHE_ENV = "WFLOW_MAX_CACHED_WORKFLOWS"
"""Environment variable: `max_cached_workflows` for workers whose entry does not set it.

`0` turns the workflow cache off, so every workflow task replays the history from the start
(CI runs the workflow tests a second time that way).
"""

# opentelemetry: the tracing interceptor's workflow half uses it (wflow.temporal._tracing).
_PASSED_THROUGH = ("wflow", "pydantic", "pydantic_core", "ruamel", "opentelemetry")
"""wflow and what its own modules import; engines add theirs (`Engine.sandbox_passthrough`)."""


def sandbox_runner(passthrough: Iterable[str] = ()) -> SandboxedWorkflowRunner:
    """Return the sandbox runner for Python workflows.

    wflow itself is passed through: its workflow classes are generated at run time and must be
    found by name, and its modules hold no per-workflow state. User modules are still
    re-imported inside the sandbox with its restrictions.

    Args:
        passthrough: More modules to pass through, e.g. those the engines of the worker's
            workflows name.
    """
    modules = dict.fromkeys([*_PASSED_THROUGH, *passthrough])  # ordered, without repeats
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*modules)
    return SandboxedWorkflowRunner(restrictions=restrictions)


def _engine_passthrough(workflows: Iterable[WorkflowEntry]) -> list[str]:
    # Only workflows run in the sandbox, so only their engines' modules matter.
    modules: list[str] = []
    for entry in workflows:
        modules.extend(engine_for(entry.kind).sandbox_passthrough)
    return modules


def _worker_kwargs(options: WorkerOptions) -> dict[str, Any]:
    """The entry's `worker_options` as Worker keywords, with `CACHE_ENV` as the cache default."""
    kwargs: dict[str, Any] = options.to_temporalio_kwargs()
    cached = os.environ.get(CACHE_ENV, "").strip()
    if cached and "max_cached_workflows" not in kwargs:
        if not cached.isdigit():
            raise WflowError(
                f"{CACHE_ENV}={cached!r}: expected a whole number of workflows, 0 or more "
                "(0 turns the workflow cache off)",
                ErrorKind.INVALID,
            )
        kwargs["max_cached_workflows"] = int(cached)
    return kwargs


def build_workers(
    registry: Registry,
    clients: Mapping[str | None, Client],
    *,
    failures: FailureSink | None = None,
) -> list[Worker]:
    """Return one Temporal worker per auto-started `temporal.worker` entry with work.

    Which entries a worker serves is the registry's rule (`Registry.workflows_on`,
    `Registry.functions_on`). Every worker applies a workflow's `--max-attempts` cap
    (`wflow.temporal._attempt_cap`). `max_cached_workflows` comes from the entry's
    `worker_options`, else from the `WFLOW_MAX_CACHED_WORKFLOWS` environment variable, else
    Temporal's default.

    Args:
        registry: The project registry.
        clients: Connected clients by `temporal.client` entry ID (None for a worker without
            a client reference).
        failures: Told about each failed function attempt and workflow task, located in the
            user's code (`wflow.temporal._failure_reports`).

    Raises:
        WflowError: `INVALID` when a workflow has no worker to run on, or
            `WFLOW_MAX_CACHED_WORKFLOWS` is not a whole number.
    """
    starting = [worker for worker in registry.workers() if worker.lifecycle.auto_start]
    if starting:
        # A workflow no worker serves would wait forever: refuse to start instead.
        for entry in registry.workflows():
            registry.worker_of(entry, "workflow")
    workers: list[Worker] = []
    activity = function_activity(registry, failures)
    for worker_entry in starting:
        served = registry.workflows_on(worker_entry)
        if worker_entry.worker_options.disable_workflow_worker:
            served = []  # Wippy's `disable_workflow_worker`: functions only
        if (
            not served
            and not registry.functions_on(worker_entry)
            and not registry.process_activities_on(worker_entry)
        ):
            continue
        client_entry = registry.client_of(worker_entry)
        client = clients[client_entry.id if client_entry is not None else None]
        # A replay that diverges fails its task in call-level words (`_divergence`).
        sandboxed = sandbox_runner(_engine_passthrough(served))

        workers.append(
            Worker(
                client,
                task_queue=registry.task_queue_of(worker_entry),
                workflows=[workflow_class(entry, registry, failures=failures) for entry in served],
                # Always: workflows terminate other workflows through it too.
                activities=[activity],
                workflow_runner=CheckingRunner(sandboxed, client, registry, failures),
                unsandboxed_workflow_runner=CheckingRunner(
                    UnsandboxedWorkflowRunner(), client, registry, failures
                ),
                interceptors=[
                    HeaderInterceptor(),
                    AttemptCapInterceptor(),
                    CallRecorder(only_while_replaying=True),
                ],
                **_worker_kwargs(worker_entry.worker_options),
            )
        )
    return workers


def build_replayer(
    registry: Registry,
    *,
    workflows: Iterable[type] | None = None,
    interceptors: Iterable[Interceptor] = (),
    **kwargs: Any,
) -> Replayer:
    """Return a temporalio `Replayer` set up as `build_workers` sets up workers.

    The same workflow classes, sandbox (with the engines' passthrough modules), header
    interceptor and payload converter, so a history replays as a worker would replay it.

    Args:
        registry: The project registry.
        workflows: The classes to replay with; one per workflow entry by default.
        interceptors: More interceptors, after wflow's own.
        **kwargs: More arguments for `Replayer` (`debug_mode`, `data_converter`, ...).
    """
    entries = registry.workflows()
    return Replayer(
        workflows=(
            list(workflows)
            if workflows is not None
            else [workflow_class(entry, registry) for entry in entries]
        ),
        workflow_runner=sandbox_runner(_engine_passthrough(entries)),
        interceptors=[HeaderInterceptor(), *interceptors],
        **{"data_converter": DATA_CONVERTER, **kwargs},
    )
