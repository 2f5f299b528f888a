"""`wflow run` reports failures as they happen, located in the user's code (issue 8).

Real servers and real `wflow` processes; the project is `tests/fixtures/failures`.
"""

from __future__ import annotations

import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers.processes import Background
from tests.helpers.processes import run_wflow as wflow
from wflow.testing import EmbeddedDevServer

FIXTURE = Path(__file__).parents[1] / "fixtures" / "failures"
PAYMENT = '{"order_id": "A-1", "amount": 0}'
GOOD_PAYMENT = '{"order_id": "A-1", "amount": 5}'
CARD = '{"currency": "EUR"}'

# Deadline for the first report after the workflow started (the "within 10 s").
FIRST_REPORT = 10


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "p"))


@pytest.fixture
def background() -> Iterator[Callable[..., Background]]:
    started: list[Background] = []

    def start(*args: str) -> Background:
        started.append(Background(*args))
        return started[-1]

    yield start
    for command in started:
        command.kill()


def call_lines(lines: list[str], entry_id: str) -> list[str]:
    return [line for line in lines if f"call {entry_id} failed" in line]


def test_python_function_error_is_reported_with_its_line_and_collapsed(
    dev_server: EmbeddedDevServer, project: Path, background: Callable[..., Background]
) -> None:
    run = background(
        "run", str(project), "app.workflows:charge", PAYMENT, "--address", dev_server.address
    )
    run.wait_for("started app.workflows:charge")
    first = run.wait_for("call app.api:charge_card failed (attempt 1)", timeout=FIRST_REPORT)
    assert "ValueError: amount must be positive, got 0" in first
    assert "broken_app.py:9)" in first
    assert "next attempt at " in first
    run.wait_for("call app.api:charge_card failed 2 times, last at ")
    run.wait_for("call app.api:charge_card failed 4 times, last at ")
    # Attempts 1 to 4 made three lines: the third attempt was counted, not printed.
    assert len(call_lines(run.seen, "app.api:charge_card")) == 3, run.seen
    assert run.stop(signal.SIGINT) == 130


def test_lua_function_returning_err_is_reported_with_its_file(
    dev_server: EmbeddedDevServer, project: Path, background: Callable[..., Background]
) -> None:
    run = background(
        "run",
        str(project),
        "app.workflows:call_lua",
        '"app.api:lua_returns_err"',
        CARD,
        "--address",
        dev_server.address,
    )
    run.wait_for("started app.workflows:call_lua")
    first = run.wait_for("call app.api:lua_returns_err failed (attempt 1)", timeout=FIRST_REPORT)
    assert "UNAVAILABLE: card expired" in first
    assert "(at lua_functions.lua, returns_err() returned nil, err)" in first
    run.wait_for("call app.api:lua_returns_err failed 2 times")
    assert run.stop(signal.SIGINT) == 130


def test_lua_function_raising_is_reported_with_its_line(
    dev_server: EmbeddedDevServer, project: Path, background: Callable[..., Background]
) -> None:
    run = background(
        "run",
        str(project),
        "app.workflows:call_lua",
        '"app.api:lua_raises"',
        CARD,
        "--address",
        dev_server.address,
    )
    run.wait_for("started app.workflows:call_lua")
    first = run.wait_for("call app.api:lua_raises failed (attempt 1)", timeout=FIRST_REPORT)
    assert "INTERNAL: no gateway for EUR (at lua_functions.lua:6)" in first
    # An unhandled Lua error is a runtime crash: not retried (Wippy's failure-mode table).
    assert "no more attempts (not retryable)" in first
    assert run.stop(signal.SIGINT) == 130


