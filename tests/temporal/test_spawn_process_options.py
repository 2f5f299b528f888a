"""Spawn options on process entries (issue 9): a `process.host` process takes a name and
startup messages (in order, also when its name returns the running process); Temporal's
workflow options and `with_context` are refused by name, never ignored. On the shared dev
server."""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers.paths import FIXTURES
from wflow.model import SpawnOptions, WflowError
from wflow.registry import load_project
from wflow.temporal import Session
from wflow.testing import EmbeddedDevServer

PROJECT = FIXTURES / "services"


async def test_process_spawns_take_messages_and_refuse_workflow_options(
    dev_server: EmbeddedDevServer,
) -> None:
    async with Session(load_project(PROJECT), address=dev_server.address) as session:
        assert session.processes is not None
        connection = session.processes.hosts[0].router.connection
        stop_first = SpawnOptions().with_name("kv-startup").with_message("stop")
        pid = await connection.spawn("app:kv", None, options=stop_first)
        # The startup message reached it: kv ends on "stop" with its (empty) store.
        assert await asyncio.wait_for(connection.result(pid), 20) == {}
        # Named: the second spawn returns the running process and still delivers its messages.
        counting = SpawnOptions().with_name("counter-startup").with_message("hit")
        counter = await connection.spawn("app:counter", None, options=counting.with_message("hit"))
        again = await connection.spawn("app:counter", None, options=counting)
        await connection.send(counter, "stop")
        assert again == counter
        assert await asyncio.wait_for(connection.result(counter), 20) == 3
        with pytest.raises(WflowError) as info:
            await connection.spawn("app:kv", None, options=SpawnOptions(task_queue="elsewhere"))
        with pytest.raises(WflowError) as context_info:
            await connection.spawn("app:kv", None, options=SpawnOptions().with_context({"a": 1}))
    assert info.value.kind.value == "INVALID"
    assert info.value.message.startswith(
        "temporal.workflow.task_queue: not available when spawning process app:kv"
    )
    assert context_info.value.message.startswith("with_context: not available")
