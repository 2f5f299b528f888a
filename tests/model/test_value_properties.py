"""Property tests (hypothesis) of the value rules of SPEC §5, the same in Lua and Python:

- JSON data crosses Python -> Lua -> Python unchanged, except by the two documented rules of
  Lua tables (an object's `null` members disappear; a list's trailing `null`s are dropped),
  with integers staying integers (64-bit) and floats floats;
- JSON data crosses Python's payload converter unchanged;
- a value with one leaf that is not JSON data (NaN, +-Infinity, an integer beyond 64 bits, a
  set, bytes) is refused by both, never silently changed.
"""

from __future__ import annotations

import asyncio
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lua_bridge import LuaValueError
from tests.helpers.fakes import run_workflow as run_lua
from wflow.temporal._payloads import DATA_CONVERTER, PayloadError, json_problem

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
LEAVES = st.none() | st.booleans() | INT64 | FLOATS | TEXT
JSON = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)
BAD_LEAVES = st.sampled_from(
    [math.nan, math.inf, -math.inf, 2**64, -(2**63) - 1, {1, 2}, b"bytes", frozenset()]
)


def with_bad_leaf() -> st.SearchStrategy[Any]:
    """A JSON value with one bad leaf somewhere inside it."""
    return st.recursive(
        BAD_LEAVES,
        lambda inner: (
            st.tuples(st.lists(JSON, max_size=2), inner).map(lambda t: [*t[0], t[1]])
            | st.tuples(TEXT, inner).map(lambda t: {t[0]: t[1]})
        ),
        max_leaves=5,
    )


def lua_rules(value: Any) -> Any:
    """What a value looks like after a trip through Lua tables (SPEC §5)."""
    if isinstance(value, list):
        items = [lua_rules(v) for v in value]
        while items and items[-1] is None:
            items.pop()
        return items
    if isinstance(value, dict):
        return {k: lua_rules(v) for k, v in value.items() if v is not None}
    return value


def same(a: Any, b: Any) -> bool:
    """Equal, with the same int/float type at every leaf (`1 == 1.0` is not enough)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


ECHO = "return function(v) return v end"


def echo_through_lua(value: Any) -> Any:
    with tempfile.TemporaryDirectory() as folder:
        return asyncio.run(run_lua(Path(folder), ECHO, [value]))


@SETTINGS
@given(JSON)
def test_json_data_round_trips_through_lua_by_the_table_rules(value: Any) -> None:
    assert same(echo_through_lua(value), lua_rules(value))


@SETTINGS
@given(JSON)
def test_json_data_round_trips_through_the_payload_converter(value: Any) -> None:
    assert json_problem(value) is None
    converter = DATA_CONVERTER.payload_converter
    payloads = converter.to_payloads([value])
    assert same(converter.from_payloads(payloads)[0], value)
    # And the bytes are plain JSON any other reader accepts (no NaN, no Infinity).
    if value is not None:  # None is written as binary/null, with no data
        json.loads(payloads[0].data, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))


@SETTINGS
@given(with_bad_leaf())
def test_a_bad_leaf_is_refused_by_both_sides(value: Any) -> None:
    assert json_problem(value) is not None
    with pytest.raises(PayloadError):
        DATA_CONVERTER.payload_converter.to_payloads([value])
    with pytest.raises(LuaValueError) as info:
        echo_through_lua(value)
    assert info.value.message.startswith("args[1]")
