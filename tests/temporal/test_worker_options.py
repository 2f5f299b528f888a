"""Every `worker_options` key of a `temporal.worker` entry reaches Temporal's worker."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client

from wflow.registry import WorkerOptions, load_project
from wflow.temporal import build_workers
from wflow.testing import EmbeddedDevServer

OPTIONS = {
    "max_concurrent_activity_execution_size": (3, "max_concurrent_activities", 3),
    "max_concurrent_local_activity_execution_size": (4, "max_concurrent_local_activities", 4),
    "max_concurrent_workflow_task_execution_size": (5, "max_concurrent_workflow_tasks", 5),
    "max_concurrent_activity_task_pollers": (2, "max_concurrent_activity_task_polls", 2),
    "max_concurrent_workflow_task_pollers": (3, "max_concurrent_workflow_task_polls", 3),
    "max_cached_workflows": (0, "max_cached_workflows", 0),
    "worker_activities_per_second": (1.5, "max_activities_per_second", 1.5),
    "task_queue_activities_per_second": (2.5, "max_task_queue_activities_per_second", 2.5),
    "sticky_schedule_to_start_timeout": (
        "7s",
        "sticky_queue_schedule_to_start_timeout",
        timedelta(seconds=7),
    ),
    "worker_stop_timeout": ("9s", "graceful_shutdown_timeout", timedelta(seconds=9)),
    "max_heartbeat_throttle_interval": (
        "11s",
        "max_heartbeat_throttle_interval",
        timedelta(seconds=11),
    ),
    "default_heartbeat_throttle_interval": (
        "13s",
        "default_heartbeat_throttle_interval",
        timedelta(seconds=13),
    ),
    "identity": ("worker-under-test", "identity", "worker-under-test"),
}


# Wippy's documented keys that are not one temporalio argument each (0 = unlimited rates,
# deployment versioning, Go-only switches refused unless at their default): what each does
# is asserted in tests/registry/test_wippy_config_keys.py.
WIPPY_KEYS = {
    "worker_local_activities_per_second",
    "max_concurrent_session_execution_size",
    "max_concurrent_eager_activity_execution_size",
    "deadlock_detection_timeout",
    "enable_logging_in_replay",
    "enable_session_worker",
    "disable_workflow_worker",
    "local_activity_worker_only",
    "disable_eager_activities",
    "disable_registration_aliasing",
    "deployment_name",
    "build_id",
    "build_id_env",
    "use_versioning",
    "default_versioning_behavior",
}


def test_the_table_covers_every_schema_key() -> None:
    # A new key must be placed in one of the two tables, so none is accepted and ignored.
    assert not set(OPTIONS) & WIPPY_KEYS
    assert sorted(set(OPTIONS) | WIPPY_KEYS) == sorted(WorkerOptions.model_fields)


async def test_every_worker_option_reaches_the_temporal_worker(
    dev_server: EmbeddedDevServer, tmp_path: Path
) -> None:
    lines = "\n".join(
        f"      {key}: {value!r}" if isinstance(value, str) else f"      {key}: {value}"
        for key, (value, _, _) in OPTIONS.items()
    )
    (tmp_path / "_index.yaml").write_text(
        textwrap.dedent(
            """\
            version: "1.0"
            namespace: app
            entries:
              - name: client
                kind: temporal.client
                address: "{address}"
              - name: worker
                kind: temporal.worker
                client: client
                task_queue: options-test
                worker_options:
            {lines}
              - name: work
                kind: function.lua
                source: file://work.lua
            """
        ).format(address=dev_server.address, lines=lines)
    )
    (tmp_path / "work.lua").write_text("return function() return 1 end\n")
    registry = load_project(tmp_path)
    client = await Client.connect(dev_server.address)
    (worker,) = build_workers(registry, {"app:client": client})
    config = worker.config()
    for key, (_, temporal_name, expected) in OPTIONS.items():
        assert config.get(temporal_name) == expected, key
