"""`wflow validate` reports a workflow.py entry that names a plain (non-async) function at the
entry's YAML line, and a decorated one at the decorator's line (issue 14, item 7)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from wflow.registry import ConfigError, load_project


def _project(root: Path, source: str) -> str:
    module = f"plainwf_{uuid.uuid4().hex[:8]}"
    root.mkdir(parents=True, exist_ok=True)
    (root / "_index.yaml").write_text(
        textwrap.dedent(
            f"""\
            version: "1.0"
            namespace: app
            entries:
              - name: worker
                kind: temporal.worker
                task_queue: plain
              - name: order
                kind: workflow.py
                module: {module}
                method: order
            """
        ),
        encoding="utf-8",
    )
    (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return module


def test_yaml_entry_naming_a_plain_function(tmp_path: Path) -> None:
    module = _project(tmp_path, "def order(x):\n    return x\n")
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path / '_index.yaml'}:10: app:order: '{module}.order' must be an async def "
        "function: a workflow.py entry runs on the workflow's event loop (it is a plain "
        f"function, defined at {module}.py:1)"
    ]


def test_validate_command_reports_it_and_exits_2(tmp_path: Path) -> None:
    module = _project(tmp_path, "\n\ndef order(x):\n    return x\n")
    result = subprocess.run(
        [sys.executable, "-m", "wflow.cli", "validate", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, (result.stdout, result.stderr)  # invalid project
    assert f"_index.yaml:10: app:order: '{module}.order' must be an async def function" in (
        result.stdout + result.stderr
    )
    assert f"(it is a plain function, defined at {module}.py:3)" in result.stdout + result.stderr


def test_decorated_plain_workflow_is_reported_at_the_decorator(tmp_path: Path) -> None:
    source = """\
        import wflow


        @wflow.workflow("app:order")
        def order(x):
            return x
        """
    module = _project(tmp_path, source)
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path)
    messages = [p.message for p in caught.value.problems]
    assert messages == [
        f"cannot import module '{module}': TypeError: @wflow.workflow('app:order') needs an "
        f"async def function (at {module}.py:4)"
    ]
