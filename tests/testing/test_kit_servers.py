"""wflow.testing's servers, history helpers and replayer against real Temporal servers."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.helpers.paths import FIXTURES
from wflow.registry import load_project
from wflow.temporal import Session
from wflow.testing import (
    dev_server,
    history_summary,
    replayer,
    server_answers,
    time_skipping_server,
    wait_for_event,
    workflow_class,
    workflow_classes,
)

pytestmark = pytest.mark.timeout(180)

KIT = FIXTURES / "testing_kit"
TWINS = ["kit:lua_twice", "kit:py_twice"]


async def test_dev_server_starts_and_stops() -> None:
    async with dev_server() as server:
        assert server.running
        assert server.db_path.parent.is_dir()
        assert await server_answers(server.address)
        state_dir = server.state_dir

    assert not server.running
    assert not await server_answers(server.address, timeout=1.0)
    assert not state_dir.exists()  # its temporary state directory went with it


async def test_dev_server_keeps_a_given_state_dir(tmp_path: Path) -> None:
    async with dev_server(tmp_path / "state") as server:
        assert server.state_dir == (tmp_path / "state").resolve()
    assert (tmp_path / "state" / "temporal.db").is_file()


async def test_time_skipping_twins_histories_and_replay(tmp_path: Path) -> None:
    registry = load_project(KIT)
    histories: dict[str, WorkflowHistory] = {}
    async with time_skipping_server() as env, Session(registry, client=env.client) as session:
        for entry_id in TWINS:
            handle = await session.start(entry_id, [{"steps": 0}])
            timer = await wait_for_event(handle, EventType.EVENT_TYPE_TIMER_STARTED)
            assert timer.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta() == (
                timedelta(hours=1)
            )
            assert await session.result(handle) == {"steps": 2}
            histories[entry_id] = await handle.fetch_history()

    lua, python = (history_summary(histories[entry_id]) for entry_id in TWINS)
    assert lua == python
    assert [event[2] for event in lua if event[0] == "ACTIVITY_TASK_SCHEDULED"] == [
        "kit:step",
        "kit:step",
    ]

    # Both histories replay as a worker would replay them, with or without the sandbox.
    assert {cls.__temporal_workflow_definition.name for cls in workflow_classes(registry)} == set(
        TWINS
    )
    for entry_id in TWINS:
        await replayer(registry).replay_workflow(histories[entry_id])
        for sandboxed in (False, True):
            cls = workflow_class(registry, entry_id, sandboxed=sandboxed)
            assert cls.__temporal_workflow_definition.sandboxed is sandboxed
            await replayer(registry, workflows=[cls]).replay_workflow(histories[entry_id])

    # A changed script (no sleep any more) no longer matches its recorded history.
    changed = tmp_path / "kit"
    shutil.copytree(KIT, changed)
    script = changed / "twice.lua"
    source = script.read_text(encoding="utf-8")
    assert 'time.sleep("1h")' in source
    script.write_text(source.replace('time.sleep("1h")', ""), encoding="utf-8")
    replay = replayer(load_project(changed))
    assert isinstance(replay, Replayer)
    with pytest.raises(Exception, match=r"[Nn]ondetermin"):
        await replay.replay_workflow(histories["kit:lua_twice"])
