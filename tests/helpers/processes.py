"""Worker processes for crash tests: started with the real CLI, killed for real."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def start_worker(
    project: Path, address: str, log: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start `wflow worker PROJECT --address ADDRESS` in its own process group."""
    with log.open("ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "wflow.cli", "worker", str(project), "--address", address],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )


def kill_hard(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process (no chance to clean up) and reap it."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def stop(process: subprocess.Popen[bytes]) -> int:
    """Ask the process to stop (SIGTERM) and return its exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            kill_hard(process)
    return process.returncode
