"""`wflow` commands as real processes: crash-test workers (killed for real), background runs."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

WFLOW_CLI = (sys.executable, "-m", "wflow.cli")
"""The `wflow` command of the interpreter running the tests."""


def run_wflow(
    *args: str,
    timeout: float = 120,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `wflow ARGS...` to its end; its output captured as text; `env` adds variables."""
    return subprocess.run(
        [*WFLOW_CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
    )


def start_worker(
    project: Path, address: str, log: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start `wflow worker PROJECT --address ADDRESS` in its own process group."""
    with log.open("ab") as handle:
        return subprocess.Popen(
            [*WFLOW_CLI, "worker", str(project), "--address", address],
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


class Background:
    """A `wflow` command running in the background, its stderr read line by line."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [*WFLOW_CLI, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.process.stderr is not None
        stream = self.process.stderr

        def read() -> None:
            for line in stream:
                self.lines.put(line)

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()

    def wait_for(self, text: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} on stderr; got:\n{''.join(self.seen)}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout)
        self._close()
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
        self._close()

    def _close(self) -> None:
        self.reader.join(10)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        if self.process.stderr is not None:
            self.process.stderr.close()
