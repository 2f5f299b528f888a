"""`wflow ls` by a custom search attribute, and `wflow reset` re-running a fixed function.

A Lua workflow tags itself with `workflow.attrs{search = {CustomerId = ...}}` (declared on the
client, so registered on the dev server by the session) and calls a Python function that fails
for good until the operator "fixes" it (a file appears). `wflow ls --query` / `--attr` find one
customer's run; `wflow reset PID --to-last-failure` re-runs the failed call with the fixed
function and the workflow completes.
"""

from __future__ import annotations

import json
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.processes import run_wflow
from tests.helpers.production import eventually
from wflow.model import WflowError
from wflow.registry import load_project
from wflow.temporal import Session, call_steps, connect
from wflow.testing import EmbeddedDevServer

pytestmark = pytest.mark.timeout(180)

LUA = """
local funcs = require("funcs")
local workflow = require("workflow")
return function(customer)
  workflow.attrs({search = {CustomerId = customer}})
  local receipt, err = funcs.call("app:charge", customer)
  if err then
    return nil, err
  end
  return receipt
end
"""

FUNCTIONS = """
from pathlib import Path

import wflow

FIXED = Path(__file__).parent / "fixed"


def charge(customer):
    if not FIXED.exists():
        raise wflow.WflowError("card service misconfigured", wflow.ErrorKind.INVALID, retryable=False)
    return "charged " + customer
"""


def _project(root: Path, address: str, module: str) -> Path:
    root.mkdir(parents=True)
    (root / "_index.yaml").write_text(
        textwrap.dedent(
            f"""
            version: "1.0"
            namespace: app
            entries:
              - name: client
                kind: temporal.client
                address: "{address}"
                search_attributes:
                  CustomerId: Keyword
              - name: worker
                kind: temporal.worker
                client: client
                task_queue: "reset-{uuid.uuid4().hex[:8]}"
              - name: tagged
                kind: workflow.lua
                source: file://tagged.lua
                modules: [funcs, workflow]
              - name: charge
                kind: function.py
                module: {module}
                method: charge
            """
        ).lstrip()
    )
    (root / "tagged.lua").write_text(LUA)
    (root / f"{module}.py").write_text(FUNCTIONS)
    return root


def _ls(project: Path, *args: str) -> list[dict[str, Any]]:
    result = run_wflow("ls", str(project), "--json", *args, timeout=60)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


async def test_ls_by_search_attribute_and_reset_after_a_fix(
    dev_server: EmbeddedDevServer, tmp_path: Path
) -> None:
    module = f"reset_fns_{uuid.uuid4().hex[:8]}"
    project = _project(tmp_path / "p", dev_server.address, module)
    registry = load_project(project)
    async with Session(registry) as session:
        first = await session.start("app:tagged", ["c-42"])
        second = await session.start("app:tagged", ["c-7"])
        for handle in (first, second):
            with pytest.raises(WflowError, match="card service misconfigured"):
                await session.result(handle)

        connection = await connect(registry)

        async def listed() -> Any:
            found = await connection.list("CustomerId = 'c-42'")
            return found or None

        await eventually(listed, what="the tagged run in visibility")
        rows = _ls(project, "--query", "CustomerId = 'c-42'")
        assert [row["entry"] for row in rows] == ["app:tagged"]
        pid = rows[0]["pid"]
        assert pid.endswith(first.id) and rows[0]["status"] == "FAILED"
        filtered = _ls(
            project, "--attr", "CustomerId=c-42", "--status", "failed", "--entry", "app:tagged"
        )
        assert [row["pid"] for row in filtered] == [pid]
        assert {row["pid"] for row in _ls(project, "--entry", "app:tagged")} >= {
            pid,
            rows[0]["pid"].replace(first.id, second.id),
        }
        bad = run_wflow("ls", str(project), "--status", "sleepy", timeout=60)
        assert bad.returncode == 2 and "unknown status 'sleepy'" in bad.stderr

        # The operator fixes the function, then re-runs the workflow from the failed call.
        (project / "fixed").write_text("yes")
        result = run_wflow("reset", str(project), pid, "--to-last-failure", timeout=60)
        assert result.returncode == 0, result.stderr
        assert "reset to before step" in result.stdout and "funcs.call app:charge" in result.stdout

        client = session.client_for_workflow("app:tagged")[0]
        assert await client.get_workflow_handle(first.id).result() == "charged c-42"
        steps = call_steps(await connection.history(pid))
        calls = [(s.name, s.status) for s in steps if s.kind == "call"]
        assert calls == [("app:charge", "ok")]
        assert steps[-1].kind == "completed"

        # A step that does not exist is a usage error naming the range.
        out_of_range = run_wflow("reset", str(project), pid, "--to-call", "99", timeout=60)
        assert out_of_range.returncode == 2
        assert "no step 99: the history has steps 1.." in out_of_range.stderr
