"""`process` in function.lua entries: the call's blocking ProcessClient (a fake here)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lua_bridge import LuaEngine
from tests.helpers.fakes import lua_entry
from wflow.model import ErrorKind, FunctionContext, SpawnOptions, WflowError
from wflow.testing import FakeProcessClient


def call(tmp_path: Path, source: str, client: Any, args: list[Any] | None = None) -> Any:
    entry = lua_entry(tmp_path, source, name="fn", kind="function.lua", modules=[])
    context = FunctionContext(entry_id="app:fn", processes=client)
    return LuaEngine().function_program(entry, None).call(args or [], context)


SEED_LAUNCHER = """\
local order_data = ...
-- Workflow auf temporal worker starten
local pid = process.spawn("app.workflows:order_processor", "app:temporal_worker", order_data)
-- Signale an Workflow senden
process.send(pid, "update", {status = "approved"})
return pid
"""


def test_seed_spawn_and_send_from_a_function(tmp_path: Path) -> None:
    client = FakeProcessClient({"app.workflows:order_processor": None})
    pid = call(tmp_path, SEED_LAUNCHER, client, [{"order_id": "o1"}])
    assert pid == "app:temporal_worker/wf-1"
    assert client.spawned == [
        (
            "app.workflows:order_processor",
            "app:temporal_worker",
            [{"order_id": "o1"}],
            SpawnOptions(),
        )
    ]
    assert client.sent == [(pid, "update", {"status": "approved"})]


def test_exec_cancel_terminate_and_options(tmp_path: Path) -> None:
    client = FakeProcessClient(
        {"app:sum": lambda a, b: a + b, "app:fail": WflowError("bad", ErrorKind.INVALID)}
    )
    src = """
    local s = process.exec("app:sum", nil, 2, 3)
    local f, err = process.exec("app:fail", nil)
    local sp = process.with_options{["workflow.execution_timeout"] = 60000}:with_name("n")
    local pid = sp:spawn("app:sum", "app:temporal_worker", 1, 1)
    local m, merr = process.spawn("app:missing", nil)
    return {s, f == nil, err:kind(), pid, process.cancel(pid), process.terminate(pid, "why"),
            m == nil, merr:kind(), process.id()}
    """
    result = call(tmp_path, src, client)
    assert result == [
        5,
        True,
        "INVALID",
        "app:temporal_worker/app:sum:n",
        True,
        True,
        True,
        "NOT_FOUND",
        "app:fn",
    ]
    options = client.spawned[-1][3]
    assert options.execution_timeout == timedelta(minutes=1)
    assert options.name == "n"
    assert client.canceled == ["app:temporal_worker/app:sum:n"]
    assert client.terminated == [("app:temporal_worker/app:sum:n", "why")]


def test_no_client_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WflowError) as info:
        call(tmp_path, SEED_LAUNCHER, None, [{}])
    assert info.value.kind is ErrorKind.INTERNAL
    assert info.value.message.startswith(
        "fn.lua:3: process.spawn: process API unavailable here (this function call has no "
        "Temporal client)"
    ), info.value.message


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("process.inbox()", "process.inbox"),
        ("process.listen('x')", "process.listen"),
        ("process.events()", "process.events"),
        ("process.pid()", "process.pid"),
        ("process.upgrade(1)", "process.upgrade"),
        ("process.spawn_monitored('app:x', nil)", "process.spawn_monitored"),
    ],
)
def test_workflow_only_parts_are_refused(tmp_path: Path, code: str, name: str) -> None:
    with pytest.raises(WflowError) as info:
        call(tmp_path, code, FakeProcessClient())
    assert (
        info.value.message == f"fn.lua:1: {name} is not available in functions (only in workflows)"
    )


def test_non_wflow_errors_of_the_client_propagate(tmp_path: Path) -> None:
    class Broken(FakeProcessClient):
        def send(self, pid: str, topic: str, payload: Any) -> None:
            raise ConnectionError("server gone")

    with pytest.raises(ConnectionError):
        call(tmp_path, 'pcall(process.send, "app:w/x", "t") return 1', Broken())
