"""The greetings project of the `wflow run`/`worker`/`dev` tests (`app:hello` calls
`app:greet`) and `wflow` with a timeout long enough to start a dev server."""

from __future__ import annotations

import functools
import textwrap
import uuid
from pathlib import Path

from tests.helpers.processes import run_wflow

__all__ = ["GREETINGS", "make_project", "wflow"]

GREETINGS = """
import wflow
from wflow import funcs, time


def greet(name: str) -> str:
    if name == "nobody":
        raise wflow.WflowError("nobody to greet", wflow.ErrorKind.INVALID, details={"name": name})
    return f"hello {name}"


async def hello(name: str, nap: str | None = None) -> str:
    if nap is not None:
        await time.sleep(nap)
    return await funcs.call("app:greet", name)
"""


def make_project(root: Path, address: str) -> Path:
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
                task_queue: "greetings-{uuid.uuid4().hex[:8]}"
              - name: greet
                kind: function.py
                module: greetings
                method: greet
              - name: hello
                kind: workflow.py
                module: greetings
                method: hello
            """
        ).lstrip(),
        encoding="utf-8",
    )
    (root / "greetings.py").write_text(GREETINGS.lstrip(), encoding="utf-8")
    return root


wflow = functools.partial(run_wflow, timeout=180)
