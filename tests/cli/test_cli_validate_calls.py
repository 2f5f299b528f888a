"""`wflow validate` (the real CLI, via subprocess) on call targets and module names (issue 8).

One test per kind of bad input: each is reported at the source's `file:line` with a
suggestion and exits 2; dynamic targets are left alone; the examples stay clean.
"""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

import pytest

from tests.helpers.paths import REPO
from tests.helpers.processes import run_wflow as wflow

BASE = """\
version: "1.0"
namespace: app
entries:
  - name: temporal_client
    kind: temporal.client
    address: "127.0.0.1:7233"
  - name: temporal_worker
    kind: temporal.worker
    client: app:temporal_client
    task_queue: "orders"
  - name: charge_card
    kind: function.lua
    source: file://charge.lua
  - name: child
    kind: workflow.lua
    source: file://child.lua
"""

LUA_WORKFLOW = """\
  - name: order
    kind: workflow.lua
    source: file://order.lua
    modules: [funcs, time, uuid, workflow]
"""


def lua_project(tmp_path: Path, order_lua: str, extra_yaml: str = "") -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "_index.yaml").write_text(BASE + LUA_WORKFLOW + extra_yaml)
    (root / "charge.lua").write_text("return {id = 'ch_1'}\n")
    (root / "child.lua").write_text("return 1\n")
    (root / "order.lua").write_text(textwrap.dedent(order_lua))
    return root


def py_project(tmp_path: Path, body: str) -> tuple[Path, str]:
    """A project with a Python workflow `app:py_order` whose module holds `body`."""
    root = tmp_path / "project"
    root.mkdir()
    module = f"calls_{uuid.uuid4().hex[:8]}"
    (root / "_index.yaml").write_text(
        BASE
        + f"""\
  - name: py_order
    kind: workflow.py
    module: {module}
    method: py_order
"""
    )
    (root / "charge.lua").write_text("return {id = 'ch_1'}\n")
    (root / "child.lua").write_text("return 1\n")
    (root / f"{module}.py").write_text(textwrap.dedent(body))
    return root, module


def problems(root: Path) -> list[str]:
    result = wflow("validate", str(root))
    assert result.returncode == 2, result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if line.strip()]


def test_mistyped_funcs_call_target_in_lua(tmp_path: Path) -> None:
    root = lua_project(
        tmp_path,
        """\
        local funcs = require("funcs")
        local order = ...
        local result = funcs.call("app:chrage_card", order)
        return result.id
        """,
    )
    assert problems(root) == [
        f'{root / "order.lua"}:3: app:order: funcs.call("app:chrage_card"): no entry '
        "'app:chrage_card' (did you mean 'app:charge_card'?)"
    ]


def test_mistyped_target_in_python_dsl(tmp_path: Path) -> None:
    root, module = py_project(
        tmp_path,
        """\
        from wflow import funcs


        async def py_order(order):
            result = await funcs.call(
                "app:chrage_card", order
            )
            return result["id"]
        """,
    )
    assert problems(root) == [
        f'{root / (module + ".py")}:6: app:py_order: funcs.call("app:chrage_card"): no entry '
        "'app:chrage_card' (did you mean 'app:charge_card'?)"
    ]


UNKNOWN_NAMES = [
    ('funcs.cal("app:charge_card")', "funcs.cal: module 'funcs' has no 'cal'", "'call'"),
    ('time.slep("1s")', "time.slep: module 'time' has no 'slep'", "'sleep'"),
    ('process.spwan("app:child")', "process.spwan: module 'process' has no 'spwan'", "'spawn'"),
    (
        "local s = string.fromat('%d', 1)",
        "string.fromat: module 'string' has no 'fromat'",
        "'format'",
    ),
]


@pytest.mark.parametrize(("line", "expected", "suggested"), UNKNOWN_NAMES)
def test_unknown_module_function_in_lua(
    tmp_path: Path, line: str, expected: str, suggested: str
) -> None:
    root = lua_project(
        tmp_path,
        f"""\
        local funcs = require("funcs")
        local time = require("time")
        local uuid = require("uuid")
        {line}
        """,
    )
    assert problems(root) == [
        f"{root / 'order.lua'}:4: app:order: {expected} (did you mean {suggested}?)"
    ]


def test_unknown_name_without_a_close_one_lists_the_module(tmp_path: Path) -> None:
    root = lua_project(tmp_path, 'local uuid = require("uuid")\nreturn uuid.v9()\n')
    assert problems(root) == [
        f"{root / 'order.lua'}:2: app:order: uuid.v9: module 'uuid' has no 'v9' (it has: "
        "NAMESPACE_DNS, NAMESPACE_OID, NAMESPACE_URL, NAMESPACE_X500, format, parse, v1, v3, v4, "
        "v5, v7, validate, variant, version)"
    ]


def test_unknown_module_function_in_python_dsl(tmp_path: Path) -> None:
    root, module = py_project(
        tmp_path,
        """\
        import wflow
        from wflow import time


        async def py_order(order):
            await time.slep("1s")
            return await wflow.funcs.cal("app:charge_card", order)
        """,
    )
    path = root / f"{module}.py"
    assert problems(root) == [
        f"{path}:6: app:py_order: time.slep: module 'time' has no 'slep' (did you mean 'sleep'?)",
        f"{path}:7: app:py_order: wflow.funcs.cal: module 'funcs' has no 'cal' "
        "(did you mean 'call'?)",
    ]


