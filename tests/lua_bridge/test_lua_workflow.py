"""Lua workflows driven against an in-memory WorkflowRuntime: calls, errors, coroutines."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lua_bridge import LuaEngine, LuaScriptError
from tests.helpers.fakes import FIXTURES, lua_entry, run_workflow
from wflow.model import ErrorKind, WflowError
from wflow.testing import FAKE_START as START
from wflow.testing import FakeRuntime

# --- the seed's scripts, verbatim -----------------------------------------------------------


def _fixture_entry(tmp_path: Path, name: str) -> Any:
    path = tmp_path / f"{name}.lua"
    shutil.copy(FIXTURES / f"{name}.lua", path)
    return lua_entry(tmp_path, path.read_text(), name=name, modules=["funcs", "time"])


async def test_seed_order_script_charges_sleeps_and_refunds(tmp_path: Path) -> None:
    runtime = FakeRuntime(
        {
            "app.api:charge_card": {"id": "ch_1"},
            "app.api:check_status": "failed",
            "app.api:refund": True,
        }
    )
    program = LuaEngine().workflow_program(_fixture_entry(tmp_path, "order"), None)
    assert await program.run(runtime, [{"amount": 5}]) is None
    assert [(t, a) for t, a, _ in runtime.calls] == [
        ("app.api:charge_card", [None]),
        ("app.api:check_status", ["ch_1"]),
        ("app.api:refund", ["ch_1"]),
    ]
    assert runtime.sleeps == [timedelta(hours=24)]


async def test_seed_order_script_without_refund(tmp_path: Path) -> None:
    runtime = FakeRuntime({"app.api:charge_card": {"id": "ch_1"}, "app.api:check_status": "ok"})
    program = LuaEngine().workflow_program(_fixture_entry(tmp_path, "order"), None)
    await program.run(runtime, [])
    assert [t for t, _, _ in runtime.calls] == ["app.api:charge_card", "app.api:check_status"]


async def test_seed_saga_success(tmp_path: Path) -> None:
    runtime = FakeRuntime(
        {
            "app.inventory:reserve": {"id": "inv_1"},
            "app.payments:charge": {"id": "pay_1"},
            "app.shipping:create": {"id": "ship_1"},
        }
    )
    program = LuaEngine().workflow_program(_fixture_entry(tmp_path, "saga"), None)
    result = await program.run(runtime, [])
    assert result == {
        "inventory": {"id": "inv_1"},
        "payment": {"id": "pay_1"},
        "shipping": {"id": "ship_1"},
    }


async def test_seed_saga_compensates_and_fails_with_the_error(tmp_path: Path) -> None:
    runtime = FakeRuntime(
        {
            "app.inventory:reserve": {"id": "inv_1"},
            "app.payments:charge": {"id": "pay_1"},
            "app.shipping:create": {
                "error": {"kind": "UNAVAILABLE", "message": "no courier", "details": {"n": 1}}
            },
            "app.payments:refund": True,
            "app.inventory:release": True,
        }
    )
    program = LuaEngine().workflow_program(_fixture_entry(tmp_path, "saga"), None)
    with pytest.raises(WflowError) as info:
        await program.run(runtime, [])
    assert info.value.kind is ErrorKind.UNAVAILABLE
    assert info.value.message == "no courier"
    assert info.value.details == {"n": 1}
    assert [(t, a) for t, a, _ in runtime.calls][-2:] == [
        ("app.payments:refund", ["pay_1"]),
        ("app.inventory:release", ["inv_1"]),
    ]


# --- entry shapes -----------------------------------------------------------------------------


async def test_file_returning_a_function_gets_the_args(tmp_path: Path) -> None:
    src = "return function(a, b) return {sum = a.x + b, kind = math.type(b)} end"
    assert await run_workflow(tmp_path, src, [{"x": 1}, 2]) == {"sum": 3, "kind": "integer"}


async def test_file_returning_a_table_of_methods_uses_method(tmp_path: Path) -> None:
    src = "local M = {}\nfunction M.main() return 1 end\nfunction M.other(x) return x * 2 end\n"
    src += "return M"
    assert await run_workflow(tmp_path, src, [21], method="other") == 42
    assert await run_workflow(tmp_path, src, []) == 1


async def test_missing_method_is_a_script_error(tmp_path: Path) -> None:
    src = "return {helper = function() end}"
    with pytest.raises(LuaScriptError, match="method 'main' not found"):
        await run_workflow(tmp_path, src)


async def test_body_script_sees_args_as_varargs(tmp_path: Path) -> None:
    assert await run_workflow(tmp_path, "local a, b = ...\nreturn a .. b", ["x", "y"]) == "xy"


# --- errors -----------------------------------------------------------------------------------


async def test_nil_err_fails_the_workflow_with_kind_and_details(tmp_path: Path) -> None:
    src = """
    return function()
      return nil, errors.new{kind = errors.CONFLICT, message = "taken", details = {id = 7}}
    end"""
    with pytest.raises(WflowError) as info:
        await run_workflow(tmp_path, src)
    assert info.value.kind is ErrorKind.CONFLICT
    assert info.value.message == "taken"
    assert info.value.retryable is True
    assert info.value.details == {"id": 7}


async def test_nil_string_err_is_unknown(tmp_path: Path) -> None:
    with pytest.raises(WflowError) as info:
        await run_workflow(tmp_path, 'return nil, "bad"')
    assert info.value.kind is ErrorKind.UNKNOWN
    assert info.value.message == "bad"


async def test_unhandled_error_names_file_and_line(tmp_path: Path) -> None:
    src = "local x = 1\nlocal function f()\n  error('boom')\nend\nf()\n"
    with pytest.raises(LuaScriptError) as info:
        await run_workflow(tmp_path, src, name="order")
    assert "order.lua:3: boom" in str(info.value)
    assert "order.lua:5" in info.value.lua_traceback
    assert not isinstance(info.value, WflowError)


async def test_runtime_error_in_index_names_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(LuaScriptError, match=r"order\.lua:2: attempt to index a nil value"):
        await run_workflow(tmp_path, "local t\nreturn t.x", name="order")


async def test_syntax_error_when_loading(tmp_path: Path) -> None:
    entry = lua_entry(tmp_path, "local x = = 1", name="broken")
    with pytest.raises(LuaScriptError, match=r"broken\.lua:1:"):
        LuaEngine().workflow_program(entry, None)


async def test_error_object_methods_and_tostring(tmp_path: Path) -> None:
    src = """
    local e = errors.new("nope")
    local w = errors.wrap(errors.new{message = "x", kind = "not_found"}, "loading order")
    return {
      tostring(e), e:kind(), e:message(), e:retryable(),
      tostring(w), w:retryable(), errors.is(w, errors.NOT_FOUND), errors.is(w, "INVALID"),
      errors.wrap(nil, "ctx") == nil, errors.is_error(w), errors.is_error({}),
    }"""
    assert await run_workflow(tmp_path, src) == [
        "UNKNOWN: nope", "UNKNOWN", "nope", True,
        "NOT_FOUND: loading order: x", False, True, False,
        True, True, False,
    ]  # fmt: skip


async def test_error_objects_in_values_become_dicts(tmp_path: Path) -> None:
    src = "return {err = errors.new{message = 'm', kind = 'INVALID'}}"
    assert await run_workflow(tmp_path, src) == {
        "err": {"kind": "INVALID", "message": "m", "retryable": False}
    }


# --- funcs ------------------------------------------------------------------------------------


async def test_funcs_call_failure_is_nil_err(tmp_path: Path) -> None:
    runtime = FakeRuntime({"app:f": WflowError("down", "UNAVAILABLE", details=[1])})
    src = """
    local funcs = require("funcs")
    local v, err = funcs.call("app:f", 1)
    return {v == nil, err:kind(), err:message(), err:retryable(), err:details()[1], tostring(err)}
    """
    assert await run_workflow(tmp_path, src, runtime=runtime) == [
        True, "UNAVAILABLE", "down", True, 1, "UNAVAILABLE: down"
    ]  # fmt: skip


async def test_funcs_call_args_one_payload_each_nil_is_null(tmp_path: Path) -> None:
    runtime = FakeRuntime({"app:f": None})
    src = 'require("funcs").call("app:f", 1, nil, "x", {1, 2}, {a = 1.5}, {}, json.array())'
    src = 'local json = require("json")\n' + src
    await run_workflow(tmp_path, src, runtime=runtime)
    assert runtime.calls[0][1] == [1, None, "x", [1, 2], {"a": 1.5}, {}, []]


async def test_funcs_bad_argument_names_the_path(tmp_path: Path) -> None:
    src = 'require("funcs").call("app:f", 1, {items = {1, nil, 3}})'
    with pytest.raises(LuaScriptError, match=r"wf\.lua:1: funcs\.call: args\[2\]\.items: sparse"):
        await run_workflow(tmp_path, src)


async def test_executor_options_and_context(tmp_path: Path) -> None:
    runtime = FakeRuntime({"app:f": 1})
    src = """
    local funcs = require("funcs")
    local base = funcs.new()
    local ex = base:with_options{
      ["activity.start_to_close_timeout"] = "5s",
      ["activity.retry_policy"] = {maximum_attempts = 3, initial_interval = 250},
    }:with_context{tenant = "t1"}
    ex:call("app:f")
    base:call("app:f")
    local ok = pcall(function() ex.x = 1 end)
    return ok
    """
    assert await run_workflow(tmp_path, src, runtime=runtime) is False
    options = runtime.calls[0][2]
    assert options.start_to_close_timeout == timedelta(seconds=5)
    assert options.retry_policy is not None
    assert options.retry_policy.maximum_attempts == 3
    assert options.retry_policy.initial_interval == timedelta(milliseconds=250)
    assert dict(options.context) == {"tenant": "t1"}
    assert runtime.calls[1][2].start_to_close_timeout is None


async def test_with_options_rejects_unknown_keys(tmp_path: Path) -> None:
    src = 'require("funcs").new():with_options{["activity.bogus"] = 1}'
    with pytest.raises(LuaScriptError, match=r"unknown call option 'activity\.bogus'"):
        await run_workflow(tmp_path, src)


async def test_funcs_async_futures(tmp_path: Path) -> None:
    runtime = FakeRuntime(
        {"app:slow": "s", "app:fast": "f", "app:bad": WflowError("no", "INVALID")},
        delays={"app:slow": 0.02},
    )
    src = """
    local funcs = require("funcs")
    local slow = funcs.async("app:slow")
    local fast = funcs.async("app:fast")
    local bad = funcs.async("app:bad")
    local first = fast:result()
    local done_early = slow:is_complete()
    local v, err = bad:result()
    local s = slow:result()
    return {first, done_early, v == nil, err:kind(), s, slow:is_complete(), slow:result()}
    """
    assert await run_workflow(tmp_path, src, runtime=runtime) == [
        "f", False, True, "INVALID", "s", True, "s"
    ]  # fmt: skip


async def test_future_channel_with_select_and_timeout(tmp_path: Path) -> None:
    runtime = FakeRuntime({"app:slow": "late", "app:quick": "q"}, delays={"app:slow": 0.05})
    src = """
    local funcs, time = require("funcs"), require("time")
    local slow = funcs.async("app:slow")
    local r = channel.select{slow:channel():case_receive(), time.after("1s"):case_receive()}
    local timed_out = r.channel ~= slow:channel()
    slow:cancel()
    local quick = funcs.async("app:quick")
    local r2 = channel.select{quick:channel():case_receive(), time.after("1h"):case_receive()}
    return {timed_out, r2.value, r2.channel == quick:channel(), r2.ok}
    """
    assert await run_workflow(tmp_path, src, runtime=runtime) == [True, "q", True, True]


# --- time, uuid, workflow, json -----------------------------------------------------------


async def test_time_module(tmp_path: Path) -> None:
    runtime = FakeRuntime()
    src = """
    local time = require("time")
    local t0 = time.now()
    time.sleep(1500)
    time.sleep(time.MINUTE)
    local t1 = time.now()
    local d, err = time.parse_duration("1h30m")
    local bad, err2 = time.parse_duration("soon")
    return {
      t0:unix(), t0:format_rfc3339(), t0:format_rfc3339_nano(), t1:sub(t0),
      t0:before(t1), t0:after(t1), t0:add("1s"):unix() - t0:unix(), d, err == nil,
      bad == nil, err2:kind(), time.SECOND, time.HOUR, t0:unix_nano() % 1000000000,
      t0:format("%Y-%m-%d %H:%M:%S"), tostring(t0) == t0:format_rfc3339_nano(),
    }
    """
    result = await run_workflow(tmp_path, src, runtime=runtime)
    assert result == [
        int(START.timestamp()), "2024-05-06T07:08:09Z", "2024-05-06T07:08:09.123456Z",
        61500, True, False, 1, 5_400_000, True,
        True, "INVALID", 1000, 3_600_000, 123_456_000,
        "2024-05-06 07:08:09", True,
    ]  # fmt: skip
    assert runtime.sleeps == [timedelta(milliseconds=1500), timedelta(minutes=1)]


async def test_time_sleep_rejects_bad_durations(tmp_path: Path) -> None:
    with pytest.raises(LuaScriptError, match=r"wf\.lua:1: time\.sleep: invalid duration"):
        await run_workflow(tmp_path, 'require("time").sleep("forever")')


async def test_timer_stop_and_reset(tmp_path: Path) -> None:
    runtime = FakeRuntime()
    src = """
    local time = require("time")
    local t = time.timer("1h")
    local stopped = t:stop()
    local again = t:stop()
    t:reset(10)
    local v, ok = t:channel():receive()
    return {stopped, again, ok, getmetatable(v) ~= nil}
    """
    assert await run_workflow(tmp_path, src, runtime=runtime) == [True, False, True, True]


async def test_uuid_module(tmp_path: Path) -> None:
    src = """
    local uuid = require("uuid")
    return {uuid.v4(), uuid.v7(), uuid.v5(uuid.NAMESPACE_DNS, "python.org"),
            select(2, uuid.v5("nope", "x")):kind()}
    """
    result = await run_workflow(tmp_path, src)
    assert result[0] == "00000000-0000-402a-8000-000000000001"
    assert result[1] == "00000000-0000-702a-8000-000000000002"
    assert result[2] == "886313e1-3b8a-5372-9b90-0c9aee199e5d"
    assert result[3] == "INVALID"


async def test_workflow_info(tmp_path: Path) -> None:
    info = await run_workflow(tmp_path, 'return require("workflow").info()')
    assert info["workflow_id"] == "wf-1" and info["task_queue"] == "orders"
    assert info["attempt"] == 1


async def test_json_module(tmp_path: Path) -> None:
    src = """
    local json = require("json")
    local v = json.decode('{"a": [1, 2.5, "x", {}], "b": {}, "c": []}')
    local bad, err = json.decode("{nope")
    local enc = json.encode({z = 1, a = {true, false}, m = json.object()})
    local no, err2 = json.encode({1, 2, x = 3})
    return {v, bad == nil, err:kind(), enc, no == nil, err2:message(), json.encode(v.c)}
    """
    result = await run_workflow(tmp_path, src)
    assert result[0] == {"a": [1, 2.5, "x", {}], "b": {}, "c": []}
    assert result[1:4] == [True, "INVALID", '{"a":[true,false],"m":{},"z":1}']
    assert result[4] is True
    assert "value: mixed table" in result[5]
    assert result[6] == "[]"


# --- coroutines and channels ------------------------------------------------------------------


async def test_user_coroutines_pass_driver_yields_through(tmp_path: Path) -> None:
    runtime = FakeRuntime({"app:f": lambda x: x * 10})
    src = """
    local funcs = require("funcs")
    local gen = coroutine.wrap(function()
      for i = 1, 3 do
        local v = funcs.call("app:f", i)     -- a driver request inside a user coroutine
        coroutine.yield(v)
      end
    end)
    local co = coroutine.create(function(a)
      local b = coroutine.yield(a + 1)
      require("time").sleep(5)
      return b * 2
    end)
    local _, x = coroutine.resume(co, 1)
    local _, y = coroutine.resume(co, 20)
    local ok, e = coroutine.resume(coroutine.create(function() error("inner", 0) end))
    return {gen(), gen(), gen(), x, y, coroutine.status(co), ok, e, coroutine.isyieldable()}
    """
    result = await run_workflow(tmp_path, src, runtime=runtime)
    assert result == [10, 20, 30, 2, 40, "dead", False, "inner", False]
    assert [a for _, a, _ in runtime.calls] == [[1], [2], [3]]


async def test_yield_in_main_code_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LuaScriptError, match="not inside a coroutine"):
        await run_workflow(tmp_path, "coroutine.yield(1)")


async def test_pcall_around_intercepted_calls(tmp_path: Path) -> None:
    runtime = FakeRuntime({"app:f": 5})
    src = """
    local funcs = require("funcs")
    local ok, v = pcall(funcs.call, "app:f")
    local ok2, e = pcall(function() funcs.call("app:f"); error({code = 1}) end)
    return {ok, v, ok2, e.code}
    """
    assert await run_workflow(tmp_path, src, runtime=runtime) == [True, 5, False, 1]


async def test_channels_and_spawn(tmp_path: Path) -> None:
    runtime = FakeRuntime({"app:f": lambda x: x + 1})
    src = """
    local funcs, time = require("funcs"), require("time")
    local results = channel.new(0)
    for i = 1, 3 do
      coroutine.spawn(function(n)
        time.sleep(n * time.HOUR)
        results:send({n = n, v = funcs.call("app:f", n)})
      end, 4 - i)
    end
    local got = {}
    for _ = 1, 3 do
      local msg, ok = results:receive()
      got[#got + 1] = msg.n * 100 + msg.v
    end
    local buffered = channel.new(2)
    buffered:send("a")
    buffered:send(nil)
    buffered:close()
    local a = {buffered:receive()}
    local b = {buffered:receive()}
    local c = {buffered:receive()}
    local r = channel.select{buffered:case_receive(), default = true}
    return {got, a, b[2], c[2], r.ok}
    """
    result = await run_workflow(tmp_path, src, runtime=runtime)
    assert result == [[102, 203, 304], ["a", True], True, False, False]


async def test_spawned_coroutine_error_fails_the_run(tmp_path: Path) -> None:
    src = """
    coroutine.spawn(function() error("in spawned") end)
    require("time").sleep("1h")
    return 1
    """
    with pytest.raises(LuaScriptError, match=r"wf\.lua:2: in spawned"):
        await run_workflow(tmp_path, src)


async def test_imports_load_library_once(tmp_path: Path) -> None:
    lib_path = tmp_path / "util.lua"
    lib_path.write_text(
        "local time = require('time')\nlocal M = {loads = 0}\nM.loads = M.loads + 1\n"
        "function M.double(x) return x * 2 end\nreturn M\n"
    )
    from tests.helpers.fakes import FakeEntry, FakeRegistry

    lib = FakeEntry(id="app:util", path=lib_path, kind="library.lua", modules=["time"])
    entry = lua_entry(
        tmp_path,
        "local u = require('util')\nlocal u2 = require('util')\n"
        "return {u.double(21), rawequal(u, u2), u.loads}",
        imports={"util": "util"},
    )
    program = LuaEngine().workflow_program(entry, FakeRegistry(entry, lib))
    assert await program.run(FakeRuntime(), []) == [42, True, 1]
    bad = dataclasses.replace(lib, modules=[])
    program = LuaEngine().workflow_program(entry, FakeRegistry(entry, bad))
    with pytest.raises(LuaScriptError, match=r"util\.lua:1: require: module 'time' is not in"):
        await program.run(FakeRuntime(), [])
