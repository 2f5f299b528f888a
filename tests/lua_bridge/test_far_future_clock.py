"""A Lua run starts when the clock is past what a Lua integer holds in nanoseconds (2262).

The time-skipping test server's clock gets there after enough skipped 10-year workflow
timeouts; every Lua workflow then failed to start with `OverflowError` in `create_bridge`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.helpers.fakes import run_workflow
from wflow.testing import FakeRuntime


async def test_a_lua_workflow_runs_with_the_clock_in_the_year_2300(tmp_path: Path) -> None:
    runtime = FakeRuntime(now=datetime(2300, 1, 1, tzinfo=UTC))
    src = 'local time = require("time")\ntime.sleep("1s")\nreturn "ran"\n'
    assert await run_workflow(tmp_path, src, runtime=runtime, modules=["time"]) == "ran"
