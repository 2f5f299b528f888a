"""Bad durations everywhere a duration is accepted: a clear message naming the value (and the
field, the option or the Lua line), the same words in YAML, Lua and Python; never a Python
exception's own text, never silently zero (docs/errors.md, "Durations")."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

import pytest

from lua_bridge import LuaScriptError
from tests.helpers.fakes import run_workflow as run_lua
from wflow import WflowError, funcs, process, time
from wflow.registry import validate_project
from wflow.testing import run_workflow

UNIT = 'expected a number and a unit (ns us ms s m h), e.g. "5s", "1h30m"'
BAD = {
    "24x": f'invalid duration "24x": {UNIT}',
    "-1h": 'invalid duration "-1h": must not be negative',
    "1h-5m": f'invalid duration "1h-5m": {UNIT}',
    "": 'invalid duration "": empty',
    "99999999999h": "invalid duration '99999999999h': too long (at most 999999999 days)",
}


# -- YAML -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "yaml"),
    [
        ("connection_timeout", "- {name: c, kind: temporal.client, connection_timeout: '%s'}"),
        (
            "worker_options.worker_stop_timeout",
            "- {name: c, kind: temporal.client}\n"
            "- {name: w, kind: temporal.worker, client: c, task_queue: q,"
            " worker_options: {worker_stop_timeout: '%s'}}",
        ),
    ],
)
@pytest.mark.parametrize("value", ["24x", "-1h"])
def test_yaml_duration_names_file_line_entry_and_field(
    tmp_path: Path, field: str, yaml: str, value: str
) -> None:
    body = textwrap.indent(yaml % value, "  ")
    path = tmp_path / "_index.yaml"
    path.write_text(f'version: "1.0"\nnamespace: app\nentries:\n{body}\n', encoding="utf-8")
    problems = validate_project(tmp_path)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.file == path and problem.line is not None and problem.line >= 4
    assert problem.message.startswith(f"field '{field}': {BAD[value]}")


# -- Lua --------------------------------------------------------------------------------------

LUA_RAISING = {
    "time.sleep": "time.sleep(D)",
    "time.after": "time.after(D)",
    "time.timer": "time.timer(D)",
    "with_options: activity.start_to_close_timeout": (
        'funcs.new():with_options({["activity.start_to_close_timeout"] = D})'
    ),
    "process.with_options: workflow.execution_timeout": (
        'process.with_options({["workflow.execution_timeout"] = D})'
    ),
}


@pytest.mark.parametrize("value", sorted(BAD))
@pytest.mark.parametrize("where", sorted(LUA_RAISING))
async def test_lua_bad_duration_is_an_error_at_the_callers_line(
    tmp_path: Path, where: str, value: str
) -> None:
    src = 'local time = require("time")\nlocal funcs = require("funcs")\n'
    src += LUA_RAISING[where].replace("D", repr(value))
    with pytest.raises(LuaScriptError) as info:
        await run_lua(tmp_path, src)
    assert info.value.message == f"wf.lua:3: {where}: {BAD[value]}"


@pytest.mark.parametrize("value", sorted(BAD))
async def test_lua_parse_duration_returns_nil_and_the_error(tmp_path: Path, value: str) -> None:
    src = f"local v, err = require('time').parse_duration({value!r})"
    src += " return {nil_value = v == nil, kind = err:kind(), message = err:message()}"
    result = await run_lua(tmp_path, src)
    assert result == {"nil_value": True, "kind": "INVALID", "message": BAD[value]}


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("-5", "invalid duration -5: must not be negative"),
        ("0/0", "invalid duration nan: not a finite number"),
        ("math.huge", "invalid duration inf: not a finite number"),
        ("1e300", "invalid duration 1e+300: too long (at most 999999999 days)"),
    ],
)
async def test_lua_bad_numbers_of_milliseconds(tmp_path: Path, number: str, message: str) -> None:
    with pytest.raises(LuaScriptError) as info:
        await run_lua(tmp_path, f"require('time').sleep({number})")
    assert info.value.message == f"wf.lua:1: time.sleep: {message}"


# -- Python -----------------------------------------------------------------------------------


async def uses(where: str, value: Any) -> None:
    if where == "time.sleep":
        await time.sleep(value)
    elif where == "time.after":
        time.after(value)
    elif where == "time.parse_duration":
        time.parse_duration(value)
    elif where == "funcs":
        funcs.new().with_options({"activity.start_to_close_timeout": value})
    else:
        process.with_options({"workflow.execution_timeout": value})


PY_PREFIX = {
    "time.sleep": "",
    "time.after": "",
    "time.parse_duration": "",
    "funcs": "activity.start_to_close_timeout: ",
    "process": "workflow.execution_timeout: ",
}


@pytest.mark.parametrize("value", sorted(BAD))
@pytest.mark.parametrize("where", sorted(PY_PREFIX))
async def test_python_bad_duration_is_invalid(where: str, value: str) -> None:
    with pytest.raises(WflowError) as info:
        await run_workflow(uses, [where, value])
    assert info.value.kind.value == "INVALID"
    assert info.value.message == PY_PREFIX[where] + BAD[value]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-5, "invalid duration -5: must not be negative"),
        (math.nan, "invalid duration nan: not a finite number"),
        (math.inf, "invalid duration inf: not a finite number"),
        (10**20, "invalid duration 100000000000000000000: too long (at most 999999999 days)"),
        (True, "invalid duration True: expected a string or number"),
        ([1], 'invalid duration [1]: expected a string like "5s" or a number'),
    ],
)
async def test_python_bad_numbers_of_seconds(value: Any, message: str) -> None:
    with pytest.raises(WflowError) as info:
        await run_workflow(uses, ["time.sleep", value])
    assert info.value.message == message


# -- The command line ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["24x", "-1h", "", "0s"])
def test_cli_query_timeout_is_a_usage_error_naming_the_option(tmp_path: Path, value: str) -> None:
    from tests.helpers.cli_process import failed, make_project, wflow

    # Checked before any connection: the address answers nothing, and nothing is started.
    project = make_project(tmp_path / "p", "127.0.0.1:1")
    stderr = failed(wflow("query", str(project), "app:temporal_worker/wf-1", "--timeout", value), 2)
    expected = BAD.get(value, f"must be more than zero, got {value!r}")
    assert f"error: --timeout: {expected}" in stderr
    assert "Traceback" not in stderr
    assert not (project / ".wflow").exists()
