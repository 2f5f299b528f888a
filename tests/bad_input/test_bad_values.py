"""Values that are not JSON data, in both directions: Lua -> JSON (call arguments, results,
`json.encode`), Python -> JSON (the payload converter) and JSON/Python -> Lua. Each is refused
with a message naming the path of the bad value; nothing is silently changed
(docs/errors.md, "Values that are not JSON"; the rules: SPEC §5, docs/lua.md).

Integers are 64-bit in both languages, so integers beyond 2^53 cross exactly; beyond 64 bits
they are an error (a float would lose digits). Nesting is limited to 200 levels.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from lua_bridge import LuaScriptError, LuaValueError
from tests.helpers.fakes import run_workflow as run_lua
from wflow.temporal._payloads import DATA_CONVERTER, PayloadError
from wflow.testing import FakeRuntime

PRELUDE = """
local funcs = require("funcs")
local json = require("json")
local function deep(n) local t = {} for _ = 1, n do t = {t} end return t end
local function cycle() local t = {} t.me = t return t end
"""

# Lua value -> what the encoder says about it (after its path).
LUA_BAD = {
    "print": "a function cannot be converted to JSON",
    "coroutine.create(print)": "a thread cannot be converted to JSON",
    "cycle()": "table contains itself (cycle)",
    "{1, nil, 3}": "sparse array (2 items but highest index 3); arrays must have keys 1..n",
    "{1, x = 2}": "mixed table (has both array items and string keys)",
    "{[0] = 1}": "table key 0 is neither a string nor an array index (1, 2, ...)",
    "0/0": "number nan cannot be represented in JSON",
    "math.huge": "number inf cannot be represented in JSON",
    "-math.huge": "number -inf cannot be represented in JSON",
    "'\\255'": "string is not valid UTF-8 (bad byte at position 1)",
    "deep(250)": "nested too deeply (more than 200 levels)",
}
# The path each case is reported at, inside the value (a cycle is found one level down, the
# depth limit 201 levels down).
INNER = {"cycle()": ".me", "deep(250)": "[1]" * 201}


@pytest.mark.parametrize("expr", sorted(LUA_BAD))
async def test_lua_call_argument_names_the_argument_and_the_line(tmp_path: Path, expr: str) -> None:
    src = PRELUDE + f"local v = funcs.call('app:f', 'ok', {expr}) return v"
    with pytest.raises(LuaScriptError) as info:
        await run_lua(tmp_path, src, runtime=FakeRuntime({"app:f": 1}))
    assert (
        info.value.message == f"wf.lua:6: funcs.call: args[2]{INNER.get(expr, '')}: {LUA_BAD[expr]}"
    )


async def test_lua_tail_call_is_never_placed_in_the_bridge(tmp_path: Path) -> None:
    # `return funcs.call(...)` leaves no frame of the script: no position rather than the
    # bridge's own (was `wflow/entry.lua:148: funcs.call: ...`).
    src = PRELUDE + "return funcs.call('app:f', 0/0)"
    with pytest.raises(LuaScriptError) as info:
        await run_lua(tmp_path, src, runtime=FakeRuntime({"app:f": 1}))
    assert info.value.message == f"funcs.call: args[1]: {LUA_BAD['0/0']}"


@pytest.mark.parametrize("expr", sorted(LUA_BAD))
async def test_lua_result_names_the_path(tmp_path: Path, expr: str) -> None:
    with pytest.raises(LuaScriptError) as info:
        await run_lua(tmp_path, PRELUDE + f"return {{items = {{{expr}}}}}")
    # Two levels already used by {items = {...}}.
    inner = "[1]" * 199 if expr == "deep(250)" else INNER.get(expr, "")
    path = f"result.items[1]{inner}"
    assert info.value.message == f"invalid result: {path}: {LUA_BAD[expr]}"


@pytest.mark.parametrize("expr", sorted(LUA_BAD))
async def test_lua_json_encode_returns_nil_and_invalid(tmp_path: Path, expr: str) -> None:
    src = (
        PRELUDE
        + f"local v, err = json.encode({expr}) return {{v == nil, err:kind(), err:message()}}"
    )
    path = f"value{INNER.get(expr, '')}"
    assert await run_lua(tmp_path, src) == [
        True,
        "INVALID",
        f"json.encode: {path}: {LUA_BAD[expr]}",
    ]


async def test_lua_values_at_the_limits_cross_exactly(tmp_path: Path) -> None:
    # 199 levels (200 with the list around it), integers beyond 2^53 and at 2^63-1.
    src = PRELUDE + "return {deep(199), 9007199254740993, math.maxinteger, math.mininteger}"
    result = await run_lua(tmp_path, src)
    inner = result[0]
    for _ in range(199):
        inner = inner[0]
    assert inner == {}
    assert result[1:] == [2**53 + 1, 2**63 - 1, -(2**63)]
    assert type(result[1]) is int


class Opaque:
    pass


def cyclic() -> list[Any]:
    items: list[Any] = []
    items.append(items)
    return items


def nested(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels):
        value = [value]
    return value


# Python value -> the converter's message (the path is payload[...]).
PY_BAD: list[tuple[str, Any, str]] = [
    ("function", {"f": print}, "payload.f: a value of type builtin_function_or_method is not"),
    ("lambda", [lambda: 1], "payload[0]: a value of type function is not JSON data"),
    ("object", {"o": Opaque()}, "payload.o: a value of type Opaque is not JSON data"),
    ("set", {"s": {1}}, "payload.s: a value of type set is not JSON data (use a sorted list)"),
    ("bytes", b"x", "payload: a value of type bytes is not JSON data (use a string, e.g. base64)"),
    ("cycle", cyclic(), "payload[0]: contains itself (cycle)"),
    ("nan", [math.nan], "payload[0]: nan is not a JSON number"),
    ("inf", {"x": math.inf}, "payload.x: inf is not a JSON number"),
    ("big", [2**64], "payload[0]: integer 18446744073709551616 is outside the 64-bit range"),
    ("key", {1: "a"}, "payload: object key 1 is not a string"),
    ("deep", nested(250), "nested too deeply (more than 200 levels)"),
]  # fmt: skip


@pytest.mark.parametrize(("value", "message"), [c[1:] for c in PY_BAD], ids=[c[0] for c in PY_BAD])
def test_python_payload_is_refused_naming_the_path(value: Any, message: str) -> None:
    with pytest.raises(PayloadError) as info:
        DATA_CONVERTER.payload_converter.to_payloads([value])
    if message.startswith("payload"):
        assert str(info.value).startswith(message)
    else:
        assert str(info.value).endswith(message)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"n": math.nan}, "args[1].n: nan is not a JSON number"),
        ([math.inf], "args[1][1]: inf is not a JSON number"),
        ([2**64], "args[1][1]: integer 18446744073709551616 is outside the 64-bit range"),
        ({1: "a"}, "args[1]: object key 1 is not a string"),
        ({"s": {1}}, "args[1].s: a set cannot be passed to Lua"),
        ({"f": print}, "args[1].f: a builtin_function_or_method cannot be passed to Lua"),
        (nested(250), "nested too deeply (more than 200 levels)"),
    ],
)
async def test_python_value_passed_to_lua_is_refused_naming_the_path(
    tmp_path: Path, value: Any, message: str
) -> None:
    with pytest.raises(LuaValueError) as info:
        await run_lua(tmp_path, "return function(v) return v end", [value])
    if message.startswith("args"):
        assert info.value.message.startswith(message)
    else:
        assert info.value.message.endswith(message)


async def test_python_integers_beyond_2_53_reach_lua_exactly(tmp_path: Path) -> None:
    src = "return function(v) return {math.type(v), v + 1} end"
    assert await run_lua(tmp_path, src, [2**53 + 1]) == ["integer", 2**53 + 2]
