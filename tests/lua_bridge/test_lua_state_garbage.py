"""A run that waits holds no garbage from its start, and the collection keeps runs alike.

Building a state and starting the entry leave garbage (the core files' main chunks,
temporaries); Lua frees it only as the state allocates more, and a cached workflow that waits
allocates nothing. The driver collects it once, when the run first waits on its runtime: at
the same point of every run, so what user code can see of memory (`collectgarbage("count")`)
is the same in a replay.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import lupa.lua54 as lupa54
import pytest

import lua_bridge._lua_run as lua_run_module
from lua_bridge import LuaEngine, LuaResourceError
from lua_bridge._workflow_driver import WorkflowDriver
from tests.helpers.fakes import FakeLimits, lua_entry, run_workflow
from wflow.testing import FakeRuntime


class _Waiting(FakeRuntime):
    """A runtime whose sleeps never end (a cached workflow waiting on a timer)."""

    async def sleep(self, duration: timedelta) -> None:
        self.sleeps.append(duration)
        await asyncio.get_running_loop().create_future()


async def test_a_waiting_run_holds_no_garbage_from_its_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WFLOW_LUA_PARK_AFTER", "never")  # one state's garbage
    source = """
    local time = require("time")
    return function(order)
      time.sleep("1h")
      return order
    end
    """
    program = LuaEngine().workflow_program(lua_entry(tmp_path, source))
    runtime = _Waiting()
    driver = WorkflowDriver(runtime, program._chunks, program.limits)
    task = asyncio.ensure_future(driver.run(program.entry_id, program.method, [{"id": 1}]))
    while not runtime.sleeps:
        await asyncio.sleep(0)
    lua = driver.run_state.lua
    held = lua.get_memory_used()
    lua.gccollect()
    # Only what the last step allocated after the collection is garbage (its report, the
    # request's arguments): under 1 KiB, where it was ~10-13 KiB.
    assert held - lua.get_memory_used() < 1024
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_what_user_code_sees_of_memory_is_the_same_in_every_run(tmp_path: Path) -> None:
    source = """
    local funcs = require("funcs")
    return function()
      local counts = { collectgarbage("count") }
      for i = 1, 3 do
        local junk = {}
        for k = 1, 200 do junk[k] = { k } end
        funcs.call("app.api:step", i)
        counts[#counts + 1] = collectgarbage("count")
      end
      return counts
    end
    """
    results = [
        await run_workflow(tmp_path, source, runtime=FakeRuntime({"app.api:step": True}))
        for _ in range(3)
    ]
    assert len(results[0]) == 4
    assert results[0] == results[1] == results[2]


async def test_the_memory_limit_reached_while_a_bridge_file_loads_is_the_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The host loads bridge files into the state (`load_module`); running out of the state's
    # memory there (lupa raises in the host, here made to at once) ends the run as any
    # allocation over the limit does.
    def out_of_memory(name: str) -> bytes:
        raise lupa54.LuaMemoryError("not enough memory")

    monkeypatch.setattr(lua_run_module, "module_bytecode", out_of_memory)
    source = """
    local time = require("time")
    return function() return time.now() end
    """
    with pytest.raises(LuaResourceError) as info:
        await run_workflow(tmp_path, source, limits=FakeLimits(max_memory=2 * 1024 * 1024))
    assert info.value.resource == "memory"
