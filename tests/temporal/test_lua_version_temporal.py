"""`workflow.version` on the time-skipping server: a run started on version 1 of a Lua script
keeps its old branch after the script changed (a new worker replays it from history), while
new runs take the new branch."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from wflow.model import format_pid
from wflow.registry import load_project
from wflow.temporal import Connection, Session

pytestmark = pytest.mark.timeout(120)

YAML = """\
version: "1.0"
namespace: ver
entries:
  - name: worker
    kind: temporal.worker
    task_queue: "{queue}"
    # No cache, so no sticky queue: after the first worker is gone its runs' next tasks go
    # to the new worker, which replays them from history with the changed script.
    worker_options:
      max_cached_workflows: 0
  - name: greeter
    kind: workflow.lua
    source: file://greeter.lua
    modules: [workflow]
"""

# Version 1: written before anyone thought of versions.
V1 = """\
return function(name)
  local msg = process.inbox():receive()
  return "hello " .. name .. " (" .. msg:topic() .. ")"
end
"""

# Version 2: the greeting changed; runs started on version 1 must keep the old one.
V2 = """\
local workflow = require("workflow")
return function(name)
  local v = workflow.version("greeting", 1, 2)
  local msg = process.inbox():receive()
  if v == 1 then return "hello " .. name .. " (" .. msg:topic() .. ")" end
  return "good day, " .. name .. " (" .. msg:topic() .. ", v" .. v .. ")"
end
"""


async def test_old_run_keeps_its_branch_new_runs_take_the_new_one(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    (tmp_path / "_index.yaml").write_text(YAML.format(queue=f"ver-{uuid.uuid4().hex[:8]}"))
    script = tmp_path / "greeter.lua"
    script.write_text(V1)
    client = time_skipping_env.client
    old_id = f"greeter-old-{uuid.uuid4().hex[:8]}"
    async with Session(load_project(tmp_path), client=client) as session:
        await session.start("ver:greeter", ["Ada"], workflow_id=old_id)
        # Let the first workflow task run on version 1 before the worker goes away.
        connection = Connection(session.registry, {None: client})
        assert await connection.query(format_pid("ver:worker", old_id), "pid")

    script.write_text(V2)
    async with Session(load_project(tmp_path), client=client) as session:
        connection = Connection(session.registry, {None: client})
        new = await session.start(
            "ver:greeter", ["Bob"], workflow_id=f"greeter-new-{uuid.uuid4().hex[:8]}"
        )
        old_pid = format_pid("ver:worker", old_id)
        new_pid = format_pid("ver:worker", new.id)
        await connection.send(old_pid, "go")
        await connection.send(new_pid, "go")
        assert await connection.result(old_pid) == "hello Ada (go)"
        assert await connection.result(new_pid) == "good day, Bob (go, v2)"
