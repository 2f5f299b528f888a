"""`wflow validate` on the Lua example: passes as shipped, names file and line when broken."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers.paths import REPO

EXAMPLE = REPO / "examples" / "orders_lua"
VALUES = REPO / "tests" / "fixtures" / "lua_temporal" / "values"


def validate(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wflow.cli", "validate", str(project)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_example_validates() -> None:
    done = validate(EXAMPLE)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok: 14 entries")


def test_project_with_a_library_validates() -> None:
    # library.lua entries have no `limits`; the Lua check must not trip over that.
    done = validate(VALUES)
    assert done.returncode == 0, done.stdout + done.stderr


def test_broken_copy_reports_lua_syntax_errors_with_file_and_line(tmp_path: Path) -> None:
    project = tmp_path / "orders_lua"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".wflow", "__pycache__"))
    workflow = project / "workflows" / "order_processor.lua"
    lines = workflow.read_text().splitlines()
    lines[5] = "if status == then"  # line 6
    workflow.write_text("\n".join(lines) + "\n")
    function = project / "functions" / "release.lua"
    function.write_text("local function main(id)\n  return { id = id, released = true \nend\n")

    done = validate(project)
    assert done.returncode == 2, done.stdout + done.stderr
    output = done.stdout + done.stderr
    problems = [line for line in output.splitlines() if ".lua:" in line]
    assert len(problems) == 2, output
    assert any(
        line.startswith(f"{workflow}:6:") and "unexpected symbol near 'then'" in line
        for line in problems
    ), output
    assert any(line.startswith(f"{function}:3:") and "'}' expected" in line for line in problems), (
        output
    )
    assert "found" in output
