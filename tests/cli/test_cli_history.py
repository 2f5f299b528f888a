"""`wflow history` and `wflow replay` against runs on the session's dev server.

The seed's examples are copied into tmp_path, run there with `wflow run --address` (so each
has its own task queues and workflow IDs), and then read back and replayed as real `wflow`
subprocesses; the changed-code cases edit the copy and replay the recorded runs against it.
"""

from __future__ import annotations

import functools
import json
import shutil
import uuid
from pathlib import Path

import pytest

from tests.helpers.paths import REPO
from tests.helpers.processes import run_wflow
from wflow.testing import EmbeddedDevServer

WORKER = "app:temporal_worker"
PAYMENT = {"order_id": "A-1", "amount": 42, "card": "4000000000000002", "settle_after": "1s"}
# One task-queue prefix for every command of this module (the conftest gives each test its
# own, but `--query` looks on the queues the runs used); the examples' ledger in a temp dir.
ENV = {"WFLOW_TQ_PREFIX": f"hist{uuid.uuid4().hex[:6]}-"}


wflow = functools.partial(run_wflow, env=ENV)


def copy_example(name: str, root: Path) -> Path:
    target = root / name
    shutil.copytree(
        REPO / "examples" / name, target, ignore=shutil.ignore_patterns(".wflow", "__pycache__")
    )
    return target


def run_example(project: Path, address: str, entry: str, *args: str) -> str:
    """Run `entry` to its end with `wflow run`; return its PID."""
    workflow_id = f"hist-{uuid.uuid4().hex[:10]}"
    done = wflow(
        "run", str(project), entry, *args, "--address", address, "--workflow-id", workflow_id, "-q"
    )
    assert done.returncode == 0, done.stderr
    return f"{WORKER}/{workflow_id}"


@pytest.fixture(scope="module")
def runs(
    dev_server: EmbeddedDevServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, object]:
    """One order run (Python) and one saga run (Lua), each in its own copy of its example."""
    root = tmp_path_factory.mktemp("history")
    ENV["WFLOW_EXAMPLE_LEDGER"] = str(root / "ledger.sqlite3")
    py = copy_example("orders_py", root)
    lua = copy_example("orders_lua", root)
    address = dev_server.address
    return {
        "address": address,
        "py": py,
        "py_pid": run_example(py, address, "app.workflows:order_processor", json.dumps(PAYMENT)),
        "lua": lua,
        "lua_pid": run_example(lua, address, "app.workflows:order_saga"),
    }


def test_history_lists_the_orders_calls(runs: dict[str, object]) -> None:
    done = wflow("history", str(runs["py"]), str(runs["py_pid"]), "--address", str(runs["address"]))
    assert done.returncode == 0, done.stderr
    # The default converter writes JSON with sorted keys.
    payment = json.dumps(PAYMENT, sort_keys=True)
    assert done.stdout.splitlines() == [
        f"1  start app.workflows:order_processor({payment})",
        f"2  funcs.call app.api:charge_card({payment}) -> "
        '{"amount": 42, "id": "ch_A-1", "status": "captured"}',
        "3  time.sleep 1s -> fired",
        '4  funcs.call app.api:check_status("ch_A-1") -> "failed"',
        '5  funcs.call app.api:refund("ch_A-1") -> {"id": "ch_A-1", "refunded": true}',
        '6  completed -> {"charge": "ch_A-1", "refunded": true, "status": "failed"}',
    ]


def test_history_and_replay_take_a_bare_workflow_id(runs: dict[str, object]) -> None:
    address = str(runs["address"])
    pid = str(runs["py_pid"])
    bare = pid.split("/", 1)[1]
    by_pid = wflow("history", str(runs["py"]), pid, "--address", address)
    by_id = wflow("history", str(runs["py"]), bare, "--address", address)
    assert by_id.returncode == 0, by_id.stderr
    assert by_id.stdout == by_pid.stdout
    done = wflow("replay", str(runs["py"]), bare, "--address", address)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"ok        {pid} (")


