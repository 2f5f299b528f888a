"""The command line's usage errors and exit codes, without a server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.processes import run_wflow as wflow


def test_help_lists_the_commands() -> None:
    result = wflow("--help")
    assert result.returncode == 0
    for command in ("validate", "schema", "run", "worker", "dev"):
        assert command in result.stdout


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "wflow"
    assert script.exists()
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0


def test_no_command_is_a_usage_error() -> None:
    assert wflow().returncode == 2


def test_unknown_command_is_a_usage_error() -> None:
    result = wflow("frobnicate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["validate", "run", "worker", "dev"])
def test_missing_project_is_a_usage_error(command: str, tmp_path: Path) -> None:
    args = [command, "missing"]
    if command == "run":
        args.append("app:main")
    result = wflow(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_arg_json_names_the_argument(tmp_path: Path) -> None:
    result = wflow("run", str(tmp_path), "app:main", '{"ok": 1}', "{not json")
    assert result.returncode == 2
    assert "argument 2 is not valid JSON" in result.stderr
    assert "{not json" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
