"""`wflow init`: the starter project validates, runs, and its own tests pass (Lua and Python)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.processes import run_wflow

pytestmark = pytest.mark.timeout(300)


@pytest.mark.parametrize("variant", ["--lua", "--python"])
def test_init_writes_a_project_that_validates_runs_and_passes_its_tests(
    tmp_path: Path, variant: str
) -> None:
    created = run_wflow("init", "starter", variant, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    project = tmp_path / "starter"
    assert (project / "tests" / "test_workflow.py").is_file()

    validated = run_wflow("validate", "starter", cwd=tmp_path)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert validated.stdout.startswith("ok: 5 entries")

    ran = run_wflow(
        "run", "starter", "app.workflows:welcome", '"Ada"', "--time-skipping", "-q", cwd=tmp_path
    )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {
        "greeting": "Hello, Ada!",
        "followup": "follow-up sent to Ada",
    }

    # The project's own tests, as its user would run them: pytest in the project's folder.
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-3000:]
    assert "2 passed" in tested.stdout


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine", encoding="utf-8")

    refused = run_wflow("init", "taken", cwd=tmp_path)

    assert refused.returncode == 2
    assert "taken already exists and is not empty" in refused.stderr
    assert sorted(p.name for p in (tmp_path / "taken").iterdir()) == ["notes.txt"]


def test_init_refuses_both_languages(tmp_path: Path) -> None:
    refused = run_wflow("init", "both", "--lua", "--python", cwd=tmp_path)

    assert refused.returncode == 2
    assert "--lua or --python, not both" in refused.stderr
    assert not (tmp_path / "both").exists()
