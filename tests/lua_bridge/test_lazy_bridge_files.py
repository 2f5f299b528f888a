"""The error, time and message object files load on first use, and behave as if always loaded.

`lua/sandbox.lua` lists the `B` fields of each lazily loaded core file
(`lua_bridge._lua_state.LAZY_CORE_FILES`); reading one of them runs the file, in the modules'
environment (so user changes to `string` do not reach it). A run that never makes such an
object never loads the file: that is what keeps a cached workflow's Lua state small.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from importlib import resources
from pathlib import Path

import pytest

import lua_bridge._lua_run as lua_run_module
from lua_bridge._limits import LuaLimits
from lua_bridge._lua_run import LocalClock, LuaRun
from lua_bridge._lua_state import LAZY_CORE_FILES
from tests.helpers.fakes import run_workflow
from wflow.testing import FakeRuntime


def _declared_fields() -> dict[str, set[str]]:
    """The field lists in lua/sandbox.lua, by file."""
    text = (resources.files("lua_bridge") / "lua" / "sandbox.lua").read_text(encoding="utf-8")
    block = text[text.index("for file, fields in rawnext, {") : text.index("} do\n  for _, field")]
    return {
        file: set(re.findall(r'"(\w+)"', fields))
        for file, fields in re.findall(r"(\w+) = \{([^}]*)\}", block)
    }


def _loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    # What one state loads: a parked run's rebuilt state loads its files again.
    monkeypatch.setenv("WFLOW_LUA_PARK_AFTER", "never")
    loaded: list[str] = []
    original = lua_run_module.module_bytecode

    def logged(name: str) -> bytes:
        loaded.append(name)
        return original(name)

    monkeypatch.setattr(lua_run_module, "module_bytecode", logged)
    return loaded


def test_every_lazy_file_defines_exactly_its_listed_fields(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    declared = _declared_fields()
    assert set(declared) == set(LAZY_CORE_FILES)
    loaded = _loads(monkeypatch)
    for file, fields in declared.items():
        run = LuaRun(
            side="workflow",
            clock=LocalClock(),
            chunks={},
            limits=LuaLimits(),
            fallback=lambda op: lambda *args: None,
        )
        try:
            before = set(run.b.keys())
            loaded.clear()
            assert run.b[sorted(fields)[0]] is not None
            added = set(run.b.keys()) - before
        finally:
            run.close()
        # The file ran (and any lazy file it needs at load), and added exactly what is listed.
        assert loaded[0] == file
        assert added == set().union(*(declared[name] for name in loaded))


async def test_a_run_without_errors_times_or_messages_loads_none_of_their_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = _loads(monkeypatch)
    source = """
    local funcs = require("funcs")
    return function(order)
      local a = funcs.call("app.api:step", order)
      return {a = a, list = {1, 2}, text = string.format("%d", 3)}
    end
    """
    runtime = FakeRuntime({"app.api:step": {"ok": True}})
    result = await run_workflow(tmp_path, source, [1], runtime=runtime)
    assert result == {"a": {"ok": True}, "list": [1, 2], "text": "3"}
    # The encoder loads with the first value that leaves Lua (the call's arguments).
    assert loaded == ["funcs", "codec"]


async def test_a_sleeping_run_loads_locations_not_durations_or_time_objects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = _loads(monkeypatch)
    source = """
    local time = require("time")
    return function()
      time.sleep("1h")
      return tostring(time.utc)
    end
    """
    runtime = FakeRuntime()
    assert await run_workflow(tmp_path, source, runtime=runtime) == "UTC"
    assert len(runtime.sleeps) == 1
    assert sorted(loaded) == ["codec", "location_object", "time"]


async def test_objects_made_after_lazy_loading_behave_as_before(tmp_path: Path) -> None:
    # Each kind of object, made first from Lua, then from the host, then encoded.
    source = """
    local time = require("time")
    return function()
      local err = errors.new("bad order", "invalid")
      local t = time.unix(86400, 0)
      local d = time.parse_duration("1m")
      return {kind = err:kind(), retryable = err:retryable(), at = t, d = d, err = err,
        year = t:year(), utc = tostring(time.utc)}
    end
    """
    result = await run_workflow(tmp_path, source)
    assert result == {
        "kind": "INVALID",
        "retryable": False,
        "at": "1970-01-02T00:00:00Z",
        "d": 60000,
        "err": {"kind": "INVALID", "message": "bad order", "retryable": False},
        "year": 1970,
        "utc": "UTC",
    }


async def test_a_lazily_loaded_file_does_not_see_user_changes_to_string(tmp_path: Path) -> None:
    # error_object.lua upper-cases kinds with string.upper: loaded after the user replaced
    # it, the bridge still uses the original (it runs in the modules' own environment).
    source = """
    string.upper = function() return "HIJACKED" end
    string.format = function() return "HIJACKED" end
    return function()
      local err = errors.new("bad", "invalid")
      return {kind = err:kind(), text = tostring(err)}
    end
    """
    result = await run_workflow(tmp_path, source)
    assert result["kind"] == "INVALID"
    assert "HIJACKED" not in result["text"]


async def test_a_host_made_error_loads_error_objects(tmp_path: Path) -> None:
    # The first error object of a run is made by Python (a failed call's `nil, err`).
    source = """
    local funcs = require("funcs")
    return function()
      local v, err = funcs.call("app.api:missing")
      return {v = v, kind = err:kind(), is_error = errors.is(err, "NOT_FOUND")}
    end
    """
    assert await run_workflow(tmp_path, source) == {"kind": "NOT_FOUND", "is_error": True}


async def test_pattern_checks_load_on_the_first_pattern_call_of_user_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bridge's own patterns (encoding the result's strings) do not load them.
    loaded = _loads(monkeypatch)
    source = """
    return function(text)
      local a = string.find(text, "b+")
      local b = text:match("(c)")
      return {a = a, b = b, text = text}
    end
    """
    assert await run_workflow(tmp_path, source, ["abbc"]) == {"a": 2, "b": "c", "text": "abbc"}
    assert loaded == ["pattern_budget", "codec"]
    loaded.clear()
    assert await run_workflow(tmp_path, "return function(t) return {t = t} end", ["a\\n"]) == {
        "t": "a\\n"
    }
    assert loaded == ["codec"]


async def test_a_run_waiting_before_any_value_left_lua_has_no_encoder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cached workflow that waits (timer, message) before it calls anything holds no codec.
    loaded = _loads(monkeypatch)
    source = """
    local time = require("time")
    return function(order)
      time.sleep("1h")
      return order
    end
    """
    runtime = FakeRuntime()
    started = asyncio.get_running_loop().create_future()
    stop = asyncio.get_running_loop().create_future()

    async def wait_forever(duration: timedelta) -> None:
        started.set_result(sorted(loaded))
        await stop

    monkeypatch.setattr(runtime, "sleep", wait_forever)
    run = asyncio.ensure_future(run_workflow(tmp_path, source, [{"id": 1}], runtime=runtime))
    assert await started == ["location_object", "time"]
    stop.set_result(None)
    assert await run == {"id": 1}
    assert "codec" in loaded
