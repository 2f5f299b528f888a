"""An unhandled nil error names the last call that returned `nil, err` (issue 8).

The seed's style ignores `err`; the failure then shows as `attempt to index a nil value`.
The bridge appends which call failed, where, and why (see lua_bridge's decisions).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lua_bridge import LuaEngine, LuaScriptError
from tests.helpers.fakes import lua_entry, run_workflow
from wflow.model import ErrorKind, FunctionContext, WflowError
from wflow.testing import FakeProcessClient, FakeRuntime


async def failure(tmp_path: Path, source: str, runtime: FakeRuntime | None = None) -> str:
    with pytest.raises(LuaScriptError) as info:
        await run_workflow(
            tmp_path, source, runtime=runtime or FakeRuntime(), name="order",
            modules=["funcs", "time", "workflow"],
        )  # fmt: skip
    return info.value.message


async def test_ignored_err_of_funcs_call_is_named_with_its_line(tmp_path: Path) -> None:
    src = (
        'local funcs = require("funcs")\n'
        'local time = require("time")\n'
        'local result = funcs.call("app.api:chrage", {})\n'
        'time.sleep("1h")\n'
        "return result.id\n"
    )
    assert await failure(tmp_path, src) == (
        "order.lua:5: attempt to index a nil value (local 'result'); the last call, "
        'funcs.call("app.api:chrage") at order.lua:3, failed: NOT_FOUND: no such function '
        "app.api:chrage"
    )


async def test_later_successful_calls_are_counted_not_forgotten(tmp_path: Path) -> None:
    src = (
        'local funcs = require("funcs")\n'
        'local r = funcs.call("app:missing")\n'
        'funcs.call("app:ok")\n'
        'funcs.call("app:ok")\n'
        "return r.id\n"
    )
    message = await failure(tmp_path, src, FakeRuntime({"app:ok": 1}))
    assert message.endswith(
        '; the last call that failed, funcs.call("app:missing") at order.lua:2 '
        "(2 calls succeeded since), failed: NOT_FOUND: no such function app:missing"
    )


async def test_other_errors_get_no_note(tmp_path: Path) -> None:
    src = 'local funcs = require("funcs")\nfuncs.call("app:missing")\nerror("boom")\n'
    assert await failure(tmp_path, src) == "order.lua:3: boom"


async def test_no_failed_call_no_note(tmp_path: Path) -> None:
    src = 'local funcs = require("funcs")\nlocal r = funcs.call("app:ok")\nreturn r.id\n'
    message = await failure(tmp_path, src, FakeRuntime({"app:ok": None}))
    assert message == "order.lua:3: attempt to index a nil value (local 'r')"


async def test_failed_assert_gets_the_note(tmp_path: Path) -> None:
    src = 'local funcs = require("funcs")\nlocal r = funcs.call("app:missing")\nassert(r)\n'
    message = await failure(tmp_path, src)
    assert message.startswith("order.lua:3: assertion failed!; the last call, ")
    assert 'funcs.call("app:missing") at order.lua:2' in message


async def test_future_result(tmp_path: Path) -> None:
    runtime = FakeRuntime({"app:f": WflowError("card declined", ErrorKind.INVALID)})
    src = (
        'local funcs = require("funcs")\n'
        'local f = funcs.async("app:f")\n'
        "local v = f:result()\n"
        "return v.id\n"
    )
    assert (await failure(tmp_path, src, runtime)).endswith(
        '; the last call, funcs.async("app:f"):result() at order.lua:3, failed: '
        "INVALID: card declined"
    )


async def test_executor_call(tmp_path: Path) -> None:
    src = (
        'local funcs = require("funcs")\n'
        'local ex = funcs.new():with_options{["activity.start_to_close_timeout"] = "1m"}\n'
        'local v = ex:call("app:gone")\n'
        "return v.id\n"
    )
    assert 'executor:call("app:gone") at order.lua:3, failed: NOT_FOUND' in await failure(
        tmp_path, src
    )


async def test_process_exec_and_spawn(tmp_path: Path) -> None:
    src = 'local v = process.exec("app:child", "app:worker")\nreturn v.x\n'
    assert (await failure(tmp_path, src)).endswith(
        '; the last call, process.exec("app:child", "app:worker") at order.lua:1, failed: '
        "NOT_FOUND: no workflow entry app:child"
    )
    src = 'local pid = process.spawn("app:child")\nreturn "x" .. pid\n'
    message = await failure(tmp_path, src)
    assert message.startswith("order.lua:2: attempt to concatenate a nil value (local 'pid')")
    assert 'process.spawn("app:child") at order.lua:1, failed: NOT_FOUND' in message


async def test_process_send(tmp_path: Path) -> None:
    src = 'local ok = process.send("app:w/nobody", "update", 1)\nassert(ok)\n'
    assert 'process.send("app:w/nobody", "update") at order.lua:1, failed: NOT_FOUND' in (
        await failure(tmp_path, src)
    )


async def test_workflow_exec(tmp_path: Path) -> None:
    src = 'local workflow = require("workflow")\nlocal v = workflow.exec("app:x")\nreturn v.y\n'
    assert 'workflow.exec("app:x") at order.lua:2, failed: NOT_FOUND' in await failure(
        tmp_path, src
    )


async def test_error_in_a_user_coroutine_carries_its_note_out(tmp_path: Path) -> None:
    src = (
        'local funcs = require("funcs")\n'
        "local step = coroutine.wrap(function()\n"
        '  local r = funcs.call("app:missing")\n'
        "  return r.id\n"
        "end)\n"
        "return step()\n"
    )
    assert 'funcs.call("app:missing") at order.lua:3, failed: NOT_FOUND' in await failure(
        tmp_path, src
    )


async def test_position_is_the_innermost_line_of_user_code(tmp_path: Path) -> None:
    src = (
        'local funcs = require("funcs")\n'
        "local function charge(order)\n"
        '  local r = funcs.call("app:charge", order)\n'
        "  return r\n"
        "end\n"
        "local r = charge({})\n"
        "return r.id\n"
    )
    assert 'funcs.call("app:charge") at order.lua:3, failed' in await failure(tmp_path, src)
    # A tail call leaves no frame of its own: Lua's stack names the caller's line.
    tail = src.replace(
        'local r = funcs.call("app:charge", order)\n  return r',
        "return funcs.call('app:charge', order)",
    )
    assert 'funcs.call("app:charge") at order.lua:5, failed' in await failure(tmp_path, tail)


def test_function_lua_process_call(tmp_path: Path) -> None:
    entry = lua_entry(
        tmp_path,
        'local v = process.exec("app:gone")\nreturn v.total\n',
        name="fn",
        kind="function.lua",
        modules=[],
    )
    context = FunctionContext(entry_id="app:fn", processes=FakeProcessClient({}))
    with pytest.raises(WflowError) as info:
        LuaEngine().function_program(entry, None).call([], context)
    assert info.value.kind == ErrorKind.INTERNAL
    assert info.value.message == (
        "fn.lua:2: attempt to index a nil value (local 'v'); the last call, "
        'process.exec("app:gone") at fn.lua:1, failed: NOT_FOUND: no workflow entry app:gone'
    )
