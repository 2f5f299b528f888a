"""Lua error values that are not a string or an error object, and forged error objects: a
user-level message with the raising line, never `table: #1` or an internal error (issue 14,
item 9), in workflows and functions alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lua_bridge import LuaEngine, LuaScriptError
from tests.helpers.fakes import lua_entry, run_workflow
from wflow.model import ErrorKind, FunctionContext, WflowError


async def workflow_error(tmp_path: Path, source: str) -> str:
    with pytest.raises(LuaScriptError) as info:
        await run_workflow(tmp_path, source, name="order")
    return info.value.message


def function_error(tmp_path: Path, source: str) -> str:
    entry = lua_entry(tmp_path, source, name="order", kind="function.lua", modules=["errors"])
    with pytest.raises(WflowError) as info:
        LuaEngine().function_program(entry, None).call([], FunctionContext(entry_id="app:fn"))
    assert info.value.kind is ErrorKind.INTERNAL
    return info.value.message


CASES: list[tuple[str, str]] = [
    (
        "local x = 1\nlocal y = 2\nlocal z = 3\nerror({code = 7})\n",
        "order.lua:4: error raised with a table value: {code = 7}",
    ),
    ("error(42)\n", "order.lua:1: error raised with a number value: 42"),
    ("error()\n", "order.lua:1: error raised with a nil value"),
    (
        "error({'x', a = {b = {c = {}}}, ['a b'] = true})\n",
        "order.lua:1: error raised with a table value: "
        '{"x", a = {b = {c = {...}}}, ["a b"] = true}',
    ),
    (
        # An error object's metatable is protected: it cannot be borrowed to forge one.
        "local e = errors.new('x', 'INVALID')\n"
        "return nil, setmetatable({_kind = 'INVALID', _message = {}}, getmetatable(e))\n",
        "order.lua:2: bad argument #2 to 'setmetatable' (nil or table expected, got string)",
    ),
    (
        "local e = errors.new('x', 'INVALID')\ne._message = {}\nreturn nil, e\n",
        "order.lua:2: error objects cannot be changed (field '_message'); use errors.wrap or "
        "errors.new for a new one",
    ),
    (
        "return nil, {kind = 'INVALID', message = {}}\n",
        "invalid error value returned (a table with a message field): its message is a table, "
        'not a string: {kind = "INVALID", message = {}}',
    ),
    (
        "return nil, {kind = 'INVALID', message = 'm', details = {f = print}}\n",
        "invalid error value returned: error.details.f: a function cannot be converted to JSON",
    ),
]


@pytest.mark.parametrize(("source", "message"), CASES)
async def test_in_a_workflow(tmp_path: Path, source: str, message: str) -> None:
    assert await workflow_error(tmp_path, source) == message


@pytest.mark.parametrize(("source", "message"), CASES)
def test_in_a_function(tmp_path: Path, source: str, message: str) -> None:
    assert function_error(tmp_path, source) == message


async def test_rawset_on_an_error_object_does_not_reach_the_bridge(tmp_path: Path) -> None:
    source = "local e = errors.new('x', 'INVALID')\nrawset(e, '_message', {})\nreturn nil, e\n"
    with pytest.raises(WflowError) as info:
        await run_workflow(tmp_path, source)
    assert (info.value.kind, info.value.message) == (ErrorKind.INVALID, "x")


async def test_error_objects_still_read_as_before(tmp_path: Path) -> None:
    source = """
    local e = errors.new{kind = errors.NOT_FOUND, message = "no order", details = {id = 3}}
    local w = errors.wrap(e, "loading")
    return {e._kind, e:kind(), e:message(), e:details().id, tostring(w), errors.is(w, "NOT_FOUND"),
      getmetatable(e)}
    """
    result: Any = await run_workflow(tmp_path, source)
    assert result == [
        "NOT_FOUND",
        "NOT_FOUND",
        "no order",
        3,
        "NOT_FOUND: loading: no order",
        True,
        "wflow.error",
    ]
