# ruff: noqa: E501  (tables of one escape attempt and its message per line)
"""Escape attempts from Lua workflow AND function code, each blocked with a clear message
(the issue's "Sandbox security" list). Functions run under the same sandbox and the same
limits (memory, instructions, C stack) as workflows; only the words "workflows"/"functions"
and the error's form differ: a workflow run raises, a function call fails INTERNAL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from lua_bridge import LuaEngine, LuaResourceError, LuaScriptError
from tests.helpers.fakes import FakeLimits, lua_entry, run_workflow
from wflow.model import ErrorKind, FunctionContext, WflowError

MODULES = ["time", "json", "funcs"]
LIMITS = FakeLimits(max_memory="32MB", max_instructions=5_000_000)


async def run_as(where: str, tmp_path: Path, code: str, limits: Any = LIMITS) -> Any:
    """Run `code` as the main chunk of a workflow (`wf.lua`) or a function (`fn.lua`)."""
    if where == "workflow":
        return await run_workflow(tmp_path, code, modules=MODULES, limits=limits)
    entry = lua_entry(
        tmp_path, code, name="fn", kind="function.lua", modules=MODULES, limits=limits
    )
    program = LuaEngine().function_program(entry, None)  # type: ignore[arg-type]
    context = FunctionContext(entry_id="app:fn")
    return await asyncio.to_thread(program.call, [], context)


async def refusal(where: str, tmp_path: Path, code: str, limits: Any = LIMITS) -> str:
    """The message `code` fails with; a function's failure is INTERNAL."""
    if where == "workflow":
        with pytest.raises((LuaScriptError, LuaResourceError)) as caught:
            await run_as(where, tmp_path, code, limits)
        return str(caught.value)
    with pytest.raises(WflowError) as info:
        await run_as(where, tmp_path, code, limits)
    assert info.value.kind is ErrorKind.INTERNAL
    return info.value.message


def expected(template: str, where: str) -> str:
    return template.format(file="wf.lua" if where == "workflow" else "fn.lua", where=where + "s")


BOTH = pytest.mark.parametrize("where", ["workflow", "function"])

BLOCKED = [
    ("io.open('/etc/passwd')", "{file}:1: io.open is not available in {where}"),
    ("io.popen('id')", "{file}:1: io.popen is not available in {where}"),
    ("io.lines('/etc/passwd')", "{file}:1: io.lines is not available in {where}"),
    ("os.execute('id')", "{file}:1: os.execute is not available in {where}"),
    ("os.getenv('HOME')", "{file}:1: os.getenv is not available in {where}"),
    ("os.remove('/tmp/x')", "{file}:1: os.remove is not available in {where}"),
    ("require('os').execute('id')", "{file}:1: os.execute is not available in {where}"),
    ("debug.getinfo(1)", "{file}:1: debug.getinfo is not available in {where}"),
    ("debug.sethook()", "{file}:1: debug.sethook is not available in {where}"),
    ("debug.getregistry()", "{file}:1: debug.getregistry is not available in {where}"),
    ("debug.getupvalue(print, 1)", "{file}:1: debug.getupvalue is not available in {where}"),
    ("string.dump(print)", "{file}:1: attempt to call a nil value (field 'dump')"),
    ("load('return 1', 'x', 'b')", "{file}:1: load: binary chunks are not available in {where}"),
    ("package.loadlib('libc.so.6', 'system')", "{file}:1: package.loadlib is not available in {where}"),
    ("require('io')", "{file}:1: require: module 'io' is not available in {where}"),
    ("require('debug')", "{file}:1: require: module 'debug' is not available in {where}"),
    ("require('socket')", "{file}:1: require: module 'socket' is not available in {where}"),
    ("require('nosuch')", "{file}:1: require: unknown module 'nosuch' (allowed here: funcs, json, time)"),
    ("dofile('/etc/passwd')", "{file}:1: dofile is not available in {where}"),
    ("loadfile('/etc/passwd')", "{file}:1: loadfile is not available in {where}"),
    ("collectgarbage('collect')", '{file}:1: collectgarbage("collect") is not available in {where}'),
    ("python.eval('1')", "{file}:1: python.eval is not available in {where}"),
    ("python.builtins.open('/etc/passwd')", "{file}:1: python.builtins is not available in {where}"),
    ("local t = setmetatable({}, {__gc = print})", "{file}:1: setmetatable: __gc metamethods are not available in {where}"),
    (
        "load('return debug.getinfo(1)', 'c', 't', setmetatable({}, {__index = _G}))()",
        '[string "c"]:1: debug.getinfo is not available in {where}',
    ),
    ("coroutine.yield(1)", "{file}:1: coroutine.yield: not inside a coroutine (the main code of a {where_one} cannot yield)"),
    (
        "local ok = coroutine.resume(coroutine.running())",
        "{file}:1: cannot resume a coroutine that wflow itself drives (the run's main code or a coroutine.spawn one)",
    ),
    (
        "local ok = coroutine.close(coroutine.running())",
        "{file}:1: cannot close a coroutine that wflow itself drives (the run's main code or a coroutine.spawn one)",
    ),
]  # fmt: skip


@BOTH
@pytest.mark.parametrize(("code", "message"), BLOCKED, ids=[code for code, _ in BLOCKED])
async def test_escape_is_refused_with_the_line(
    tmp_path: Path, where: str, code: str, message: str
) -> None:
    text = await refusal(where, tmp_path, code)
    wanted = message.replace("{where_one}", where)
    assert text.startswith(expected(wanted, where)), text


@BOTH
async def test_load_with_a_custom_environment_reaches_nothing(tmp_path: Path, where: str) -> None:
    src = "return load('return io == nil and os == nil and debug == nil and python == nil "
    src += "and string == nil and _G == nil', 'c', 't', {})()"
    assert await run_as(where, tmp_path, src) is True


