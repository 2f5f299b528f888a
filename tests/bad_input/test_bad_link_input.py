"""Bad input to listen/unlisten, monitors, links and process options: each kind is refused with
a message naming the call (a Lua error at the caller's line, or `nil, err` where Wippy's API
returns `ok, err`), in Lua and Python alike, never ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lua_bridge import LuaScriptError
from tests.helpers.fakes import run_workflow
from wflow import process
from wflow.model import WflowError, bind_runtime
from wflow.testing import FakeRuntime


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('process.listen("t", "yes")', "options must be a table like {message = true}, got string"),
        ('process.listen("t", {messages = true})', "process.listen: unknown option 'messages'"),
        ('process.listen("t", {message = 1})', "options.message must be a boolean, got number"),
        ('process.unlisten(process.inbox)', "by process.listen, got function"),
        ('process.unlisten(channel.new(1))', "by process.listen, got table"),
        ("process.set_options(true)", "{trap_links = true}, got boolean"),
        ("process.monitor(nil)", "process.monitor: pid must be a PID string"),
        ("process.link(42)", "process.link: pid must be a PID string"),
        ('process.spawn_linked("", nil)', "spawn_linked: entry must be a"),
    ],
)  # fmt: skip
async def test_lua_raises_naming_the_call_and_line(tmp_path: Path, call: str, message: str) -> None:
    with pytest.raises(LuaScriptError) as info:
        await run_workflow(tmp_path, f"{call}\nreturn 1")
    assert message in str(info.value)
    assert ":1:" in str(info.value)  # the caller's line


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("process.set_options({bogus = true})", "option 'bogus' (known: trap_links, upgradable)"),
        ("process.set_options({trap_links = 1})", "trap_links must be a boolean, got int"),
        ("process.set_options({upgradable = true})", "upgradable = true is not supported"),
        ('process.monitor("not a pid")', "invalid PID 'not a pid'"),
        ('process.link("nope")', "invalid PID 'nope'"),
    ],
)  # fmt: skip
async def test_lua_returns_nil_and_invalid(tmp_path: Path, call: str, message: str) -> None:
    back = "return {ok = ok == nil, kind = err:kind(), msg = err:message()}"
    src = f"local ok, err = {call}\n{back}"
    result = await run_workflow(tmp_path, src)
    assert (result["ok"], result["kind"]) == (True, "INVALID")
    assert message in result["msg"]


async def test_lua_listening_again_the_other_way_is_refused_until_unlisten(tmp_path: Path) -> None:
    src = """
    local ch = process.listen("t")
    local ok, err = pcall(process.listen, "t", {message = true})
    local was = process.unlisten(ch)
    local again = process.listen("t", {message = true})
    return {ok, tostring(err), was, process.unlisten(ch), again ~= ch}
    """
    result = await run_workflow(tmp_path, src)
    assert result[0] is False
    assert "process.listen: INVALID: topic 't' is already listened to for payloads" in result[1]
    assert result[2:] == [True, False, True]


async def test_python_refuses_the_same() -> None:
    runtime = FakeRuntime()
    bind_runtime(runtime)
    try:
        with pytest.raises(WflowError, match="unknown option 'bogus'"):
            process.set_options(bogus=True)
        with pytest.raises(WflowError, match="trap_links must be a boolean"):
            process.set_options(trap_links="yes")
        with pytest.raises(WflowError, match="invalid PID 'nope'"):
            await process.link("nope")
        listener = process.listen("t")
        with pytest.raises(WflowError, match="already listened to for payloads"):
            process.listen("t", message=True)
        assert process.unlisten(listener) is True
        assert process.unlisten(listener) is False
        got: Any = process.get_options()
        assert got == {"trap_links": False, "upgradable": False}
    finally:
        bind_runtime(None)
