"""`wflow validate`, `wflow schema` and configuration errors of `wflow run`, via subprocess."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.helpers.paths import REPO
from tests.helpers.processes import run_wflow as wflow


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    write(
        root / "_index.yaml",
        """
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
        """,
    )
    write(
        root / "api" / "_index.yaml",
        """
        version: "1.0"
        namespace: app.api
        entries:
          - name: greet
            kind: function.py
            module: greetings
            method: greet
        """,
    )
    write(
        root / "workflows.yaml",
        """
        version: "1.0"
        namespace: app.workflows
        entries:
          - name: hello
            kind: workflow.py
            module: greetings
            method: hello
        """,
    )
    write(
        root / "greetings.py",
        """
        from wflow import funcs


        def greet(name: str) -> str:
            return f"hello {name}"


        async def hello(name: str) -> str:
            return await funcs.call("app.api:greet", name)
        """,
    )
    return root


def test_validate_ok(project: Path) -> None:
    result = wflow("validate", str(project))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok: 4 entries in 3 files"
    assert "Traceback" not in result.stderr


def test_validate_reports_each_problem_with_file_and_line(project: Path) -> None:
    write(
        project / "workflows.yaml",
        """
        version: "1.0"
        namespace: app.workflows
        entries:
          - name: hello
            kind: workflow.py
            module: greetings
            method: hello
          - name: broken
            kind: workflow.lua
            source: file://missing.lua
          - name: unknown_kind
            kind: no.such.kind
        """,
    )
    result = wflow("validate", str(project))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stdout.splitlines() if line]
    assert len(lines) >= 2
    for line in lines:
        path, lineno, message = line.split(":", 2)
        assert path.endswith("workflows.yaml"), line
        assert lineno.isdigit(), line
        assert message.strip(), line
    assert any(line.split(":")[1] == "10" for line in lines), lines  # broken: its source line
    assert any(line.split(":")[1] == "12" for line in lines), lines  # the unknown kind line
    assert "problem" in result.stderr


def test_validate_yaml_syntax_error(project: Path) -> None:
    write(project / "bad.yaml", "version: '1.0'\nentries: [\n")
    result = wflow("validate", str(project))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert any("bad.yaml:" in line for line in result.stdout.splitlines())


def test_schema_is_json_schema() -> None:
    result = wflow("schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert isinstance(schema, dict)
    text = json.dumps(schema)
    for kind in ("workflow.lua", "function.lua", "workflow.py", "function.py"):
        assert kind in text
    for kind in ("temporal.client", "temporal.worker"):
        assert kind in text


def test_schema_output_file(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    result = wflow("schema", "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert json.loads(target.read_text()) == json.loads(wflow("schema").stdout)


def test_committed_schema_is_current() -> None:
    committed = REPO / "docs" / "schema" / "definitions.json"
    current = wflow("schema").stdout
    assert committed.read_text(encoding="utf-8") == current, (
        "docs/schema/definitions.json is stale: run `wflow schema -o docs/schema/definitions.json`"
    )


def test_run_unknown_entry_is_a_usage_error(project: Path) -> None:
    result = wflow("run", str(project), "app.workflows:nope", '"x"')
    assert result.returncode == 2
    assert "unknown entry 'app.workflows:nope'" in result.stderr
    assert "app.workflows:hello" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_run_function_entry_is_a_usage_error(project: Path) -> None:
    result = wflow("run", str(project), "app.api:greet", '"x"')
    assert result.returncode == 2
    assert "not a workflow" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_invalid_project_prints_problems(project: Path) -> None:
    write(project / "broken.yaml", 'version: "1.0"\nnamespace: app.x\nentries:\n  - kind: nope\n')
    result = wflow("run", str(project), "app.workflows:hello", '"x"')
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert any(
        line.startswith(str(project / "broken.yaml") + ":4:") for line in result.stderr.splitlines()
    ), result.stderr


def test_validate_checks_lua_sources(project: Path) -> None:
    write(project / "bad.lua", "local x = \nreturn {main = function() end}\n")
    write(project / "good.lua", "return {main = function(name) return 'hi ' .. name end}\n")
    write(
        project / "lua.yaml",
        """
        version: "1.0"
        namespace: app.lua
        entries:
          - name: bad
            kind: workflow.lua
            source: file://bad.lua
          - name: io_user
            kind: workflow.lua
            source: file://good.lua
            modules: [funcs, io]
          - name: good
            kind: workflow.lua
            source: file://good.lua
            modules: [funcs, time]
        """,
    )
    result = wflow("validate", str(project))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert any(
        line.startswith(f"{project / 'bad.lua'}:2: app.lua:bad: ") and "near 'return'" in line
        for line in lines
    ), lines
    assert any(
        line.startswith(f"{project / 'lua.yaml'}:") and "'io' is not available" in line
        for line in lines
    ), lines
    assert len(lines) == 2, lines
