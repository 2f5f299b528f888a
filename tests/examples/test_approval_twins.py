"""The seed's approval script (Lua, verbatim) and its Python twin: same calls, same history.

The decision is delivered with the start (signal-with-start), so it is in the history before
the workflow reaches `receive()`, and at the same place for both twins.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.helpers.ledger import calls
from tests.helpers.paths import EXAMPLES
from wflow.model import SpawnOptions, parse_pid
from wflow.registry import load_project
from wflow.temporal import Connection, Session
from wflow.testing import assert_same_history, event_summary

pytestmark = pytest.mark.timeout(120)

EXAMPLE = EXAMPLES / "approval"


async def _run(session: Session, connection: Connection, entry: str, approved: bool) -> list[Any]:
    request = {"order_id": "o-7", "amount": 5}
    options = SpawnOptions().with_message("decision", {"approved": approved})
    pid = await connection.spawn(entry, None, request, options=options)
    await connection.result(pid)
    _, workflow_id = parse_pid(pid)
    client, _ = session.client_for_workflow(entry)
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [event_summary(event) for event in history.events]


@pytest.mark.parametrize("approved", [True, False])
async def test_lua_and_python_approval_twins(
    time_skipping_env: WorkflowEnvironment,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    approved: bool,
) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    monkeypatch.setenv("WFLOW_EXAMPLE_LEDGER", str(ledger))
    monkeypatch.setenv("WFLOW_TQ_PREFIX", f"t{uuid.uuid4().hex[:10]}-")
    registry = load_project(EXAMPLE)
    async with Session(registry, client=time_skipping_env.client) as session:
        connection = Connection(registry, {None: time_skipping_env.client})
        lua = await _run(session, connection, "app.workflows:approval", approved)
        lua_calls = calls(ledger)
        python = await _run(session, connection, "app.workflows:approval_py", approved)

    assert_same_history(lua, python, names=("lua", "python"))
    decision = "fulfill" if approved else "send_rejection"
    assert [function for function, _ in lua_calls] == ["submit", decision]
    assert [function for function, _ in calls(ledger)] == ["submit", decision] * 2
    kinds = [event[0] for event in lua]
    assert kinds.index("WORKFLOW_EXECUTION_SIGNALED") < kinds.index("ACTIVITY_TASK_SCHEDULED")