BINARY = "'\\27LuaT\\0\\25\\147\\r\\n\\26\\n'"
"""A Lua 5.4 bytecode header, as Lua source (`string.dump` does not exist to make a real one)."""


@BOTH
@pytest.mark.parametrize(
    "call",
    [
        f"pcall(load, {BINARY}, 'c', 'bt', {{}})",
        f"pcall(load, {BINARY}, 'c', 'b')",
        # a reader function handing the chunk over, then nil
        f"pcall(load, (function() local s = {BINARY} return function() local r = s s = nil "
        "return r end end)(), 'c', 'bt', {})",
        f"pcall(function() return load({BINARY}, 'c', 'bt', {{}}) end)",
    ],
)
async def test_binary_load_under_pcall_is_refused_with_the_line(
    tmp_path: Path, where: str, call: str
) -> None:
    # pcall catches the refusal as any error (only resource limits pass through it), and the
    # message names the script's line however `load` was reached: through pcall (a C caller
    # of its own, where `error(msg, 2)` named no line), directly, in a function.
    code = f"local f = 1\nlocal ok, err = {call}\nreturn {{ok = ok, err = err}}"
    for _ in range(3):  # the same answer every run
        assert await run_as(where, tmp_path, code) == {
            "ok": False,
            "err": expected(
                '{file}:2: load: binary chunks are not available in {where} (mode must be "t")',
                where,
            ),
        }


@BOTH
@pytest.mark.parametrize("mode", ["'t'", "nil"])
async def test_binary_chunk_in_text_mode_does_not_load(
    tmp_path: Path, where: str, mode: str
) -> None:
    # As Lua's own load for a chunk it cannot load: nil and the reason, under pcall or not.
    code = f"local ok, f, err = pcall(load, {BINARY}, 'c', {mode}, {{}})\n"
    code += "return {ok = ok, loaded = f ~= nil, err = err}"
    assert await run_as(where, tmp_path, code) == {
        "ok": True,
        "loaded": False,
        "err": expected("load: binary chunks are not available in {where}", where),
    }


@BOTH
async def test_bridge_objects_have_no_python_attributes(tmp_path: Path, where: str) -> None:
    # What lupa exposes on a Python object (`__class__`, `__dict__`, ...) is not there: the
    # bridge hands Lua only Lua tables and functions.
    src = """
    local time, json = require('time'), require('json')
    local found = {}
    for _, v in ipairs({time.now(), errors.new('x'), json, time, _G, getmetatable('')}) do
      for _, name in ipairs({'__class__', '__dict__', '__globals__', '__init__', '__builtins__'}) do
        local ok, x = pcall(function() return v[name] end)
        if ok and x ~= nil then found[#found + 1] = name end
      end
      if type(v) ~= 'table' then found[#found + 1] = type(v) end
    end
    return #found
    """
    assert await run_as(where, tmp_path, src) == 0


@BOTH
async def test_globals_and_string_metatable_do_not_persist_between_runs(
    tmp_path: Path, where: str
) -> None:
    poison = """
    rawset(_G, 'leak', 'from the first run')
    leak2 = 1
    string.upper = function() return 'pwned' end
    getmetatable('').__index = {len = function() return -1 end}
    return {rawget(_G, 'leak'), ('x'):len()}
    """
    assert await run_as(where, tmp_path, poison) == ["from the first run", -1]
    check = "return {rawget(_G, 'leak') == nil, leak2 == nil, string.upper('x'), ('ab'):len()}"
    assert await run_as(where, tmp_path, check) == [True, True, "X", 2]


@BOTH
async def test_a_poisoned_string_metatable_does_not_break_the_bridge(
    tmp_path: Path, where: str
) -> None:
    src = """
    local json = require('json')
    getmetatable('').__index = function() error('pwned') end
    string.format = nil
    return json.encode({a = {1, 2.5, 'x'}})
    """
    assert await run_as(where, tmp_path, src) == '{"a":[1,2.5,"x"]}'


# -- resource bombs: the same limits in functions as in workflows ------------------------------

BOMBS = [
    ("string.rep('x', 2^40)", "{file}:1: resulting string too large"),
    ("local s = string.rep('x', 2^26)", "memory limit of 32000000 bytes exceeded"),
    ("local t = {} for i = 1, 1e8 do t[i] = i end", "memory limit of 32000000 bytes exceeded"),
    ("local s = 'x' for i = 1, 40 do s = s .. s end", "memory limit of 32000000 bytes exceeded"),
    ("local t = {} for i = 1, 1e7 do t[i] = coroutine.create(print) end", "memory limit of 32000000 bytes exceeded"),
    ("while true do end", "instruction limit of 5000000 instructions per slice exceeded (an endless loop?)"),
    ("local function f() return f() end return f()", "instruction limit of 5000000 instructions per slice exceeded"),
    ("local function f() return 1 + f() end return f()", "memory limit of 32000000 bytes exceeded"),
    ("local function f() return string.gsub('x', 'x', f) end return f()", "C stack overflow"),
    ("local co = coroutine.wrap(function() while true do end end) co()", "instruction limit of 5000000"),
    ("pcall(string.rep, 'x', 2^26) return 1", "memory limit of 32000000 bytes exceeded"),
]  # fmt: skip


@BOTH
@pytest.mark.parametrize(("code", "message"), BOMBS, ids=[code for code, _ in BOMBS])
async def test_resource_bomb_ends_the_run_with_its_limit(
    tmp_path: Path, where: str, code: str, message: str
) -> None:
    text = await refusal(where, tmp_path, code)
    assert expected(message, where) in text, text
