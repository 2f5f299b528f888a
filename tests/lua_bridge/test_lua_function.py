"""function.lua entries: synchronous calls on real time, errors as WflowError."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from lua_bridge import LuaEngine
from tests.helpers.fakes import FakeLimits, lua_entry
from wflow.model import ErrorKind, FunctionContext, WflowError

CONTEXT = FunctionContext(entry_id="app:fn")


def call(tmp_path: Path, source: str, args: list[Any] | None = None, **kwargs: Any) -> Any:
    kwargs.setdefault("modules", ["time", "uuid", "json", "errors", "funcs"])
    entry = lua_entry(tmp_path, source, name="fn", kind="function.lua", **kwargs)
    return LuaEngine().function_program(entry, None).call(args or [], CONTEXT)


def test_returns_value(tmp_path: Path) -> None:
    src = "return function(order) return {total = order.qty * 2, n = #order.items} end"
    assert call(tmp_path, src, [{"qty": 4, "items": [1, 2]}]) == {"total": 8, "n": 2}


def test_nil_err_raises_wflow_error(tmp_path: Path) -> None:
    src = """return function()
      return nil, errors.new{kind = errors.NOT_FOUND, message = "no order", details = {id = 3}}
    end"""
    with pytest.raises(WflowError) as info:
        call(tmp_path, src)
    assert info.value.kind is ErrorKind.NOT_FOUND
    assert info.value.retryable is False
    assert info.value.details == {"id": 3}


def test_unhandled_error_is_internal_with_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(WflowError) as info:
        call(tmp_path, "return function()\n  local x = nil\n  return x.y\nend")
    assert info.value.kind is ErrorKind.INTERNAL
    assert info.value.message.startswith("fn.lua:3: attempt to index a nil value")
    assert info.value.retryable is False  # Wippy's failure table: a runtime crash


def test_error_raised_with_error_is_not_retryable(tmp_path: Path) -> None:
    with pytest.raises(WflowError) as info:
        call(tmp_path, 'return function() error("no gateway") end')
    assert (info.value.kind, info.value.retryable) == (ErrorKind.INTERNAL, False)


def test_real_time_and_sleep(tmp_path: Path) -> None:
    src = """
    local time = require("time")
    return function()
      local a = time.now()
      time.sleep(30)
      return {a:unix(), time.now():sub(a), os.time()}
    end"""
    started = time.time()
    unix, slept, os_time = call(tmp_path, src)
    assert abs(unix - started) < 5 and abs(os_time - started) < 5
    assert slept >= 29


def test_uuid_random_differs(tmp_path: Path) -> None:
    src = "local uuid = require('uuid') return function() return {uuid.v4(), uuid.v7()} end"
    a, b = call(tmp_path, src), call(tmp_path, src)
    assert a != b
    assert a[1][14] == "7"


def test_workflow_only_things_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(WflowError, match=r"funcs\.call is not available in functions"):
        call(tmp_path, "return function() return require('funcs').call('app:x') end")
    with pytest.raises(
        WflowError, match=r"fn\.lua:1: require: module 'workflow' is only available in workflows"
    ):
        call(tmp_path, "require('workflow')")
    with pytest.raises(WflowError, match=r"os\.getenv is not available in functions"):
        call(tmp_path, "return os.getenv('HOME')")
    assert call(tmp_path, "return channel == nil") is True


def test_resource_limit_is_internal_and_not_retryable(tmp_path: Path) -> None:
    with pytest.raises(WflowError) as info:
        call(tmp_path, "while true do end", limits=FakeLimits(max_instructions=100_000))
    assert info.value.kind is ErrorKind.INTERNAL
    assert info.value.retryable is False
    assert "instruction limit" in info.value.message