def test_ctrl_c_prints_the_pid_and_the_commands_to_follow_it(
    dev_server: EmbeddedDevServer, project: Path, background: Callable[..., Background]
) -> None:
    run = background(
        "run", str(project), "app.workflows:charge", PAYMENT, "--address", dev_server.address
    )
    started = run.wait_for("started app.workflows:charge as ")
    workflow_id = started.split(" as ")[1].strip()
    run.wait_for("call app.api:charge_card failed")
    assert run.stop(signal.SIGINT) == 130
    text = "".join(run.seen)
    pid = f"app:temporal_worker/{workflow_id}"
    assert "interrupted; the workflow keeps running (it was not cancelled)" in text
    assert f"PID:              {pid}" in text
    assert f"follow it:        wflow result {project} {pid}" in text
    assert f"keep it running:  wflow dev {project}" in text
    assert f"stop it:          wflow terminate {project} {pid}" in text


def test_max_attempts_ends_the_run_with_kind_message_and_location(
    dev_server: EmbeddedDevServer, project: Path
) -> None:
    result = wflow(
        "run",
        str(project),
        "app.workflows:charge",
        PAYMENT,
        "--address",
        dev_server.address,
        "--max-attempts",
        "2",
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert any(
        "call app.api:charge_card failed 2 times" in line
        and "no more attempts (attempt 2 of 2)" in line
        for line in lines
    ), result.stderr
    assert (
        "error: workflow app.workflows:charge failed: "
        "UNKNOWN: ValueError: amount must be positive, got 0" in result.stderr
    )
    where = next(line for line in lines if line.startswith("where: "))
    assert "broken_app.py:9 (call app.api:charge_card, attempt 2)" in where
    assert "Traceback" not in result.stderr


def test_non_retryable_error_ends_the_run_at_once(
    dev_server: EmbeddedDevServer, project: Path
) -> None:
    result = wflow(
        "run", str(project), "app.workflows:refuse", GOOD_PAYMENT, "--address", dev_server.address
    )
    assert result.returncode == 1, result.stderr
    assert "no more attempts (not retryable)" in result.stderr
    assert "error: workflow app.workflows:refuse failed: PERMISSION_DENIED: card declined" in (
        result.stderr
    )
    assert "broken_app.py:14 (call app.api:refuse, attempt 1)" in result.stderr


def test_python_workflow_bug_is_located_and_the_run_says_what_to_do(
    dev_server: EmbeddedDevServer, project: Path
) -> None:
    result = wflow(
        "run", str(project), "app.workflows:buggy", GOOD_PAYMENT, "--address", dev_server.address
    )
    assert result.returncode == 1, result.stderr
    assert "workflow task of app.workflows:buggy failed: KeyError: 'identifier'" in result.stderr
    assert "broken_app.py:27)" in result.stderr
    assert "error: workflow app.workflows:buggy is stuck" in result.stderr
    assert "waits for a fixed deploy" in result.stderr
    assert f"wflow dev {project}" in result.stderr
    assert f"wflow terminate {project} app:temporal_worker/app.workflows:buggy-" in result.stderr


def test_time_skipping_runs_show_progress_and_failures(project: Path) -> None:
    result = wflow(
        "run",
        str(project),
        "app.workflows:charge",
        PAYMENT,
        "--time-skipping",
        "--max-attempts",
        "3",
    )
    assert result.returncode == 1, result.stderr
    assert "calling app.api:charge_card" in result.stderr
    assert "call app.api:charge_card failed (attempt 1): ValueError" in result.stderr
    assert "broken_app.py:9" in result.stderr
    assert "where: " in result.stderr


def test_time_skipping_lua_function_failure_is_located(project: Path) -> None:
    result = wflow(
        "run",
        str(project),
        "app.workflows:call_lua",
        '"app.api:lua_raises"',
        CARD,
        "--time-skipping",
        "--max-attempts",
        "2",
    )
    assert result.returncode == 1, result.stderr
    assert "call app.api:lua_raises failed (attempt 1): INTERNAL: no gateway for EUR" in (
        result.stderr
    )
    # A Lua runtime crash is not retryable: the run ends after the first attempt.
    assert "where: lua_functions.lua:6 (call app.api:lua_raises, attempt 1)" in result.stderr
