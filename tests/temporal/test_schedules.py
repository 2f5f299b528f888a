"""`temporal.schedule`: a schedule declared for the seed's Lua order workflow fires on the dev
server; `wflow schedule pause/trigger/backfill/describe/ls/delete` act on it; the stock
`temporal schedule list` shows it; a schedule the project no longer declares is reported.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType

from tests.helpers.processes import run_wflow
from tests.helpers.production import ORDERS_LUA, eventually, with_entries
from wflow.temporal import Connection, Session
from wflow.temporal._schedules import sync_schedules
from wflow.testing import EmbeddedDevServer, find_binary

pytestmark = pytest.mark.timeout(180)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout.strip()


async def test_a_declared_schedule_fires_the_order_workflow_and_the_cli_operates_it(
    dev_server: EmbeddedDevServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WFLOW_EXAMPLE_LEDGER", str(tmp_path / "ledger.sqlite3"))
    schedule_id = f"orders-{uuid.uuid4().hex[:6]}"
    registry = with_entries(
        ORDERS_LUA,
        schedules=[
            {
                "name": "orders_every_2s",
                "schedule_id": schedule_id,
                "workflow": "app.workflows:order_processor",
                "interval": "2s",
                "overlap": "allow_all",
                "note": "seed order workflow",
            }
        ],
    )
    address = dev_server.address
    lines: list[str] = []
    async with Session(
        registry, address=address, sync_schedules=True, progress=lines.append
    ) as session:
        assert f"schedule {schedule_id}: created" in lines
        client, _ = session.client_for_workflow("app.workflows:order_processor")
        handle = client.get_schedule_handle(schedule_id)

        async def first_run() -> Any:
            info = (await handle.describe()).info
            return info.recent_actions[0] if info.recent_actions else None

        action = await eventually(first_run, what="a scheduled run")
        run_id = action.action.workflow_id
        assert run_id.startswith(schedule_id)

        # The run is the seed's Lua script, executed by this session's worker: it charged the
        # card and sleeps its 24 hours.
        async def charged() -> Any:
            events = [e async for e in client.get_workflow_handle(run_id).fetch_history_events()]
            names = [
                e.activity_task_scheduled_event_attributes.activity_type.name
                for e in events
                if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            ]
            timers = [e for e in events if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED]
            return names if names and timers else None

        assert await eventually(charged, what="the run's charge and timer") == [
            "app.api:charge_card"
        ]
        description = await client.get_workflow_handle(run_id).describe()
        assert description.workflow_type == "app.workflows:order_processor"

        cli = [str(ORDERS_LUA), "--address", address]
        ok(run_wflow("schedule", "pause", str(ORDERS_LUA), schedule_id, "--address", address))
        described = json.loads(
            ok(run_wflow("schedule", "describe", str(ORDERS_LUA), schedule_id, *cli[1:]))
        )
        assert described["paused"] is True
        assert described["workflow"] == "app.workflows:order_processor"
        assert described["intervals"] == ["0:00:02"]
        assert described["overlap"] == "allow_all"

        # A sync (a worker restart) keeps the operator's pause.
        report = await sync_schedules(registry, {None: client})
        assert report.updated == [schedule_id]
        assert (await handle.describe()).schedule.state.paused

        before = (await handle.describe()).info.num_actions
        ok(run_wflow("schedule", "trigger", str(ORDERS_LUA), schedule_id, *cli[1:]))

        async def triggered() -> Any:
            count = (await handle.describe()).info.num_actions
            return count if count > before else None

        after_trigger = await eventually(triggered, what="the triggered run")
        ok(
            run_wflow(
                "schedule",
                "backfill",
                str(ORDERS_LUA),
                schedule_id,
                "--start",
                "2026-01-01T00:00:00Z",
                "--end",
                "2026-01-01T00:00:05Z",
                *cli[1:],
            )
        )

        async def backfilled() -> Any:
            info = (await handle.describe()).info
            old = [
                a
                for a in info.recent_actions
                if a.scheduled_at.year == 2026
                and a.scheduled_at.month == 1
                and a.scheduled_at.day == 1
            ]
            return old if len(old) >= 2 else None

        old_runs = await eventually(backfilled, what="the backfilled runs")
        assert {a.scheduled_at.second for a in old_runs} >= {0, 2}
        assert (await handle.describe()).info.num_actions >= after_trigger + 2

        # The stock Temporal CLI sees it.
        listed = subprocess.run(
            [str(find_binary("temporal")), "schedule", "list", "--address", address],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listed.returncode == 0, listed.stderr
        assert schedule_id in listed.stdout

        # `wflow schedule ls` lists it as the entry's.
        rows = [
            json.loads(line)
            for line in ok(
                run_wflow("schedule", "ls", str(ORDERS_LUA), "--json", *cli[1:])
            ).splitlines()
        ]
        mine = [row for row in rows if row["schedule_id"] == schedule_id]
        assert mine and mine[0]["paused"] is True

    # The project stops declaring it: reported, then removed with remove=True.
    bare = with_entries(ORDERS_LUA)
    connection = Connection(bare, {None: client})
    report = await sync_schedules(bare, connection.clients)
    assert schedule_id in report.undeclared and not report.removed
    assert any("not declared in the project any more" in line for line in report.lines())
    report = await sync_schedules(bare, connection.clients, remove=True)
    assert schedule_id in report.removed


def test_schedule_cli_names_an_unknown_schedule(dev_server: EmbeddedDevServer) -> None:
    result = run_wflow(
        "schedule", "pause", str(ORDERS_LUA), "no-such-schedule", "--address", dev_server.address
    )
    assert result.returncode == 2, result.stderr
    assert "no schedule 'no-such-schedule'" in result.stderr
