"""Engines register by entry kind; the executor and the CLI ask for them by kind only."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from lua_bridge import LuaEngine
from wflow.dsl import PythonEngine
from wflow.model import (
    ErrorKind,
    WflowError,
    engine_for,
    has_engine,
    make_uuid7,
    message_payload,
    register_engine,
)


def test_installed_engines_are_found_by_kind() -> None:
    for kind in ("workflow.py", "function.py"):
        assert isinstance(engine_for(kind), PythonEngine)
    for kind in ("workflow.lua", "function.lua", "library.lua"):
        assert isinstance(engine_for(kind), LuaEngine)
    # One instance per engine class, whichever kind asked first.
    assert engine_for("workflow.lua") is engine_for("function.lua")


def test_engines_say_which_workflows_need_the_sandbox() -> None:
    lua = engine_for("workflow.lua")
    assert lua.sandbox_passthrough == ("lua_bridge", "lupa")
    assert "workflow.lua" in lua.kinds and "workflow.py" not in lua.kinds
    assert engine_for("workflow.py").sandbox_passthrough == ()


def test_unknown_kind_is_a_clear_error() -> None:
    assert not has_engine("workflow.cobol")
    with pytest.raises(WflowError) as caught:
        engine_for("workflow.cobol")
    assert caught.value.kind is ErrorKind.INVALID
    assert "no wflow engine is registered for it" in caught.value.message
    assert "'workflow.cobol'" in caught.value.message


def test_register_engine_at_run_time() -> None:
    engine = PythonEngine()
    register_engine(engine, ["workflow.test-only"])
    assert has_engine("workflow.test-only")
    assert engine_for("workflow.test-only") is engine


def test_uuid7_layout_and_order() -> None:
    moment = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    ms = int(moment.timestamp() * 1000)
    first = make_uuid7(ms, 0x3FF_FFFF_FFFF_FFFF_FFFF)
    later = make_uuid7(ms + 1, 0)
    assert first.version == 7 and first.variant == uuid.RFC_4122
    assert first.int >> 80 == ms
    assert first < later
    assert make_uuid7(ms, 12345) == make_uuid7(ms, 12345)


def test_message_payload_rule() -> None:
    assert message_payload([]) is None
    assert message_payload([{"a": 1}]) == {"a": 1}
    assert message_payload([None]) is None
    assert message_payload((1, "two")) == [1, "two"]
