"""examples/approval on the time-skipping Temporal server: the seed's approval script verbatim,
and the seed's spawn + send from a Lua function running as an activity."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.helpers.ledger import calls
from tests.helpers.paths import EXAMPLES
from wflow.model import SpawnOptions
from wflow.registry import load_project
from wflow.temporal import Connection, Session

pytestmark = pytest.mark.timeout(120)

EXAMPLE = EXAMPLES / "approval"
WORKER = "app:temporal_worker"


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ledger for the example's functions, and task queues of this test's own."""
    path = tmp_path / "ledger.sqlite3"
    monkeypatch.setenv("WFLOW_EXAMPLE_LEDGER", str(path))
    monkeypatch.setenv("WFLOW_TQ_PREFIX", f"t{uuid.uuid4().hex[:10]}-")
    return path


def _request() -> dict[str, object]:
    return {"order_id": f"o-{uuid.uuid4().hex[:8]}", "amount": 120}


async def _approval(
    env: WorkflowEnvironment, decision: dict[str, object], *, with_start: bool
) -> tuple[dict[str, object], object]:
    request = _request()
    async with Session(load_project(EXAMPLE), client=env.client) as session:
        connection = Connection(session.registry, {None: env.client})
        if with_start:
            # Signal-with-start: the decision is there before the script reaches receive().
            options = SpawnOptions().with_message("decision", decision)
            pid = await connection.spawn("app.workflows:approval", None, request, options=options)
        else:
            pid = await connection.spawn("app.workflows:approval", None, request)
            await connection.send(pid, "decision", decision)
        assert pid.startswith(f"{WORKER}/app.workflows:approval-")
        result = await connection.result(pid)
    return request, result


@pytest.mark.parametrize("with_start", [False, True])
async def test_approved_fulfills(
    time_skipping_env: WorkflowEnvironment, ledger: Path, with_start: bool
) -> None:
    request, result = await _approval(time_skipping_env, {"approved": True}, with_start=with_start)
    assert result is None
    oid = str(request["order_id"])
    assert calls(ledger) == [("submit", oid), ("fulfill", oid)]


@pytest.mark.parametrize("with_start", [False, True])
async def test_rejected_sends_rejection(
    time_skipping_env: WorkflowEnvironment, ledger: Path, with_start: bool
) -> None:
    request, _ = await _approval(
        time_skipping_env, {"approved": False, "reason": "budget"}, with_start=with_start
    )
    oid = str(request["order_id"])
    assert calls(ledger) == [("submit", oid), ("send_rejection", oid)]


async def test_lua_function_spawns_and_sends(
    time_skipping_env: WorkflowEnvironment, ledger: Path
) -> None:
    order = {"order_id": "o-launch"}
    async with Session(load_project(EXAMPLE), client=time_skipping_env.client) as session:
        connection = Connection(session.registry, {None: time_skipping_env.client})
        pid = await session.execute("app.workflows:launch_order", [order])
        assert isinstance(pid, str)
        assert pid.startswith(f"{WORKER}/app.workflows:order_processor-")
        assert await connection.result(pid) == {"order_id": "o-launch", "status": "approved"}
