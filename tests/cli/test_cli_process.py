"""`wflow spawn/send/result/ls/cancel/terminate/update/query` against a running dev server.

One `wflow worker` subprocess serves a small project (unique task queue and module name) for
the whole module; every command runs as a real `wflow` subprocess.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers.cli_process import failed, make_project, ok, wflow
from tests.helpers.processes import Background
from wflow.testing import EmbeddedDevServer


@pytest.fixture(scope="module")
def project(
    dev_server: EmbeddedDevServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """The project, with a `wflow worker` running for it against the session's dev server."""
    root = make_project(tmp_path_factory.mktemp("cli-process") / "p", dev_server.address)
    worker = Background("worker", str(root))
    try:
        worker.wait_for("workers running", timeout=60)
        yield root
    finally:
        worker.stop()


@pytest.fixture
def cli(project: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `wflow COMMAND PROJECT ARGS...`."""

    def run(command: str, *args: str) -> subprocess.CompletedProcess[str]:
        return wflow(command, str(project), *args)

    return run


def ls_statuses(cli: Callable[..., subprocess.CompletedProcess[str]]) -> dict[str, str]:
    lines = ok(cli("ls", "--json")).splitlines()
    return {row["pid"]: row["status"] for row in map(json.loads, lines)}


def wait_for_status(
    cli: Callable[..., subprocess.CompletedProcess[str]], pid: str, status: str
) -> None:
    """Poll `ls` until `pid` shows `status` (visibility lags a little behind)."""
    deadline = time.monotonic() + 20
    seen = None
    while time.monotonic() < deadline:
        seen = ls_statuses(cli).get(pid)
        if seen == status:
            return
        time.sleep(0.3)
    raise AssertionError(f"{pid} is {seen}, not {status}")


def test_spawn_send_result_round_trip_and_ls(
    cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    pid = ok(cli("spawn", "app:waiter", '"hi"'))
    assert pid.startswith("app:temporal_worker/app:waiter-")
    wait_for_status(cli, pid, "RUNNING")
    assert json.loads(ok(cli("query", pid))) == {"greeting": "hi", "waiting": True}

    assert ok(cli("send", pid, "approval", '{"approved": true}')) == ""
    assert json.loads(ok(cli("result", pid))) == {
        "greeting": "hi",
        "topic": "approval",
        "payload": {"approved": True},
    }
    wait_for_status(cli, pid, "COMPLETED")

    table = ok(cli("ls")).splitlines()
    assert table[0].split() == ["PID", "ENTRY", "STATUS", "STARTED"]
    row = next(line for line in table if line.startswith(pid))
    assert row.split()[1:3] == ["app:waiter", "COMPLETED"]


def test_spawn_with_name_is_idempotent_and_message_is_delivered_with_it(
    cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    name = uuid.uuid4().hex[:8]
    first = ok(cli("spawn", "app:waiter", '"named"', "--name", name))
    assert first == f"app:temporal_worker/app:waiter:{name}"
    # The running workflow is reused, and the message goes to it (signal-with-start).
    second = ok(cli("spawn", "app:waiter", '"other"', "--name", name, "--message", "go=42"))
    assert second == first
    assert json.loads(ok(cli("result", first))) == {
        "greeting": "named",
        "topic": "go",
        "payload": 42,
    }

    workflow_id = f"explicit-{uuid.uuid4().hex[:8]}"
    pid = ok(cli("spawn", "app:sleeper", '"0s"', "--id", workflow_id, "--host", "temporal_worker"))
    assert pid == f"app:temporal_worker/{workflow_id}"
    assert json.loads(ok(cli("result", pid))) == "woke"


def test_update_accepted_rejected_failed_and_state_query(
    cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    pid = ok(cli("spawn", "app:counter"))
    assert json.loads(ok(cli("update", pid, "add", "4"))) == 4
    assert json.loads(ok(cli("query", pid, "state"))) == {"total": 4}
    assert json.loads(ok(cli("query", pid, "pid"))) == pid
    rejected = failed(cli("update", pid, "add", "-2"))
    assert "error: INVALID: rejected: amount must be positive" in rejected
    refused = failed(cli("update", pid, "add", "500"))
    assert "error: CONFLICT: too much at once" in refused
    assert json.loads(ok(cli("update", pid, "add", "6"))) == 10
    assert json.loads(ok(cli("result", pid))) == 10


def test_cancel_and_terminate_then_result_exits_1(
    cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    canceled = ok(cli("spawn", "app:sleeper"))
    terminated = ok(cli("spawn", "app:sleeper"))
    assert ok(cli("cancel", canceled)) == ""
    assert ok(cli("terminate", terminated, "--reason", "no longer needed")) == ""

    stderr = failed(cli("result", canceled))
    assert f"error: workflow {canceled} failed: CANCELED" in stderr
    stderr = failed(cli("result", terminated))
    assert f"error: workflow {terminated} failed: CANCELED" in stderr
    statuses = ls_statuses(cli)
    assert statuses.get(terminated) in ("TERMINATED", "RUNNING")  # visibility may lag


def test_send_to_a_full_mailbox_exits_1_rate_limited(
    cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    pid = ok(cli("spawn", "app:sleeper"))
    try:
        assert ok(cli("send", pid, "item", "1")) == ""
        stderr = failed(cli("send", pid, "item", "2"))
        assert "error: RATE_LIMITED: mailbox of" in stderr
        assert "is full" in stderr
    finally:
        ok(cli("terminate", pid))


def test_usage_errors_exit_2(cli: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    stderr = failed(cli("send", "not-a-pid", "topic"), 2)
    assert "invalid PID 'not-a-pid'" in stderr
    stderr = failed(cli("result", "app:nope/wf-1"), 2)
    assert "app:nope is not a temporal.worker of the project" in stderr
    stderr = failed(cli("send", "app:temporal_worker/x", "topic", "{bad"), 2)
    assert "error: PAYLOAD_JSON is not valid JSON" in stderr
    stderr = failed(cli("spawn", "app:waiter", "[1,"), 2)
    assert "error: ARG_JSON 1 is not valid JSON" in stderr
    stderr = failed(cli("spawn", "app:missing"), 2)
    assert "error: unknown entry 'app:missing'" in stderr
    stderr = failed(cli("spawn", "app:waiter", "--message", "go={"), 2)
    assert "--message payload is not valid JSON" in stderr


def test_no_server_exits_1_with_a_hint(tmp_path: Path, free_port: Callable[[], int]) -> None:
    project = make_project(tmp_path / "p", f"127.0.0.1:{free_port()}")
    stderr = failed(wflow("ls", str(project)))
    assert "no Temporal server answers at 127.0.0.1:" in stderr
    assert f"wflow dev {project}" in stderr
    assert not (project / ".wflow").exists()  # nothing was started
