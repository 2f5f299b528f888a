"""Benchmark worker processes (`_worker.py`), and reading their CPU time and memory."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

__all__ = ["WorkerProcess", "worker_process"]

_TICK = os.sysconf("SC_CLK_TCK")
_ROOT = Path(__file__).resolve().parent.parent


class WorkerProcess:
    """A running `python -m bench._worker` process."""

    def __init__(self, process: asyncio.subprocess.Process, task_queue: str) -> None:
        self.process = process
        self.task_queue = task_queue

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far, all threads (Temporal's core too)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK

    def rss_bytes(self) -> int:
        """Resident memory of the process now."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")


@contextlib.asynccontextmanager
async def worker_process(
    family: str, address: str, task_queue: str
) -> AsyncIterator[WorkerProcess]:
    """Start a worker of `family` polling `task_queue` (for `wflow`: the prefix) until it polls."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench._worker",
        family,
        address,
        task_queue,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=_ROOT,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=120)
        if line.strip() != b"ready":
            raise RuntimeError(f"benchmark worker {family} did not start (printed {line!r})")
        yield WorkerProcess(process, task_queue)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        with contextlib.suppress(ProcessLookupError):
            process.kill()  # cached workflows need no graceful shutdown
        await process.wait()
