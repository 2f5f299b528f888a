"""A Lua run starts when the clock is past what a Lua integer holds in nanoseconds (2262).

The time-skipping test server's clock gets there after enough skipped 10-year workflow
timeouts; every Lua workflow then failed to start with `OverflowError` in `create_bridge`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from lua_bridge import LuaScriptError
from tests.helpers.fakes import run_workflow
from wflow.testing import FakeRuntime


async def test_a_lua_workflow_runs_with_the_clock_in_the_year_2300(tmp_path: Path) -> None:
    runtime = FakeRuntime(now=datetime(2300, 1, 1, tzinfo=UTC))
    src = 'local time = require("time")\ntime.sleep("1s")\nreturn "ran"\n'
    assert await run_workflow(tmp_path, src, runtime=runtime, modules=["time"]) == "ran"


@pytest.mark.parametrize(
    ("expression", "who"),
    [
        ("time.now():unix()", "time.now"),
        ("os.time()", "os.time"),
        ('os.date("%Y")', "os.date"),
        ("os.clock()", "os.clock"),
    ],
)
async def test_reading_the_clock_past_2262_is_a_clear_lua_error_at_the_line(
    tmp_path: Path, expression: str, who: str
) -> None:
    runtime = FakeRuntime(now=datetime(2300, 1, 1, tzinfo=UTC))
    src = f'local time = require("time")\nlocal value = {expression}\nreturn value\n'
    with pytest.raises(LuaScriptError) as info:
        await run_workflow(tmp_path, src, runtime=runtime, modules=["time"])
    assert str(info.value).startswith(f"wf.lua:2: {who}: the workflow's clock reads 2300-01-01")
    assert "past the last time a Lua time value holds (2262-04-11)" in str(info.value)
