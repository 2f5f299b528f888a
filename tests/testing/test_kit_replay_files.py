"""`wflow.testing.replay` refuses what would make a replay test pass for nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.paths import EXAMPLES
from wflow.model import ErrorKind, WflowError
from wflow.testing import replay


async def test_a_pattern_matching_no_file_is_an_error_not_a_pass(tmp_path: Path) -> None:
    with pytest.raises(WflowError) as caught:
        await replay(EXAMPLES / "orders_lua", "histories/*.jsn")

    assert caught.value.kind is ErrorKind.NOT_FOUND
    assert "no history file matches" in caught.value.message
    assert "orders_lua/histories/*.jsn" in caught.value.message


async def test_no_pattern_at_all_is_an_error() -> None:
    with pytest.raises(WflowError) as caught:
        await replay(EXAMPLES / "orders_lua")

    assert caught.value.kind is ErrorKind.INVALID


async def test_a_file_that_is_no_history_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "run.json"
    bad.write_text('{"steps": []}', encoding="utf-8")

    with pytest.raises(WflowError) as caught:
        await replay(EXAMPLES / "orders_lua", bad)

    assert caught.value.kind is ErrorKind.INVALID
    assert f"{bad}: not a workflow history" in caught.value.message
