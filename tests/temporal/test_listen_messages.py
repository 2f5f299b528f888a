"""`process.listen(topic, {message = true})` and `process.unlisten(ch)` on real servers.

The docs' "Signal Acknowledgment" pair (en/temporal/workflows.md): the listener receives
message objects and answers `msg:from()`; after `unlisten` the topic's messages land in the
inbox again. All on the dev server: the time-skipping server drops signal headers, which carry
a workflow's sender PID (`msg:from()`). Workflows run with the cache off and each history is
replayed once more.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.helpers.paths import FIXTURES
from tests.helpers.replayed import run_replayed
from wflow.registry import load_project
from wflow.temporal import Session
from wflow.testing import EmbeddedDevServer

pytestmark = pytest.mark.timeout(300)

PROJECT = FIXTURES / "links"


@pytest_asyncio.fixture
async def session(
    dev_server: EmbeddedDevServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Session]:
    monkeypatch.setenv("WFLOW_MAX_CACHED_WORKFLOWS", "0")
    async with Session(load_project(PROJECT), address=dev_server.address) as running:
        yield running


@pytest.mark.parametrize("listener", ["app:listener", "app:py_listener"])
async def test_listen_with_message_objects_then_unlisten(session: Session, listener: str) -> None:
    result = await run_replayed(session, "app:requester", listener)
    me = result["me"]
    assert result["status"] == {"status": "processing", "progress": 75} or (
        listener == "app:py_listener" and result["status"] == {"status": "processing"}
    )
    got = result["listener"]
    assert (got["topic"], got["from"], got["data"]) == ("get_status", me, {})
    assert got["later"] == "get_status"  # after unlisten: in the inbox
    if listener == "app:listener":
        assert got["later_from"] == me
        assert got["open"] is False  # unlisten closed the channel


async def test_a_process_listens_for_message_objects(session: Session) -> None:
    result = await run_replayed(session, "app:ask_process")
    assert result["got"] == {"topic": "request", "from": result["me"], "data": {"n": 1}}


async def test_the_docs_multiple_signal_handlers_example(session: Session) -> None:
    # The docs' counter (three listen{message = true} channels, replies to msg:from()).
    result = await run_replayed(session, "app:counter_driver")
    assert result == {
        "first": 5,
        "refused": "would result in negative value",
        "second": 3,
        "finishing": "finishing",
        "final": {"final_counter": 3},
    }
