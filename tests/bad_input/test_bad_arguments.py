"""A workflow or function called with the wrong number of arguments: an INVALID error that
names the entry, its parameters and the count, in Lua and Python alike, never values dropped
silently (docs/errors.md, "Wrong number of arguments").

Lua parameters are all optional (a missing one is `nil`, Lua's own convention); Python's
required parameters are required.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from tests.helpers.paths import FIXTURES
from tests.helpers.processes import run_wflow
from wflow.model import ErrorKind, WflowError
from wflow.registry import load_project
from wflow.temporal import Session

pytestmark = pytest.mark.timeout(120)

PROJECT = FIXTURES / "bad_input"


@pytest_asyncio.fixture(loop_scope="session")
async def session(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[Session]:
    async with Session(load_project(PROJECT), client=time_skipping_env.client) as running:
        yield running


def invalid(message: str) -> dict[str, Any]:
    return {"kind": "INVALID", "message": message, "retryable": False}


@pytest.mark.parametrize(
    ("entry", "args", "message"),
    [
        ("bad:py_two", [1, 2, 3], "bad:py_two takes 2 arguments (a, b), got 3"),
        ("bad:py_two", [1], "bad:py_two takes 2 arguments (a, b), got 1: missing b"),
        ("bad:lua_two", [1, 2, 3], "bad:lua_two takes at most 2 arguments (a, b), got 3"),
    ],
)  # fmt: skip
async def test_workflow_started_with_the_wrong_count_fails_invalid(
    session: Session, entry: str, args: list[Any], message: str
) -> None:
    with pytest.raises(WflowError) as info:
        await session.execute(entry, args)
    assert (info.value.kind, info.value.message) == (ErrorKind.INVALID, message)


async def test_a_missing_lua_argument_is_nil(session: Session) -> None:
    assert await session.execute("bad:lua_two", [1]) == [1]


@pytest.mark.parametrize("caller", ["bad:py_calls", "bad:lua_calls"])
@pytest.mark.parametrize(
    ("target", "args", "message"),
    [
        ("bad:py_add", [1, 2, 3, 4], "bad:py_add takes at most 3 arguments (a, b, c), got 4"),
        ("bad:py_add", [1], "bad:py_add takes 2 arguments (a, b, c), got 1: missing b"),
        ("bad:lua_add", [1, 2, 3], "bad:lua_add takes at most 2 arguments (a, b), got 3"),
    ],
)  # fmt: skip
async def test_function_called_with_the_wrong_count_fails_the_call_invalid(
    session: Session, caller: str, target: str, args: list[Any], message: str
) -> None:
    # Not retried: the same call can never succeed.
    assert await session.execute(caller, [target, args]) == invalid(message)


async def test_function_called_with_a_fitting_count(session: Session) -> None:
    assert await session.execute("bad:py_calls", ["bad:py_add", [1, 2]]) == 3
    assert await session.execute("bad:lua_calls", ["bad:lua_add", [1]]) == 1


def test_wflow_run_with_too_many_arguments_exits_1_naming_the_entry() -> None:
    result = run_wflow("run", str(PROJECT), "bad:py_two", "1", "2", "3", "--time-skipping")
    assert result.returncode == 1, result.stderr
    assert (
        "error: workflow bad:py_two failed: INVALID: bad:py_two takes 2 arguments (a, b), got 3"
    ) in result.stderr
