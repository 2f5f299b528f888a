"""The CLI process tests' project (Python workflows `waiter`, `counter`, `sleeper`) and the
helpers that run `wflow` and check its exit code; shared by the CLI, connection and bad-input
tests."""

from __future__ import annotations

import functools
import subprocess
import textwrap
import uuid
from pathlib import Path

from tests.helpers.processes import run_wflow

__all__ = ["WORKFLOWS", "failed", "make_project", "ok", "wflow"]

WORKFLOWS = """
from typing import Any

import wflow
from wflow import process, time


@wflow.workflow("app:waiter")
async def waiter(greeting: str) -> dict[str, Any]:
    wflow.workflow.set_state({"greeting": greeting, "waiting": True})
    msg = await process.inbox().receive()
    return {"greeting": greeting, "topic": msg.topic, "payload": msg.payload}


@wflow.workflow("app:counter")
async def counter() -> int:
    total = 0

    async def add(amount: int) -> int:
        nonlocal total
        if amount > 100:
            raise wflow.WflowError("too much at once", wflow.ErrorKind.CONFLICT)
        total += amount
        wflow.workflow.set_state({"total": total})
        return total

    def positive(amount: Any) -> None:
        if not isinstance(amount, int) or amount <= 0:
            raise ValueError("amount must be positive")

    wflow.workflow.set_state({"total": 0})
    await process.handle_updates(
        {"add": add}, validators={"add": positive}, until=lambda: total >= 10
    )
    return total


@wflow.workflow("app:sleeper", mailbox_bound=1)
async def sleeper(nap: str = "24h") -> str:
    await time.sleep(nap)
    return "woke"
"""


def make_project(root: Path, address: str) -> Path:
    module = f"cliproc_{uuid.uuid4().hex[:8]}"
    root.mkdir(parents=True, exist_ok=True)
    (root / "_index.yaml").write_text(
        textwrap.dedent(
            f"""
            version: "1.0"
            namespace: app
            entries:
              - name: temporal_client
                kind: temporal.client
                address: "{address}"
              - name: temporal_worker
                kind: temporal.worker
                client: app:temporal_client
                task_queue: "cli-process-{uuid.uuid4().hex[:8]}"
              - name: waiter
                kind: workflow.py
                module: {module}
                method: waiter
            """
        ).lstrip(),
        encoding="utf-8",
    )
    (root / f"{module}.py").write_text(WORKFLOWS.lstrip(), encoding="utf-8")
    return root


wflow = functools.partial(run_wflow, timeout=60)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout.strip()


def failed(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stderr
