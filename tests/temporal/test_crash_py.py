"""A decorated Python workflow survives its worker being killed with SIGKILL mid-sleep."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

from temporalio.api.enums.v1 import EventType

from tests.helpers.ledger import calls
from tests.helpers.paths import EXAMPLES
from tests.helpers.processes import kill_hard, start_worker, stop
from wflow.registry import load_project
from wflow.temporal import Session
from wflow.testing import EmbeddedDevServer, wait_for_event

EXAMPLE = EXAMPLES / "orders_py"


def copy_example(target: Path) -> Path:
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".wflow", "__pycache__"))
    index = target / "_index.yaml"
    # A task queue of its own, so no other test's worker can pick up this workflow.
    index.write_text(
        index.read_text().replace('task_queue: "orders"', f'task_queue: "crash-{uuid.uuid4().hex}"')
    )
    return target


async def test_killed_worker_is_replaced_and_charge_runs_once(
    dev_server: EmbeddedDevServer, tmp_path: Path
) -> None:
    project = copy_example(tmp_path / "orders")
    ledger = tmp_path / "ledger.sqlite3"
    env = {"WFLOW_EXAMPLE_LEDGER": str(ledger)}
    log = tmp_path / "workers.log"
    payment = {
        "order_id": "crash-1",
        "amount": 42,
        "card": "4000000000000002",
        "settle_after": "4s",
    }

    first = start_worker(project, dev_server.address, log, env)
    second = None
    try:
        registry = load_project(project)
        async with Session(registry, address=dev_server.address, start_workers=False) as session:
            handle = await session.start("app.workflows:order_processor", [payment])
            await wait_for_event(handle, EventType.EVENT_TYPE_TIMER_STARTED)
            assert [f for f, _ in calls(ledger)] == ["charge_card"]

            kill_hard(first)
            second = start_worker(project, dev_server.address, log, env)
            result = await asyncio.wait_for(session.result(handle), 120)
    finally:
        stop(first)
        if second is not None:
            assert stop(second) == 0, log.read_text()

    assert result == {"charge": "ch_crash-1", "status": "failed", "refunded": True}
    assert calls(ledger) == [
        ("charge_card", "ch_crash-1"),
        ("check_status", "ch_crash-1"),
        ("refund", "ch_crash-1"),
    ]
