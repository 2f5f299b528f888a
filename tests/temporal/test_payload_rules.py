"""JSON rules the same in both languages (SPEC §5): NaN, Infinity, sets and integers beyond
64 bits are clear errors naming the path, on the Python side as on the Lua side."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from lua_bridge import LuaValueError
from tests.helpers.fakes import run_workflow
from tests.helpers.paths import FIXTURES
from wflow.registry import load_project
from wflow.temporal import Session
from wflow.temporal._payloads import DATA_CONVERTER, PayloadError, json_problem

pytestmark = pytest.mark.timeout(120)

PROJECT = FIXTURES / "payloads"

# What each bad value of payload_app._bad is reported as, path included.
PROBLEMS = {
    "nan": "result.items[2]: nan is not a JSON number",
    "inf": "result.total: inf is not a JSON number",
    "set": "result.tags: a value of type set is not JSON data (use a sorted list)",
    "big": (
        "result.id: integer 18446744073709551616 is outside the 64-bit range "
        "(-2^63 .. 2^63-1); send it as a string"
    ),
}


@pytest_asyncio.fixture(loop_scope="session")
async def session(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[Session]:
    async with Session(load_project(PROJECT), client=time_skipping_env.client) as running:
        yield running


async def first_task_failure(handle: WorkflowHandle[Any, Any]) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while loop.time() < deadline:
        async for event in handle.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                return str(event.workflow_task_failed_event_attributes.failure.message)
        await asyncio.sleep(0.05)
    raise AssertionError(f"workflow {handle.id}: no workflow task failed")


# -- the converter --------------------------------------------------------------------------


def test_valid_values_are_written_as_temporalio_writes_them() -> None:
    # Histories of Lua and Python twins stay identical (tests/examples/test_same_history.py).
    values = [None, {"b": 1, "a": [1.0, None, "é"], "c": {"z": True}}, [], {}, 2**63 - 1, -(2**63)]
    ours = DATA_CONVERTER.payload_converter.to_payloads(values)
    theirs = DataConverter.default.payload_converter.to_payloads(values)
    assert ours == theirs


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (math.nan, "payload: nan is not a JSON number"),
        ({"x": [1, -math.inf]}, "payload.x[1]: -inf is not a JSON number"),
        ({"s": frozenset()}, "payload.s: a value of type frozenset is not JSON data"),
        ([2**63], "payload[0]: integer 9223372036854775808 is outside the 64-bit range"),
        ({1: "a"}, "payload: object key 1 is not a string"),
        (b"raw", "payload: a value of type bytes is not JSON data (use a string, e.g. base64)"),
    ],
)
def test_converter_refuses_what_is_not_json(value: Any, message: str) -> None:
    with pytest.raises(PayloadError) as info:
        DATA_CONVERTER.payload_converter.to_payloads([value])
    assert str(info.value).startswith(message)


def test_converter_refuses_nan_text_when_reading() -> None:
    payload = DataConverter.default.payload_converter.to_payloads([math.nan])[0]
    assert payload.data == b"NaN"  # what temporalio's lenient converter writes
    with pytest.raises(PayloadError, match=r"^payload: NaN is not a JSON number$"):
        DATA_CONVERTER.payload_converter.from_payloads([payload])


def test_cycles_and_depth_are_named() -> None:
    cycle: list[Any] = []
    cycle.append(cycle)
    assert json_problem(cycle, "args[0]") == "args[0][0]: contains itself (cycle)"
    deep: list[Any] = []
    for _ in range(250):
        deep = [deep]
    assert str(json_problem(deep)).endswith("nested too deeply (more than 200 levels)")
    shared = [1]
    assert json_problem({"a": shared, "b": shared}) is None


# -- on Temporal ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(PROBLEMS))
async def test_python_function_result_fails_the_call_invalid(session: Session, kind: str) -> None:
    result = await session.execute("tests.payloads:py_calls_bad", [kind])
    assert result == {
        "kind": "INVALID",
        "message": f"tests.payloads:bad_value: invalid result: {PROBLEMS[kind]}",
        "retryable": False,
    }


@pytest.mark.parametrize("kind", ["nan", "big"])
async def test_lua_caller_sees_the_same_invalid_error(session: Session, kind: str) -> None:
    result = await session.execute("tests.payloads:lua_calls_bad", [kind])
    assert result == {
        "kind": "INVALID",
        "message": f"tests.payloads:bad_value: invalid result: {PROBLEMS[kind]}",
        "retryable": False,
    }


@pytest.mark.parametrize("kind", sorted(PROBLEMS))
async def test_python_workflow_result_fails_the_workflow_task(session: Session, kind: str) -> None:
    handle = await session.start("tests.payloads:returns_bad", [kind])
    try:
        message = await first_task_failure(handle)
    finally:
        await handle.terminate("test over")
    assert message == f"tests.payloads:returns_bad: invalid result: {PROBLEMS[kind]}"


async def test_client_refuses_nan_arguments(session: Session) -> None:
    with pytest.raises(PayloadError, match=r"^payload: nan is not a JSON number$"):
        await session.start("tests.payloads:returns_bad", [math.nan])


# -- Python -> Lua and Lua's json.decode ----------------------------------------------------


async def test_big_python_int_passed_to_lua_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LuaValueError) as info:
        await run_workflow(tmp_path, "return function(v) return v end", [{"n": [2**70]}])
    assert info.value.message == (
        "args[1].n[1]: integer 1180591620717411303424 is outside the 64-bit range "
        "(-2^63 .. 2^63-1); send it as a string"
    )


async def test_lua_json_decode_refuses_big_integers_and_nan(tmp_path: Path) -> None:
    # Before: the conversion error escaped json.decode and ended the run.
    src = (PROJECT / "lua_decodes.lua").read_text()
    big = await run_workflow(tmp_path, src, ['{"id": 18446744073709551616}'], modules=["json"])
    assert big["error"]["message"] == (
        "json.decode: value.id: integer 18446744073709551616 is outside the 64-bit range "
        "(-2^63 .. 2^63-1); send it as a string"
    )
    nan = await run_workflow(tmp_path, src, ["[NaN]"], modules=["json"])
    assert nan["error"]["message"] == "json.decode: value[1]: nan is not a JSON number"
