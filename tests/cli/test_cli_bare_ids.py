"""`wflow result/send/query/update/cancel/terminate` with a bare workflow ID instead of a PID.

A bare ID is looked up on the project's clients; the command then behaves exactly as with the
PID. One `wflow worker` subprocess serves the project for the module; every command is a real
`wflow` subprocess against the session's dev server.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client

from tests.helpers.cli_process import failed, make_project, ok, wflow
from tests.helpers.processes import Background
from wflow.testing import EmbeddedDevServer

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def project(
    dev_server: EmbeddedDevServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """The project of test_cli_process, with a `wflow worker` running for it."""
    root = make_project(tmp_path_factory.mktemp("cli-bare-ids") / "p", dev_server.address)
    worker = Background("worker", str(root))
    try:
        worker.wait_for("workers running", timeout=60)
        yield root
    finally:
        worker.stop()


@pytest.fixture
def cli(project: Path) -> Cli:
    """Run `wflow COMMAND PROJECT ARGS...`."""

    def run(command: str, *args: str) -> subprocess.CompletedProcess[str]:
        return wflow(command, str(project), *args)

    return run


def bare(pid: str) -> str:
    """The workflow ID of a PID."""
    return pid.partition("/")[2]


def test_query_send_result_with_a_bare_id(cli: Cli) -> None:
    pid = ok(cli("spawn", "app:waiter", '"hi"'))
    workflow_id = bare(pid)
    assert json.loads(ok(cli("query", workflow_id))) == {"greeting": "hi", "waiting": True}
    assert json.loads(ok(cli("query", workflow_id, "pid"))) == pid
    assert ok(cli("send", workflow_id, "approval", '{"approved": true}')) == ""
    expected = {"greeting": "hi", "topic": "approval", "payload": {"approved": True}}
    assert json.loads(ok(cli("result", workflow_id))) == expected
    # A closed workflow is found too, and gives the same answer as its PID.
    assert json.loads(ok(cli("result", workflow_id))) == json.loads(ok(cli("result", pid)))


def test_update_cancel_terminate_with_a_bare_id(cli: Cli) -> None:
    counter = bare(ok(cli("spawn", "app:counter")))
    assert json.loads(ok(cli("update", counter, "add", "4"))) == 4
    rejected = failed(cli("update", counter, "add", "-2"))
    assert "error: INVALID: rejected: amount must be positive" in rejected
    assert json.loads(ok(cli("update", counter, "add", "6"))) == 10
    assert json.loads(ok(cli("result", counter))) == 10

    canceled = ok(cli("spawn", "app:sleeper"))
    terminated = ok(cli("spawn", "app:sleeper"))
    assert ok(cli("cancel", bare(canceled))) == ""
    assert ok(cli("terminate", bare(terminated), "--reason", "done")) == ""
    # The failure names the PID, exactly as when the PID is given.
    assert f"error: workflow {canceled} failed: CANCELED" in failed(cli("result", bare(canceled)))
    stderr = failed(cli("result", bare(terminated)))
    assert f"error: workflow {terminated} failed: CANCELED" in stderr


def test_unknown_bare_id_is_not_found_with_a_hint_exit_2(cli: Cli, project: Path) -> None:
    workflow_id = f"no-such-workflow-{uuid.uuid4().hex[:6]}"
    for command in (("result",), ("send", "topic"), ("query",), ("cancel",)):
        stderr = failed(cli(command[0], workflow_id, *command[1:]), 2)
        assert f"error: NOT_FOUND: no workflow with ID '{workflow_id}' on temporal.client " in (
            stderr
        )
        assert "app:temporal_client (127.0.0.1:" in stderr
        assert f"invalid PID '{workflow_id}'" in stderr
        assert f"run `wflow ls {project}`" in stderr


def test_bare_id_of_another_projects_workflow_is_not_found(
    cli: Cli, dev_server: EmbeddedDevServer, tmp_path: Path
) -> None:
    # Same server and namespace, another task queue: not one of this project's workflows.
    other = make_project(tmp_path / "other", dev_server.address)
    pid = ok(wflow("spawn", str(other), "app:sleeper"))
    try:
        stderr = failed(cli("result", bare(pid)), 2)
        assert f"error: NOT_FOUND: workflow '{bare(pid)}' exists on temporal.client" in stderr
        assert "which no temporal.worker of the project polls" in stderr
    finally:
        ok(wflow("terminate", str(other), pid))


async def test_bare_id_found_on_two_clients_is_ambiguous(
    dev_server: EmbeddedDevServer, tmp_path: Path
) -> None:
    second = f"wflow-bare-{uuid.uuid4().hex[:6]}"
    client = await Client.connect(dev_server.address)
    await client.workflow_service.register_namespace(
        RegisterNamespaceRequest(
            namespace=second, workflow_execution_retention_period=Duration(seconds=86400)
        )
    )
    root = make_project(tmp_path / "p", dev_server.address)
    module = next(root.glob("cliproc_*.py")).stem
    queue = f"q-{uuid.uuid4().hex[:6]}"
    (root / "_index.yaml").write_text(
        textwrap.dedent(
            f"""
            version: "1.0"
            namespace: app
            entries:
              - {{name: one, kind: temporal.client, address: "{dev_server.address}"}}
              - name: two
                kind: temporal.client
                address: "{dev_server.address}"
                namespace: {second}
              - {{name: w1, kind: temporal.worker, client: app:one, task_queue: {queue}}}
              - {{name: w2, kind: temporal.worker, client: app:two, task_queue: {queue}}}
              - name: sleeper
                kind: workflow.py
                module: {module}
                method: sleeper
                meta: {{temporal: {{workflow: {{worker: app:w1}}}}}}
            """
        ).lstrip(),
        encoding="utf-8",
    )
    project = str(root)
    workflow_id = f"twice-{uuid.uuid4().hex[:6]}"
    pids = [
        ok(wflow("spawn", project, "app:sleeper", "--host", host, "--id", workflow_id))
        for host in ("w1", "w2")
    ]
    try:
        stderr = failed(wflow("result", project, workflow_id), 2)
        assert f"error: INVALID: workflow ID '{workflow_id}' is ambiguous: it names " in stderr
        assert f"{pids[0]} and {pids[1]}; give the PID instead" in stderr
    finally:
        for pid in pids:
            ok(wflow("terminate", project, pid))


def test_pid_of_no_workflow_exits_1_pointing_at_ls(cli: Cli, project: Path) -> None:
    pid = f"app:temporal_worker/gone-{uuid.uuid4().hex[:6]}"
    for command in (("result",), ("cancel",), ("send", "topic")):
        stderr = failed(cli(command[0], pid, *command[1:]))
        assert f"error: NOT_FOUND: no workflow {pid}" in stderr
        assert f"hint: run `wflow ls {project}` for the project's workflows and their PIDs" in (
            stderr
        )


def test_query_that_no_worker_answers_says_to_start_one(
    dev_server: EmbeddedDevServer, tmp_path: Path
) -> None:
    # Temporal waits about 30 s for a worker to answer a query; --timeout gives up sooner.
    project = make_project(tmp_path / "p", dev_server.address)  # no worker runs for it
    pid = ok(wflow("spawn", str(project), "app:sleeper"))
    try:
        stderr = failed(wflow("query", str(project), bare(pid), "--timeout", "3s", timeout=120))
        assert f"error: UNAVAILABLE: query 'state' on {pid}: no worker answered" in stderr
        assert f"hint: start the project's workers with `wflow worker {project}`" in stderr
    finally:
        ok(wflow("terminate", str(project), pid))
