"""Parking: a waiting Lua workflow drops its Lua state and rebuilds it, unseen by the workflow.

`limits.park_after` (docs/lua.md, "Resource limits"): after that long waiting, a run's state
is dropped; the run keeps a journal of the calls into Lua and the host calls' answers, and the
next step runs a fresh state through them (`lua_bridge/_run_journal.py`). These tests park at
every wait (`0s`) and compare with runs that never park.
"""

from __future__ import annotations

import asyncio
import gc
import textwrap
import time
import weakref
from pathlib import Path
from typing import Any

import pytest

import lua_bridge._lua_state as lua_state_module
from lua_bridge import LuaLimits
from lua_bridge._lua_run import LuaRun
from lua_bridge._parking import sweep
from lua_bridge._protocol import Operation
from lua_bridge._run_journal import OUT, RunJournal
from tests.helpers.fakes import FakeLimits, run_workflow
from wflow.model import WflowError
from wflow.registry import validate_project
from wflow.testing import FakeRuntime

# Everything that crosses between Python and Lua in a workflow: call results and errors,
# futures and their channels, timers, channel.new values across coroutines, select,
# messages, UUIDs, the clock, randomness, JSON, options, versions.
BUSY = """
local funcs = require("funcs")
local time = require("time")
local uuid = require("uuid")
local json = require("json")
local workflow = require("workflow")
return function(order)
  local out = {}
  out.charge = funcs.call("app.api:charge", order)
  local _, err = funcs.call("app.api:broken")
  out.err = tostring(err) .. "/" .. err:kind()
  local fut = funcs.async("app.api:status", order.id)
  out.first_uuid = uuid.v4()
  time.sleep("1h")
  out.now = time.now():unix()
  out.random = math.random(1, 1000000)
  out.status = fut:result()
  local ch = channel.new(1)
  coroutine.spawn(function()
    time.sleep("5m")
    ch:send({from_coroutine = true, list = {1, 2, 3}})
  end)
  local timer = time.after("10m")
  local picked = channel.select{ch:case_receive(), timer:case_receive()}
  out.picked = picked.value
  local msg = process.inbox():receive()
  out.msg = {topic = msg:topic(), data = msg:payload():data()}
  out.decoded = json.decode('{"a": [1, 2]}')
  local slow = funcs.new():with_options({["activity.start_to_close_timeout"] = "5s"})
  out.slow = slow:call("app.api:status", "x")
  out.version = workflow.version("change", 1, 2)
  out.second_uuid = uuid.v4()
  out.fut_channel = funcs.async("app.api:status", "y"):channel():receive()
  return out
end
"""


def _refuse(op: Operation) -> Any:
    def refuse(*_: Any) -> Any:
        raise RuntimeError(f"{op.name} is not served in this test")

    return refuse


RESULTS: dict[str, Any] = {
    "app.api:charge": {"receipt": "r-1", "amounts": [1, 2.5]},
    "app.api:status": "settled",
}


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[LuaRun]:
    """Every Lua state built (the run it belongs to), first builds and rebuilds alike."""
    built: list[LuaRun] = []
    original = LuaRun._build_state

    def logged(self: LuaRun) -> None:
        built.append(self)
        original(self)

    monkeypatch.setattr(LuaRun, "_build_state", logged)
    return built


INBOX_N = "return function() return process.inbox():receive().n end"


async def _waiting_run(
    tmp_path: Path, builds: list[LuaRun], park_after: str, source: str = INBOX_N
) -> tuple[asyncio.Task[Any], FakeRuntime, LuaRun]:
    """Start a run of `source` that waits on its inbox; return it, its runtime, its LuaRun."""
    runtime = FakeRuntime()
    task = asyncio.create_task(
        run_workflow(tmp_path, source, runtime=runtime, limits=FakeLimits(park_after=park_after))
    )
    await asyncio.sleep(0.05)
    return task, runtime, builds[0]


def _runtime() -> FakeRuntime:
    runtime = FakeRuntime(RESULTS)
    runtime.deliver_later(0.05, "decision", {"approved": True}, "app:w/other")
    return runtime


async def _busy_run(tmp_path: Path, park_after: str) -> tuple[Any, FakeRuntime]:
    runtime = _runtime()
    result = await run_workflow(
        tmp_path,
        BUSY,
        [{"id": "A-1"}],
        runtime=runtime,
        limits=FakeLimits(park_after=park_after),
        modules=["funcs", "time", "uuid", "json", "workflow", "channel"],
    )
    return result, runtime


async def test_a_run_parked_at_every_wait_ends_as_one_never_parked(
    tmp_path: Path, builds: list[LuaRun]
) -> None:
    live, live_runtime = await _busy_run(tmp_path, "never")
    assert len(builds) == 1
    builds.clear()
    parked, parked_runtime = await _busy_run(tmp_path, "0s")
    # The same result, the same calls in the same order, the same clock.
    assert parked == live
    assert parked_runtime.calls == live_runtime.calls
    assert parked_runtime.clock == live_runtime.clock
    assert live["picked"] == {"from_coroutine": True, "list": [1, 2, 3]}
    assert live["msg"] == {"topic": "decision", "data": {"approved": True}}
    # One state per wait, each rebuilt from the journal: it really parked.
    assert len(builds) >= 10
    assert {id(run) for run in builds} == {id(builds[0])}


async def test_a_parked_waiting_run_holds_no_lua_state(
    tmp_path: Path, builds: list[LuaRun]
) -> None:
    source = """
    return function()
      local msg = process.inbox():receive()
      return {got = msg.n, seed = math.random(1, 1000)}
    end
    """
    task, runtime, run = await _waiting_run(tmp_path, builds, "0s", source)
    assert run.parked and run.lua is None
    assert run.journal is not None and run.journal.enabled
    runtime.deliver("m", {"n": 7})
    result = await task
    assert result["got"] == 7
    assert len(builds) == 2


