"""Wippy's documented `temporal.client` and `temporal.worker` keys, as its docs write them.

Each key either reaches temporalio (checked on the arguments wflow builds) or, where
temporalio has no equivalent, is accepted at its neutral value and refused otherwise with a
message naming the key, never silently ignored.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from wflow import WflowError
from wflow.registry import ConfigError, TemporalClientEntry, TemporalWorkerEntry, load_project

WORKER = """
  - name: worker
    kind: temporal.worker
    client: app:temporal_client
    task_queue: "my-app-queue"
    worker_options:
{options}
"""

CLIENT = """
  - name: temporal_client
    kind: temporal.client
    address: "localhost:7233"
    namespace: "default"
{extra}
"""


def project(tmp_path: Path, client: str = "", worker: str = '      identity: "w"') -> Path:
    text = 'version: "1.0"\nnamespace: app\nentries:\n' + CLIENT.format(extra=client)
    text += WORKER.format(options=worker)
    (tmp_path / "_index.yaml").write_text(text)
    return tmp_path


def worker_kwargs(tmp_path: Path, options: str) -> dict[str, object]:
    entry = load_project(project(tmp_path, worker=options)).get("app:worker")
    assert isinstance(entry, TemporalWorkerEntry)
    return entry.worker_options.to_temporalio_kwargs()


def test_documented_worker_options_block_loads(tmp_path: Path) -> None:
    # The docs' block (overview.md "Worker Options"), minus its duplicated build_id line.
    options = """
      identity: ""
      max_concurrent_activity_execution_size: 1000
      max_concurrent_workflow_task_execution_size: 1000
      max_concurrent_local_activity_execution_size: 1000
      max_concurrent_session_execution_size: 1000
      max_concurrent_eager_activity_execution_size: 0
      max_concurrent_activity_task_pollers: 20
      max_concurrent_workflow_task_pollers: 20
      worker_activities_per_second: 0        # 0 = unlimited
      worker_local_activities_per_second: 0
      task_queue_activities_per_second: 0
      sticky_schedule_to_start_timeout: "5s"
      worker_stop_timeout: "0s"
      deadlock_detection_timeout: "0s"
      max_heartbeat_throttle_interval: "0s"
      default_heartbeat_throttle_interval: "0s"
      enable_logging_in_replay: false
      enable_session_worker: false
      disable_workflow_worker: false
      local_activity_worker_only: false
      disable_eager_activities: false
      disable_registration_aliasing: false
      deployment_name: ""
      build_id: "b-7"
      use_versioning: false
"""
    kwargs = worker_kwargs(tmp_path, options)
    assert kwargs["max_concurrent_activities"] == 1000
    assert kwargs["max_eager_activity_reservations_per_workflow_task"] == 0
    assert kwargs["sticky_queue_schedule_to_start_timeout"] == timedelta(seconds=5)
    assert kwargs["no_remote_activities"] is False
    assert kwargs["disable_eager_activity_execution"] is False
    assert kwargs["build_id"] == "b-7"
    # 0 means unlimited: left to temporalio's default (None), not passed as 0.
    assert "max_activities_per_second" not in kwargs
    assert "max_task_queue_activities_per_second" not in kwargs


def test_deployment_versioning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUILD_ID", "b-9")
    options = """
      deployment_name: "orders"
      build_id: ${env:BUILD_ID}
      use_versioning: true
      default_versioning_behavior: "pinned"
"""
    config = worker_kwargs(tmp_path, options)["deployment_config"]
    assert config.version.deployment_name == "orders"  # type: ignore[attr-defined]
    assert config.version.build_id == "b-9"  # type: ignore[attr-defined]
    assert config.use_worker_versioning is True  # type: ignore[attr-defined]
    assert config.default_versioning_behavior.name == "PINNED"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "line",
    [
        "deadlock_detection_timeout: 5s",
        "enable_session_worker: true",
        "worker_local_activities_per_second: 10",
        "enable_logging_in_replay: true",
        'default_versioning_behavior: "auto_upgrade"',
    ],
)
def test_options_temporalio_cannot_honour_are_refused(tmp_path: Path, line: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_project(project(tmp_path, worker="      " + line))
    assert line.split(":")[0] in str(info.value)


def test_client_keep_alive_health_check_and_pem_auth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_CLIENT_KEY", "-----BEGIN KEY-----")
    extra = """
    keep_alive_time: "20s"
    keep_alive_timeout: "5s"
    health_check:
      enabled: true
      interval: "30s"
    auth:
      type: mtls
      cert_pem: |
        -----BEGIN CERTIFICATE-----
      key_pem: ${env:TEMPORAL_CLIENT_KEY}
    tls:
      enabled: true
      insecure_skip_verify: false
"""
    entry = load_project(project(tmp_path, client=extra)).get("app:temporal_client")
    assert isinstance(entry, TemporalClientEntry)
    assert entry.keep_alive_time == timedelta(seconds=20)
    assert entry.keep_alive_timeout == timedelta(seconds=5)
    assert entry.health_check.interval == timedelta(seconds=30)
    assert entry.auth.key_pem == "-----BEGIN KEY-----"


def test_insecure_skip_verify_true_is_refused(tmp_path: Path) -> None:
    extra = "    tls:\n      enabled: true\n      insecure_skip_verify: true\n"
    with pytest.raises(ConfigError, match="insecure_skip_verify"):
        load_project(project(tmp_path, client=extra))


def test_key_pem_env_unset_is_a_clear_error(tmp_path: Path) -> None:
    from wflow.temporal._client import client_tls

    extra = "    auth:\n      type: mtls\n      cert_pem: x\n      key_pem_env: WFLOW_NO_SUCH_VAR\n"
    entry = load_project(project(tmp_path, client=extra)).get("app:temporal_client")
    assert isinstance(entry, TemporalClientEntry)
    with pytest.raises(WflowError, match="WFLOW_NO_SUCH_VAR is not set"):
        client_tls(entry)
