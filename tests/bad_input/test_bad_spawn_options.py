"""Bad spawn options (issue 9): an unknown key or a wrong value is an error naming the key as
written, at the caller's Lua line or as a Python `INVALID`; a bad `meta.temporal.workflow.name`
names file, line and entry. Options a start cannot honour are refused by name on real servers
(tests/temporal/test_spawn_options.py)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from lua_bridge import LuaScriptError
from tests.helpers.fakes import run_workflow as run_lua
from wflow import WflowError, process
from wflow.registry import validate_project

LUA = [
    (
        '["temporal.workflow.bogus"] = 1',
        "unknown process option 'temporal.workflow.bogus' (expected one of "
        "temporal.workflow.id, temporal.workflow.task_queue",
    ),
    (
        '["temporal.workflow.priority"] = "high"',
        "temporal.workflow.priority: expected a whole number >= 1, got 'high'",
    ),
    (
        '["temporal.workflow.parent_close_policy"] = "sometimes"',
        "temporal.workflow.parent_close_policy: 'sometimes' is not one of terminate, abandon, "
        "request_cancel",
    ),
    (
        '["temporal.workflow.enable_eager_start"] = "yes"',
        "temporal.workflow.enable_eager_start: expected true or false, got 'yes'",
    ),
    (
        '["temporal.workflow.task_queue"] = ""',
        "temporal.workflow.task_queue: expected a non-empty string, got ''",
    ),
    (
        '["temporal.workflow.run_timeout"] = "soon"',
        'temporal.workflow.run_timeout: invalid duration "soon"',
    ),
    (
        '["temporal.workflow.versioning_override"] = "pinned"',
        'temporal.workflow.versioning_override: expected "auto_upgrade" or '
        '{deployment_name = "...", build_id = "..."} (pinned)',
    ),
    (
        '["temporal.workflow.search_attributes"] = "customer"',
        "temporal.workflow.search_attributes: expected a table",
    ),
]


@pytest.mark.parametrize(("option", "message"), LUA)
async def test_lua_bad_spawn_option_names_the_key_at_the_callers_line(
    tmp_path: Path, option: str, message: str
) -> None:
    with pytest.raises(LuaScriptError) as info:
        await run_lua(tmp_path, f"\nprocess.with_options({{{option}}})")
    assert info.value.message.startswith(f"wf.lua:2: process.with_options: {message}")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("process.with_context(5)", "process.with_context: expected a table of context values"),
        ("process.with_context({1, 2})", "process.with_context: expected a table with string keys"),
        (
            "process.with_options({}):with_context(nil)",
            "spawner:with_context: expected a table of context values",
        ),
        (
            'process.cancel("app:worker/x", 5)',
            "process.cancel: reason must be a string or nil, got number",
        ),
    ],
)
async def test_lua_bad_context_and_cancel_reason(tmp_path: Path, code: str, message: str) -> None:
    with pytest.raises(LuaScriptError) as info:
        await run_lua(tmp_path, code)
    assert info.value.message == f"wf.lua:1: {message}"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"bogus": 1}, "unknown process option 'bogus' (expected one of temporal.workflow.id"),
        ({"priority": 0}, "priority: expected a whole number >= 1, got 0"),
        ({"wait_for_cancellation": "no"}, "wait_for_cancellation: expected true or false"),
        ({"temporal.workflow.namespace": 7}, "temporal.workflow.namespace: expected a non-empty"),
    ],
)
def test_python_bad_spawn_option_is_invalid_naming_the_key(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(WflowError) as info:
        process.with_options(options)
    assert info.value.kind.value == "INVALID"
    assert info.value.message.startswith(message)


def test_python_bad_context_key_is_invalid() -> None:
    with pytest.raises(WflowError) as info:
        process.with_context({1: "x"})
    assert info.value.message == "with_context: keys must be non-empty strings, got 1"


@pytest.mark.parametrize("value", ["5", "''", "' OrderWorkflow'", "[a]"])
def test_yaml_bad_workflow_type_name_names_file_line_and_entry(tmp_path: Path, value: str) -> None:
    body = textwrap.dedent(
        f"""\
        version: "1.0"
        namespace: app
        entries:
          - {{name: c, kind: temporal.client}}
          - {{name: w, kind: temporal.worker, client: c, task_queue: q}}
          - name: wf
            kind: workflow.lua
            source: file://wf.lua
            meta: {{temporal: {{workflow: {{worker: w, name: {value}}}}}}}
        """
    )
    (tmp_path / "wf.lua").write_text("return { main = function() end }\n", encoding="utf-8")
    path = tmp_path / "_index.yaml"
    path.write_text(body, encoding="utf-8")
    problems = validate_project(tmp_path)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.file == path and problem.line is not None and problem.line >= 6
    assert problem.entry_id == "app:wf"
    assert "meta.temporal.workflow.name must be a non-empty string" in problem.message


def test_yaml_two_entries_with_one_workflow_type_on_a_worker(tmp_path: Path) -> None:
    body = textwrap.dedent(
        """\
        version: "1.0"
        namespace: app
        entries:
          - {name: c, kind: temporal.client}
          - {name: w, kind: temporal.worker, client: c, task_queue: q}
          - {name: a, kind: workflow.lua, source: file://wf.lua,
             meta: {temporal.workflow.name: Order}}
          - name: b
            kind: workflow.lua
            source: file://wf.lua
            meta: {temporal: {workflow: {name: Order}}}
        """
    )
    (tmp_path / "wf.lua").write_text("return { main = function() end }\n", encoding="utf-8")
    path = tmp_path / "_index.yaml"
    path.write_text(body, encoding="utf-8")
    problems = validate_project(tmp_path)
    assert [(p.file, p.line, p.entry_id, p.message) for p in problems] == [
        (
            path,
            8,
            "app:b",
            "meta.temporal.workflow.name: workflow type 'Order' is already the type of app:a "
            "on worker app:w",
        )
    ]