def test_dynamic_targets_and_shadowed_names_are_left_alone(tmp_path: Path) -> None:
    root = lua_project(
        tmp_path,
        """\
        local funcs = require("funcs")
        local order = ...
        local name = "chrage"
        local a = funcs.call("app:" .. name, order)      -- built at run time
        local b = funcs.call(order.target, order)        -- from the input
        local c = funcs.call("app:" .. "nope")           -- concatenated literals
        -- funcs.call("app:in_a_comment") and funcs.cal in a comment
        local s = "funcs.call('app:in_a_string')"
        local function f(time) return time.whatever end  -- a parameter, not the module
        return {a, b, c, s, f}
        """,
    )
    result = wflow("validate", str(root))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok:")


def test_python_dynamic_targets_are_left_alone(tmp_path: Path) -> None:
    root, _ = py_project(
        tmp_path,
        """\
        from wflow import funcs


        async def py_order(order):
            name = "chrage_card"
            await funcs.call(f"app:{name}", order)
            await funcs.call("app:" + name, order)
            return await funcs.call(order["target"], order)
        """,
    )
    result = wflow("validate", str(root))
    assert result.returncode == 0, result.stdout + result.stderr


def test_spawn_target_of_the_wrong_kind_and_unknown_host(tmp_path: Path) -> None:
    root = lua_project(
        tmp_path,
        """\
        local pid = process.spawn("app:charge_card", nil)
        local v = process.exec("app:child", "app:temporal_wroker")
        return {pid, v}
        """,
    )
    path = root / "order.lua"
    assert problems(root) == [
        f"{path}:1: app:order: process.spawn(\"app:charge_card\"): 'app:charge_card' is a "
        "function.lua entry, expected workflow.lua or workflow.py or process.lua or process.py",
        f'{path}:2: app:order: process.exec("app:child", "app:temporal_wroker"): host: no '
        "entry 'app:temporal_wroker' (did you mean 'app:temporal_worker'?)",
    ]


def test_workflow_exec_and_bare_names_resolve_in_the_namespace(tmp_path: Path) -> None:
    root = lua_project(
        tmp_path,
        """\
        local workflow = require("workflow")
        local funcs = require("funcs")
        local ok = funcs.call("charge_card")   -- bare name: app:charge_card, fine
        return workflow.exec("chidl")
        """,
    )
    assert problems(root) == [
        f"{root / 'order.lua'}:4: app:order: workflow.exec(\"chidl\"): no entry 'app:chidl' "
        "(did you mean 'app:child'?)"
    ]


def test_executor_and_spawner_targets(tmp_path: Path) -> None:
    root = lua_project(
        tmp_path,
        """\
        local funcs = require("funcs")
        local ex = funcs.new():with_options{["activity.start_to_close_timeout"] = "1m"}
        local ex2 = ex:with_context{user = "u"}
        local sp = process.with_options{["workflow.execution_timeout"] = "1h"}
        local a = ex2:call("app:chrage_card")
        local b = sp:spawn("app:chlid")
        return {a, b}
        """,
    )
    path = root / "order.lua"
    assert problems(root) == [
        f"{path}:5: app:order: executor:call(\"app:chrage_card\"): no entry 'app:chrage_card' "
        "(did you mean 'app:charge_card'?)",
        f"{path}:6: app:order: spawner:spawn(\"app:chlid\"): no entry 'app:chlid' "
        "(did you mean 'app:child'?)",
    ]


TWO_WORKERS = """\
  - name: other_worker
    kind: temporal.worker
    client: app:temporal_client
    task_queue: "other"
"""


def test_function_without_a_worker_to_run_on(tmp_path: Path) -> None:
    # Two workers and no meta.temporal.activity.worker: the call cannot be scheduled.
    root = lua_project(
        tmp_path,
        'local funcs = require("funcs")\nreturn funcs.call("app:charge_card")\n',
        TWO_WORKERS,
    )
    out = problems(root)
    assert all(": app:order: " in line or "meta.temporal" in line for line in out), out
    [call] = [line for line in out if line.startswith(str(root / "order.lua"))]
    assert call == (
        f'{root / "order.lua"}:2: app:order: funcs.call("app:charge_card"): the call cannot be '
        "scheduled: 'app:charge_card' has no meta.temporal.activity.worker and the project has "
        "2 temporal.worker entries (app:temporal_worker, app:other_worker); name one in its meta"
    )


def test_function_on_a_worker_that_is_not_started(tmp_path: Path) -> None:
    root = lua_project(
        tmp_path,
        'local funcs = require("funcs")\nreturn funcs.call("app:charge_card")\n',
    )
    index = root / "_index.yaml"
    index.write_text(
        index.read_text().replace(
            'task_queue: "orders"\n',
            'task_queue: "orders"\n    lifecycle:\n      auto_start: false\n',
        )
    )
    assert problems(root) == [
        f"{root / 'order.lua'}:2: app:order: funcs.call(\"app:charge_card\"): 'app:charge_card' "
        "runs on worker 'app:temporal_worker', which has lifecycle.auto_start: false, so no wflow "
        "command polls its task queue 'orders'; set auto_start: true, or name a started worker "
        "in its meta.temporal.activity.worker"
    ]


def test_wflow_run_refuses_what_validate_reports(tmp_path: Path) -> None:
    root = lua_project(tmp_path, 'local funcs = require("funcs")\nfuncs.cal("app:charge_card")\n')
    result = wflow("run", str(root), "app:order", "--time-skipping")
    assert result.returncode == 2
    assert "funcs.cal: module 'funcs' has no 'cal' (did you mean 'call'?)" in result.stderr


@pytest.mark.parametrize("example", ["orders_lua", "orders_py", "approval"])
def test_examples_validate_clean(example: str) -> None:
    result = wflow("validate", str(REPO / "examples" / example))
    assert result.returncode == 0, result.stdout + result.stderr
