"""A workflow's code changed under a running workflow: the next task fails in call-level words.

Real processes on the session's dev server: a `wflow worker` runs the seed's order workflow
(Lua and Python) until it sleeps between two calls; the worker is stopped, the code changed,
a new worker process started (its workflow cache empty, so the run replays from its
history) and a message wakes the workflow. The replay diverges: the worker prints the same
diagnosis `wflow replay` gives, and the failed workflow task recorded in the history (what
the web UI and `temporal workflow describe` show) carries it as its message.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.paths import REPO
from tests.helpers.processes import run_wflow, start_worker, stop
from wflow.testing import EmbeddedDevServer

ENV = {"WFLOW_TQ_PREFIX": f"nd{uuid.uuid4().hex[:6]}-"}
wflow = functools.partial(run_wflow, env=ENV)


def _wait(what: str, check: Callable[[], str | None], tries: int = 600) -> str:
    """Poll `check` (each try a process run or a file read) until it returns text."""
    for _ in range(tries):
        found = check()
        if found is not None:
            return found
        subprocess.run(["sleep", "0.1"], check=True)
    raise AssertionError(f"never saw {what}")


def _history(project: Path, pid: str, address: str) -> str | None:
    done = wflow("history", str(project), pid, "--address", address)
    return done.stdout if done.returncode == 0 else None


def _task_failures(project: Path, pid: str, address: str) -> list[str]:
    """The messages of the failed workflow tasks in the run's history (`--raw`: Temporal's)."""
    done = wflow("history", str(project), pid, "--raw", "--address", address)
    assert done.returncode == 0, done.stderr
    events = json.loads(done.stdout)["events"]
    return [
        event["workflowTaskFailedEventAttributes"]["failure"]["message"]
        for event in events
        if "workflowTaskFailedEventAttributes" in event
    ]


def _case(name: str, root: Path) -> tuple[Path, str, list[str], Callable[[Path], str]]:
    """(project copy, entry, its arguments, a change that returns the expected diagnosis)."""
    project = root / name
    shutil.copytree(
        REPO / "examples" / name, project, ignore=shutil.ignore_patterns(".wflow", "__pycache__")
    )
    if name == "orders_lua":

        def swap_the_charge(project: Path) -> str:
            script = project / "workflows" / "order_processor.lua"
            text = script.read_text(encoding="utf-8")
            script.write_text(
                text.replace('funcs.call("app.api:charge_card"', 'funcs.call("app.api:refund"'),
                encoding="utf-8",
            )
            return (
                "history has funcs.call app.api:charge_card at step 2; "
                "the code now calls app.api:refund (order_processor.lua:3)"
            )

        return project, "app.workflows:order_processor", [], swap_the_charge

    def call_before_the_sleep(project: Path) -> str:
        module = project / "orders_app.py"
        sleep = '    await time.sleep(payment.get("settle_after", "24h"))\n'
        text = module.read_text(encoding="utf-8")
        assert sleep in text
        early = '    await funcs.call(check_status, "early")\n'
        module.write_text(text.replace(sleep, early + sleep), encoding="utf-8")
        line = module.read_text(encoding="utf-8").splitlines().index(early.rstrip("\n")) + 1
        return (
            "history has time.sleep 1h0m0s at step 3; the code now calls app.api:check_status "
            f"(orders_app.py:{line})"
        )

    payment = {"order_id": "A-7", "amount": 7, "card": "4000000000000002", "settle_after": "1h"}
    return project, "app.workflows:order_processor", [json.dumps(payment)], call_before_the_sleep


@pytest.mark.parametrize("example", ["orders_lua", "orders_py"])
def test_a_changed_workflow_fails_its_task_with_the_replay_diagnosis(
    example: str, dev_server: EmbeddedDevServer, tmp_path: Path
) -> None:
    address = dev_server.address
    ENV["WFLOW_EXAMPLE_LEDGER"] = str(tmp_path / "ledger.sqlite3")
    project, entry, args, change = _case(example, tmp_path)
    before, after = tmp_path / "worker-before.log", tmp_path / "worker-after.log"
    worker = start_worker(project, address, before, ENV)
    try:
        spawned = wflow("spawn", str(project), entry, *args, "--address", address)
        assert spawned.returncode == 0, spawned.stderr
        pid = spawned.stdout.strip()
        # Sleeping between its calls: the timer is in the history.

        def sleeping() -> str | None:
            text = _history(project, pid, address) or ""
            return text if "time.sleep " in text else None

        _wait("the timer started", sleeping)
    finally:
        assert stop(worker) == 0, before.read_text(encoding="utf-8")

    expected = change(project)
    worker = start_worker(project, address, after, ENV)
    try:
        sent = wflow("send", str(project), pid, "wake", '"up"', "--address", address)
        assert sent.returncode == 0, sent.stderr

        def reported() -> str | None:
            text = after.read_text(encoding="utf-8")
            return text if "NondeterminismError" in text else None

        assert expected in _wait("the diagnosis in the worker's output", reported)
        failures = _task_failures(project, pid, address)
        assert failures, "no failed workflow task in the history"
        assert failures[0] == expected
    finally:
        assert stop(worker) == 0, after.read_text(encoding="utf-8")
        wflow("terminate", str(project), pid, "--address", address)