def test_history_json_has_the_structured_steps(runs: dict[str, object]) -> None:
    done = wflow(
        "history", str(runs["py"]), str(runs["py_pid"]), "--json", "--address", str(runs["address"])
    )
    assert done.returncode == 0, done.stderr
    steps = json.loads(done.stdout)
    assert [(s["step"], s["kind"], s["name"]) for s in steps] == [
        (1, "start", "app.workflows:order_processor"),
        (2, "call", "app.api:charge_card"),
        (3, "timer", None),
        (4, "call", "app.api:check_status"),
        (5, "call", "app.api:refund"),
        (6, "completed", None),
    ]
    charge, timer, status = steps[1], steps[2], steps[3]
    assert charge["args"] == [PAYMENT]
    assert charge["status"] == "ok" and charge["result"]["id"] == "ch_A-1"
    assert timer["duration"] == "1s" and timer["status"] == "fired"
    assert status["args"] == ["ch_A-1"] and status["result"] == "failed"
    assert steps[5]["result"] == {"charge": "ch_A-1", "status": "failed", "refunded": True}


def test_replay_passes_on_unchanged_code(runs: dict[str, object]) -> None:
    address = str(runs["address"])
    for project, pid in ((runs["py"], runs["py_pid"]), (runs["lua"], runs["lua_pid"])):
        done = wflow("replay", str(project), str(pid), "--address", address)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.startswith(f"ok        {pid} (")
        assert "1 replayed, 0 diverged or failed" in done.stderr


def _changed_copy(project: Path, tmp_path: Path) -> Path:
    changed = tmp_path / project.name
    shutil.copytree(project, changed, ignore=shutil.ignore_patterns(".wflow", "__pycache__"))
    return changed


def test_replay_names_a_swapped_lua_call(runs: dict[str, object], tmp_path: Path) -> None:
    changed = _changed_copy(Path(str(runs["lua"])), tmp_path)
    script = changed / "workflows" / "order_saga.lua"
    text = script.read_text(encoding="utf-8")
    script.write_text(
        text.replace('funcs.call("app.payments:charge"', 'funcs.call("app.payments:refund"', 1),
        encoding="utf-8",
    )
    done = wflow("replay", str(changed), str(runs["lua_pid"]), "--address", str(runs["address"]))
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "history has funcs.call app.payments:charge at step 3; "
        "the code now calls app.payments:refund (order_saga.lua:6)"
    ) in done.stdout
    assert done.stdout.startswith(f"diverged  {runs['lua_pid']} (app.workflows:order_saga")


def test_replay_names_the_line_of_a_computed_lua_target(
    runs: dict[str, object], tmp_path: Path
) -> None:
    # The target is not written literally anywhere: only the bridge knows the call's line.
    changed = _changed_copy(Path(str(runs["lua"])), tmp_path)
    script = changed / "workflows" / "order_saga.lua"
    text = script.read_text(encoding="utf-8")
    script.write_text(
        text.replace(
            'funcs.call("app.payments:charge"', 'funcs.call("app.payments:" .. "refund"', 1
        ),
        encoding="utf-8",
    )
    done = wflow("replay", str(changed), str(runs["lua_pid"]), "--address", str(runs["address"]))
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "history has funcs.call app.payments:charge at step 3; "
        "the code now calls app.payments:refund (order_saga.lua:6)"
    ) in done.stdout


def test_replay_names_a_lua_call_added_first(runs: dict[str, object], tmp_path: Path) -> None:
    changed = _changed_copy(Path(str(runs["lua"])), tmp_path)
    script = changed / "workflows" / "order_saga.lua"
    lines = script.read_text(encoding="utf-8").splitlines()
    lines.insert(1, 'funcs.call("app.api:refund", "audit")')
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = wflow(
        "replay", str(changed), str(runs["lua_pid"]), "--json", "--address", str(runs["address"])
    )
    assert done.returncode == 1, done.stdout + done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["status"] == "diverged"
    assert outcome["step"] == 2
    assert outcome["expected"] == "funcs.call app.inventory:reserve"
    assert outcome["actual"] == "funcs.call app.api:refund"
    assert outcome["location"] == "order_saga.lua:2"


