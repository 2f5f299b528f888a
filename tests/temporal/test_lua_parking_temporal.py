"""Parking on Temporal (time-skipping server): a Lua workflow whose state is dropped while it
waits, and rebuilt when it goes on, ends as one that never parked, with the same history; the
parking thread parks a workflow idle for its `limits.park_after` of real time."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from wflow.model import format_pid
from wflow.registry import load_project
from wflow.temporal import Connection, Session

pytestmark = pytest.mark.timeout(120)

YAML = """\
version: "1.0"
namespace: park
entries:
  - name: worker
    kind: temporal.worker
    task_queue: "{queue}"
  - name: double
    kind: function.lua
    source: file://double.lua
  - name: waiter
    kind: workflow.lua
    source: file://waiter.lua
    modules: [funcs, time, uuid]
    limits: {{park_after: "{park_after}"}}
"""

DOUBLE = "return function(n) return n * 2 end\n"

WAITER = """\
local funcs = require("funcs")
local time = require("time")
local uuid = require("uuid")
return function(n)
  local doubled = funcs.call("park:double", n)
  local id = uuid.v4()
  time.sleep("1h")
  local ch = channel.new(1)
  coroutine.spawn(function() ch:send(funcs.call("park:double", doubled)) end)
  local msg = process.inbox():receive()
  local r = math.random(1, 1000000)
  return {doubled = doubled, again = ch:receive(), msg = msg.note, id = id, r = r,
          at = time.now():unix()}
end
"""


def _project(tmp_path: Path, park_after: str) -> Path:
    folder = tmp_path / park_after.replace(" ", "")
    folder.mkdir()
    queue = f"park-{uuid.uuid4().hex[:8]}"
    (folder / "_index.yaml").write_text(YAML.format(queue=queue, park_after=park_after))
    (folder / "double.lua").write_text(DOUBLE)
    (folder / "waiter.lua").write_text(WAITER)
    return folder


async def _run(env: WorkflowEnvironment, folder: Path, workflow_id: str) -> tuple[Any, list[Any]]:
    client = env.client
    async with Session(load_project(folder), client=client) as session:
        connection = Connection(session.registry, {None: client})
        handle = await session.start("park:waiter", [21], workflow_id=workflow_id)
        pid = format_pid("park:worker", handle.id)
        await connection.send(pid, "note", {"note": "go"})
        result = await session.result(handle)
        history = await handle.fetch_history()
    shape = [
        (event.event_type, event.activity_task_scheduled_event_attributes.activity_type.name)
        for event in history.events
        if event.event_type
        in (EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, EventType.EVENT_TYPE_TIMER_STARTED)
    ]
    return result, shape


async def test_a_workflow_parked_at_every_wait_ends_as_one_never_parked(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="lua_bridge.parking"):
        never, never_history = await _run(
            time_skipping_env, _project(tmp_path, "never"), f"never-{uuid.uuid4().hex[:8]}"
        )
        assert not [r for r in caplog.records if r.name == "lua_bridge.parking"]
        parked, parked_history = await _run(
            time_skipping_env, _project(tmp_path, "0s"), f"parked-{uuid.uuid4().hex[:8]}"
        )
    messages = [r.getMessage() for r in caplog.records if r.name == "lua_bridge.parking"]
    assert sum(m.startswith("parked a Lua state") for m in messages) >= 3
    assert sum(m.startswith("rebuilt a parked Lua state") for m in messages) >= 3
    # Same values (the UUID, randomness and clock are the workflow's own, so they differ
    # between the two workflows; their shape does not), same commands in the same order.
    assert parked["doubled"] == never["doubled"] == 42
    assert parked["again"] == never["again"] == 84
    assert parked["msg"] == never["msg"] == "go"
    assert len(parked["id"]) == len(never["id"]) == 36
    assert parked_history == never_history
    assert [t for t, _ in parked_history].count(EventType.EVENT_TYPE_TIMER_STARTED) == 1


async def test_the_parking_thread_parks_a_workflow_idle_for_its_park_after(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _project(tmp_path, "1s")
    client = time_skipping_env.client
    with caplog.at_level(logging.DEBUG, logger="lua_bridge.parking"):
        async with Session(load_project(folder), client=client) as session:
            connection = Connection(session.registry, {None: client})
            handle = await session.start(
                "park:waiter", [1], workflow_id=f"idle-{uuid.uuid4().hex[:8]}"
            )
            pid = format_pid("park:worker", handle.id)
            # Waits for the message, idle; within ~1-2 s of real time the thread parks it.
            for _ in range(100):
                if any(
                    r.getMessage().startswith("parked a Lua state")
                    for r in caplog.records
                    if r.name == "lua_bridge.parking"
                ):
                    break
                await asyncio.sleep(0.1)
            else:
                pytest.fail("the idle workflow's Lua state was not parked within 10 s")
            await connection.send(pid, "note", {"note": "later"})
            result = await session.result(handle)
    assert result["doubled"] == 2 and result["again"] == 4 and result["msg"] == "later"
    messages = [r.getMessage() for r in caplog.records if r.name == "lua_bridge.parking"]
    assert any(m.startswith("rebuilt a parked Lua state") for m in messages)
