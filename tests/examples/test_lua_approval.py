"""examples/approval with the real registry and the in-memory runtime (no server).

The seed's approval script verbatim: approved -> fulfill, rejected -> send_rejection, and a
decision sent before the workflow reaches `receive()` is not lost. The Temporal run is in
`test_lua_approval_temporal.py`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lua_bridge import LuaEngine
from tests.helpers.paths import EXAMPLES
from wflow.model import FunctionContext
from wflow.testing import FakeProcessClient, FakeRuntime

registry_module = pytest.importorskip("wflow.registry")

EXAMPLE = EXAMPLES / "approval"
SEED_APPROVAL = """\
local funcs = require("funcs")
funcs.call("app.approvals:submit", request)
local inbox = process.inbox()
local msg = inbox:receive() -- blockiert bis Signal ankommt
if msg.approved then
funcs.call("app.orders:fulfill", request.order_id)
else
funcs.call("app.notifications:send_rejection", request)
end
"""
REQUEST = {"order_id": "o-17", "amount": 120}


def test_the_script_is_the_seed_verbatim_after_binding_request() -> None:
    text = (EXAMPLE / "approval.lua").read_text(encoding="utf-8")
    first, rest = text.split("\n", 1)
    assert first == "local request = ..."
    assert rest == SEED_APPROVAL


def _registry() -> Any:
    return registry_module.load_project(EXAMPLE)


def _runtime() -> FakeRuntime:
    return FakeRuntime(
        {
            "app.approvals:submit": {"submitted": True},
            "app.orders:fulfill": {"fulfilled": True},
            "app.notifications:send_rejection": {"notified": True},
        }
    )


async def _run(runtime: FakeRuntime, decision: dict[str, Any], *, early: bool) -> None:
    registry = _registry()
    entry = registry.get("app.workflows:approval")
    engine = LuaEngine()
    assert engine.check(entry, registry) == []
    program = engine.workflow_program(entry, registry)
    if early:
        runtime.deliver("decision", decision, "app:temporal_worker/approver")
    else:
        asyncio.get_running_loop().call_later(0.02, runtime.deliver, "decision", decision)
    assert await program.run(runtime, [REQUEST]) is None


@pytest.mark.parametrize("early", [False, True])
async def test_approved_fulfills(early: bool) -> None:
    runtime = _runtime()
    await _run(runtime, {"approved": True}, early=early)
    assert [(t, a) for t, a, _ in runtime.calls] == [
        ("app.approvals:submit", [REQUEST]),
        ("app.orders:fulfill", ["o-17"]),
    ]


@pytest.mark.parametrize("early", [False, True])
async def test_rejected_notifies(early: bool) -> None:
    runtime = _runtime()
    await _run(runtime, {"approved": False, "reason": "too expensive"}, early=early)
    assert [(t, a) for t, a, _ in runtime.calls] == [
        ("app.approvals:submit", [REQUEST]),
        ("app.notifications:send_rejection", [REQUEST]),
    ]


async def test_order_processor_returns_the_status_it_is_sent() -> None:
    registry = _registry()
    program = LuaEngine().workflow_program(registry.get("app.workflows:order_processor"), registry)
    runtime = FakeRuntime()
    asyncio.get_running_loop().call_later(0.01, runtime.deliver, "update", {"status": "approved"})
    result = await program.run(runtime, [{"order_id": "o-1"}])
    assert result == {"order_id": "o-1", "status": "approved"}


def test_launcher_spawns_and_sends() -> None:
    registry = _registry()
    program = LuaEngine().function_program(registry.get("app.launcher:start_order"), registry)
    client = FakeProcessClient({"app.workflows:order_processor": None})
    context = FunctionContext(entry_id="app.launcher:start_order", processes=client)
    pid = program.call([{"order_id": "o-2"}], context)
    assert pid == "app:temporal_worker/wf-1"
    assert [(e, h, a) for e, h, a, _ in client.spawned] == [
        ("app.workflows:order_processor", "app:temporal_worker", [{"order_id": "o-2"}])
    ]
    assert client.sent == [(pid, "update", {"status": "approved"})]