def test_replay_names_a_changed_python_workflow(runs: dict[str, object], tmp_path: Path) -> None:
    changed = _changed_copy(Path(str(runs["py"])), tmp_path)
    module = changed / "orders_app.py"
    text = module.read_text(encoding="utf-8")
    sleep = '    await time.sleep(payment.get("settle_after", "24h"))\n'
    assert sleep in text
    module.write_text(
        text.replace(sleep, '    await funcs.call(check_status, "early")\n' + sleep),
        encoding="utf-8",
    )
    line = (
        module.read_text(encoding="utf-8")
        .splitlines()
        .index('    await funcs.call(check_status, "early")')
        + 1
    )
    done = wflow("replay", str(changed), str(runs["py_pid"]), "--address", str(runs["address"]))
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "history has time.sleep 1s at step 3; the code now calls app.api:check_status "
        f"(orders_app.py:{line})"
    ) in done.stdout


def test_replay_of_a_stored_history_file(runs: dict[str, object], tmp_path: Path) -> None:
    address = str(runs["address"])
    exported = wflow(
        "history", str(runs["lua"]), str(runs["lua_pid"]), "--raw", "--address", address
    )
    assert exported.returncode == 0, exported.stderr
    stored = tmp_path / "saga.json"
    stored.write_text(exported.stdout, encoding="utf-8")
    # No server needed for files: a wrong address must not matter.
    done = wflow("replay", str(runs["lua"]), "--file", str(stored), "--address", "127.0.0.1:1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"ok        {stored} (app.workflows:order_saga, 5 steps)")
    changed = _changed_copy(Path(str(runs["lua"])), tmp_path)
    script = changed / "workflows" / "order_saga.lua"
    script.write_text(
        script.read_text(encoding="utf-8").replace(
            'funcs.call("app.shipping:create", order)', "{}", 1
        ),
        encoding="utf-8",
    )
    done = wflow("replay", str(changed), "--file", str(stored))
    assert done.returncode == 1
    assert (
        "history has funcs.call app.shipping:create at step 4; "
        "the code now returns: the workflow ends here"
    ) in done.stdout


def test_replay_by_visibility_query(runs: dict[str, object]) -> None:
    pid = str(runs["lua_pid"])
    workflow_id = pid.split("/", 1)[1]
    done = wflow(
        "replay",
        str(runs["lua"]),
        "--query",
        f"WorkflowId = '{workflow_id}'",
        "--address",
        str(runs["address"]),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [f"ok        {pid} (app.workflows:order_saga, 5 steps)"]


def test_unknown_pid(runs: dict[str, object]) -> None:
    address = str(runs["address"])
    for command in ("history", "replay"):
        done = wflow(command, str(runs["lua"]), f"{WORKER}/no-such-run", "--address", address)
        assert done.returncode == 1
        assert f"error: NOT_FOUND: no workflow {WORKER}/no-such-run\n" in done.stderr
    done = wflow("history", str(runs["lua"]), "app:elsewhere/x", "--address", address)
    assert done.returncode == 2
    assert (
        "invalid PID 'app:elsewhere/x': app:elsewhere is not a temporal.worker "
        "of the project (its workers: app:temporal_worker)"
    ) in done.stderr


def test_bad_history_files(runs: dict[str, object], tmp_path: Path) -> None:
    project = str(runs["lua"])
    broken = tmp_path / "broken.json"
    broken.write_text('{"events": [\n', encoding="utf-8")
    done = wflow("replay", project, "--file", str(broken))
    assert done.returncode == 2
    assert f"error: {broken}:2: not valid JSON" in done.stderr
    other = tmp_path / "other.json"
    other.write_text("[1, 2]", encoding="utf-8")
    done = wflow("replay", project, "--file", str(other))
    assert done.returncode == 2
    assert f"error: {other}: not a workflow history: expected a JSON object with an `events`" in (
        done.stderr
    )
    missing = tmp_path / "missing.json"
    done = wflow("replay", project, "--file", str(missing))
    assert done.returncode == 2
    assert f"error: cannot read history file {missing}: No such file or directory" in done.stderr
    done = wflow("replay", project)
    assert done.returncode == 2
    assert "error: give PIDs, --query VISIBILITY_QUERY or --file HISTORY.json" in done.stderr
