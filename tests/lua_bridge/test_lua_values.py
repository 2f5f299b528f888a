"""Values crossing between Lua and Python (SPEC §5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lua_bridge import LuaScriptError, LuaValueError
from tests.helpers.fakes import run_workflow

ECHO = "return function(v) return v end"


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -7,
        2**63 - 1,
        -(2**63),
        1.0,
        -2.5,
        1e300,
        0.1,
        "",
        "héllo ✓ 😀",
        'quote " backslash \\ newline \n tab \t nul \x00 bell \x07',
        [],
        {},
        [1, 2.0, "x", None, True],
        {"a": {"b": [{"c": []}, {}]}, "z": 1, "é": "ü"},
        [[[]], [{}], [[1]]],
    ],
)
async def test_round_trip(tmp_path: Path, value: Any) -> None:
    result = await run_workflow(tmp_path, ECHO, [value])
    assert result == value
    assert type(result) is type(value)
    if isinstance(value, list) and value:
        assert [type(x) for x in result] == [type(x) for x in value]


async def test_integers_and_floats_keep_their_lua_subtype(tmp_path: Path) -> None:
    src = "return function(a, b) return {math.type(a), math.type(b), a // 1, b * 2} end"
    assert await run_workflow(tmp_path, src, [3, 3.0]) == ["integer", "float", 3, 6.0]


async def test_huge_python_int_is_an_error(tmp_path: Path) -> None:
    # Was silently a float (digits lost); now refused as on the Python side (issue 14, item 6).
    match = r"^args\[1\]: integer 1180591620717411303424 is outside the 64-bit range"
    with pytest.raises(LuaValueError, match=match):
        await run_workflow(tmp_path, "return function(v) return math.type(v) end", [2**70])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"order": [1, {"id": 2**70}]},
            r"^args\[1\]\.order\[2\]\.id: integer 1180591620717411303424 ",
        ),
        ([[float("nan")]], r"^args\[1\]\[1\]\[1\]: nan is not a JSON number"),
        ({"a": {1: "x"}}, r"^args\[1\]\.a: object key 1 is not a string"),
        ({"a": {"b": object()}}, r"^args\[1\]\.a\.b: a object cannot be passed to Lua"),
    ],
)
async def test_a_bad_nested_value_is_named_by_its_path(
    tmp_path: Path, value: Any, message: str
) -> None:
    with pytest.raises(LuaValueError, match=message):
        await run_workflow(tmp_path, ECHO, [value])


async def test_none_in_objects_disappears_and_trailing_null_is_dropped(tmp_path: Path) -> None:
    assert await run_workflow(tmp_path, ECHO, [{"a": None, "b": 1}]) == {"b": 1}
    assert await run_workflow(tmp_path, ECHO, [[1, None]]) == [1]
    assert await run_workflow(tmp_path, ECHO, [[None, None, 3]]) == [None, None, 3]


async def test_empty_table_rules(tmp_path: Path) -> None:
    src = """
    local json = require("json")
    return function(arr, obj, filled)
      table.remove(filled)
      arr[1] = 5
      return {fresh = {}, arr = arr, obj = obj, emptied = filled,
              marked = json.array(), object = json.object(), grown = arr}
    end
    """
    result = await run_workflow(tmp_path, src, [[], {}, ["x"]])
    assert result == {
        "fresh": {},
        "arr": [5],
        "obj": {},
        "emptied": [],
        "marked": [],
        "object": {},
        "grown": [5],
    }


async def test_object_keys_come_out_sorted(tmp_path: Path) -> None:
    src = "return {zz = 1, a = 2, B = 3, ['1'] = 4}"
    result = await run_workflow(tmp_path, src)
    assert list(result) == ["1", "B", "a", "zz"]


async def test_time_and_error_objects_in_results(tmp_path: Path) -> None:
    src = "return {t = require('time').now(), e = errors.new{message = 'x', kind = 'TIMEOUT'}}"
    result = await run_workflow(tmp_path, src)
    assert result["t"] == "2024-05-06T07:08:09.123456Z"
    assert result["e"] == {"kind": "TIMEOUT", "message": "x", "retryable": True}


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("{1, nil, 3}", "result: sparse array (2 items but highest index 3)"),
        ("{items = {1, 2, x = 1}}", "result.items: mixed table"),
        ("{[0] = 'a'}", "result: table key 0 is neither a string nor an array index"),
        ("{[1.5] = 'a'}", "result: table key 1.5 is neither a string nor an array index"),
        ("{[true] = 1}", "result: table key boolean is neither"),
        ("{{f = print}}", "result[1].f: a function cannot be converted to JSON"),
        ("{n = 0/0}", "result.n: number"),
        ("{list = {1, math.huge}}", "result.list[2]: number inf cannot be represented in JSON"),
        ("{['a b'] = {'\\255'}}", 'result["a b"][1]: string is not valid UTF-8'),
        (
            "(function() local t = {} t.self = t return t end)()",
            "result.self: table contains itself",
        ),
        ("coroutine.create(print)", "result: a thread cannot be converted"),
    ],
)
async def test_bad_results_name_the_path(tmp_path: Path, expr: str, message: str) -> None:
    with pytest.raises(LuaScriptError) as info:
        await run_workflow(tmp_path, f"return {expr}")
    assert message in str(info.value)


async def test_shared_subtables_are_not_cycles(tmp_path: Path) -> None:
    src = "local s = {1} return {a = s, b = s}"
    assert await run_workflow(tmp_path, src) == {"a": [1], "b": [1]}


async def test_invalid_utf8_in_an_error_message_is_escaped(tmp_path: Path) -> None:
    with pytest.raises(LuaScriptError, match=r"bad \\xFF byte"):
        await run_workflow(tmp_path, "error('bad \\255 byte', 0)")


async def test_float_formatting_round_trips(tmp_path: Path) -> None:
    values = [0.1, 1 / 3, 1e-300, 123456789.125, 2.0**60, -0.0]
    assert await run_workflow(tmp_path, ECHO, [values]) == values