async def test_the_dropped_state_is_freed(
    tmp_path: Path, builds: list[LuaRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatchers: list[weakref.ref[Any]] = []
    original = lua_state_module._dispatcher

    def logged(*args: Any) -> Any:
        made = original(*args)
        dispatchers.append(weakref.ref(made))
        return made

    monkeypatch.setattr(lua_state_module, "_dispatcher", logged)
    task, _, run = await _waiting_run(tmp_path, builds, "never")
    assert run.journal is None  # `never`: no journal is kept either
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    builds.clear()
    task, runtime, run = await _waiting_run(tmp_path, builds, "1h")
    assert not run.parked  # an hour has not passed
    assert run.park()
    gc.collect()
    # The state's one Python callable is gone with it: lupa closed the state.
    assert [alive() is None for alive in dispatchers] == [True, True]
    runtime.deliver("m", {"n": 3})
    assert await task == 3


def test_the_parking_thread_parks_runs_idle_long_enough_and_never_a_busy_one(
    tmp_path: Path,
) -> None:
    run = LuaRun(
        side="workflow",
        clock=FakeRuntime(),
        chunks={},
        limits=LuaLimits(),
        fallback=_refuse,
        park_after=30.0,
    )
    try:
        now = time.monotonic()
        sweep(now + 10)
        assert not run.parked
        with run._lock:  # its own thread is stepping it
            sweep(now + 31)
        assert not run.parked
        sweep(now + 31)
        assert run.parked and run.lua is None
    finally:
        run.close()


def test_a_function_run_never_parks() -> None:
    run = LuaRun(
        side="function",
        clock=FakeRuntime(),
        chunks={},
        limits=LuaLimits(),
        fallback=_refuse,
        park_after=0.0,
    )
    try:
        assert run.park_after is None and run.journal is None and not run.park()
    finally:
        run.close()


async def test_a_rebuild_that_diverges_fails_loudly(tmp_path: Path, builds: list[LuaRun]) -> None:
    task, runtime, run = await _waiting_run(tmp_path, builds, "0s")
    assert run.parked and run.journal is not None
    # The journal now says the first step asked for something else than it did.
    entries = run.journal.entries
    at = next(i for i, entry in enumerate(entries) if entry[0] == OUT)
    entries[at] = (OUT, "yield", "sleep")
    runtime.deliver("m", {"n": 1})
    with pytest.raises(RuntimeError, match="rebuilding a parked workflow's state diverged"):
        await task


def test_a_journal_never_keeps_a_lua_value_nor_grows_without_end() -> None:
    run = LuaRun(
        side="workflow", clock=FakeRuntime(), chunks={}, limits=LuaLimits(), fallback=_refuse
    )
    try:
        journal = RunJournal()
        journal.add_values(4, "x", (1, "two", None))
        assert journal.enabled and len(journal.entries) == 1
        journal.add_values(4, "x", (run.lua.table(),))
        assert not journal.enabled and journal.entries == []
        assert "table" in journal.stopped_because
    finally:
        run.close()
    long = RunJournal()
    for _ in range(10_001):
        long.add((3,))
    assert not long.enabled and "more than 10000" in long.stopped_because


async def test_a_run_whose_journal_stopped_keeps_its_state(
    tmp_path: Path, builds: list[LuaRun]
) -> None:
    task, runtime, run = await _waiting_run(tmp_path, builds, "1h")
    assert run.journal is not None
    run.journal.stop("test")
    assert not run.park() and not run.parked
    runtime.deliver("m", {"n": 5})
    assert await task == 5


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["soon", "-5s"])
def test_a_bad_park_after_names_file_line_entry_and_field(tmp_path: Path, value: str) -> None:
    (tmp_path / "wf.lua").write_text("return function() end\n", encoding="utf-8")
    path = tmp_path / "_index.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            version: "1.0"
            namespace: app
            entries:
              - name: wf
                kind: workflow.lua
                source: file://wf.lua
                limits: {{park_after: "{value}"}}
            """
        ),
        encoding="utf-8",
    )
    problems = validate_project(tmp_path)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.file == path and problem.line is not None and problem.line >= 4
    assert "limits.park_after" in problem.message
    assert value in problem.message and "or 'never'" in problem.message


def test_a_bad_park_after_environment_variable_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from lua_bridge import LuaEngine

    monkeypatch.setenv("WFLOW_LUA_PARK_AFTER", "later")
    with pytest.raises(WflowError, match="WFLOW_LUA_PARK_AFTER='later': expected a duration"):
        LuaEngine().default_limits  # noqa: B018
    monkeypatch.setenv("WFLOW_LUA_PARK_AFTER", "never")
    assert LuaEngine().default_limits.park_after is None
    monkeypatch.setenv("WFLOW_LUA_PARK_AFTER", "2s")
    assert LuaEngine().default_limits.park_after == 2.0


def test_wflow_validate_reports_a_bad_park_after_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "wf.lua").write_text("return function() end\n", encoding="utf-8")
    (tmp_path / "_index.yaml").write_text(
        'version: "1.0"\nnamespace: app\nentries:\n'
        "  - {name: wf, kind: workflow.lua, source: file://wf.lua}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("WFLOW_LUA_PARK_AFTER", "later")
    problems = validate_project(tmp_path, check_programs=True)
    assert [p.message for p in problems] == [
        "WFLOW_LUA_PARK_AFTER='later': expected a duration like '10s', '0s' or 'never' "
        '(invalid duration "later": expected a number and a unit (ns us ms s m h), '
        'e.g. "5s", "1h30m")'
    ]
