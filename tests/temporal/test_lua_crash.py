"""Crash survival of a Lua workflow with real processes.

A `wflow worker` subprocess runs a Lua workflow that records a call, sleeps and records again.
While it sleeps the worker is SIGKILLed; a second worker process finishes the workflow. Every
function ran exactly once, the second one in the second worker.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from tests.helpers.paths import FIXTURES
from wflow.registry import load_project
from wflow.temporal import Session
from wflow.testing import EmbeddedDevServer

pytestmark = pytest.mark.timeout(180)

PROJECT = FIXTURES / "lua_temporal" / "crash"


def ledger_rows(path: Path) -> list[tuple[str, int]]:
    if not path.exists():
        return []
    db = sqlite3.connect(path, timeout=30)
    try:
        return [(s, p) for s, p in db.execute("SELECT step, pid FROM calls ORDER BY seq")]
    except sqlite3.OperationalError:  # table not created yet
        return []
    finally:
        db.close()


async def wait_for(condition: Callable[[], Awaitable[bool]], what: str, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class Workers:
    """`wflow worker` subprocesses this test starts (and always stops)."""

    def __init__(self, tmp_path: Path, env: dict[str, str], address: str) -> None:
        self.tmp_path = tmp_path
        self.env = env
        self.address = address
        self.started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.tmp_path / f"worker{len(self.started) + 1}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    *(sys.executable, "-m", "wflow.cli", "worker", str(PROJECT)),
                    *("--address", self.address, "--state-dir", str(self.tmp_path / "state")),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        self.started.append((proc, log))
        return proc, log

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()}" for _, log in self.started)

    def stop_all(self) -> None:
        for proc, _ in self.started:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@pytest.fixture
def workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dev_server: EmbeddedDevServer
) -> Iterator[Workers]:
    monkeypatch.setenv("WFLOW_TQ_PREFIX", f"t{uuid.uuid4().hex[:10]}-")
    monkeypatch.setenv("WFLOW_CRASH_LEDGER", str(tmp_path / "ledger.sqlite3"))
    group = Workers(tmp_path, dict(os.environ), dev_server.address)
    try:
        yield group
    finally:
        group.stop_all()


async def sleeping(handle: WorkflowHandle[Any, Any]) -> bool:
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            return True
    return False


async def test_sigkilled_worker_is_replaced_and_no_function_runs_twice(
    workers: Workers, dev_server: EmbeddedDevServer, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    registry = load_project(PROJECT)
    session = Session(registry, address=dev_server.address, start_workers=False)
    async with session:
        first, _ = workers.start()
        handle = await session.start("crash:record_then_sleep", ["5s"])
        try:
            await wait_for(lambda: sleeping(handle), "the workflow to sleep", 60)
        except AssertionError:
            raise AssertionError(workers.logs()) from None
        assert ledger_rows(ledger) == [("before sleep", first.pid)]

        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=30) == -signal.SIGKILL

        second, _ = workers.start()
        try:
            result = await asyncio.wait_for(handle.result(), 120)
        except BaseException:
            print(workers.logs())
            raise

    assert ledger_rows(ledger) == [("before sleep", first.pid), ("after sleep", second.pid)]
    assert result == {"first": first.pid, "second": second.pid}
    # The new worker replayed the history instead of running the first call again.
    history = await handle.fetch_history()
    scheduled = [
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert len(scheduled) == 2
