"""Payload codecs and the payload size limit, on the dev server.

The seed's saga (Lua) and its Python twin run with `[compression, encryption]` on the client:
results come back intact, while the payloads stored in the server's history are encrypted and
unreadable to a client without the key. A payload over Temporal's size limit is refused before
it is sent, naming the entry, the argument and the size.
"""

from __future__ import annotations

import base64
import os
import textwrap
import uuid
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import Client

from tests.helpers.production import ORDERS_LUA, with_entries
from wflow.model import ErrorKind, WflowError
from wflow.registry import load_project
from wflow.temporal import Session, call_steps, connect, replay_history
from wflow.temporal._codecs import AesGcmCodec
from wflow.testing import EmbeddedDevServer

pytestmark = pytest.mark.timeout(120)

KEY_ENV = "WFLOW_TEST_PAYLOAD_KEY"


def _payloads(message: object) -> list[Payload]:
    from wflow.temporal._codecs import _payloads_in

    found: list[Payload] = []
    _payloads_in(message, found)  # type: ignore[arg-type]
    return found


@pytest.mark.parametrize("entry", ["app.workflows:order_saga", "app.twins:order_saga"])
async def test_encrypted_payloads_round_trip_and_are_unreadable_without_the_key(
    dev_server: EmbeddedDevServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    entry: str,
) -> None:
    monkeypatch.setenv("WFLOW_EXAMPLE_LEDGER", str(tmp_path / "ledger.sqlite3"))
    key = os.urandom(32)
    monkeypatch.setenv(KEY_ENV, base64.b64encode(key).decode())
    registry = with_entries(
        ORDERS_LUA,
        client={
            "codecs": [
                {"type": "compression"},
                {"type": "encryption", "key_env": KEY_ENV, "key_id": "k1"},
            ]
        },
    )
    async with Session(registry, address=dev_server.address) as session:
        handle = await session.start(entry, [])
        result = await session.result(handle)
    assert set(result) == {"inventory", "payment", "shipping"}

    # The stored history, read by a client without the codec: every activity input and
    # result, and the workflow's result, is encrypted; no plain JSON of them is there.
    plain = await Client.connect(dev_server.address)
    history = await plain.get_workflow_handle(handle.id).fetch_history()
    stored: list[Payload] = []
    for event in history.events:
        for field in (
            "activity_task_scheduled_event_attributes",
            "activity_task_completed_event_attributes",
            "workflow_execution_completed_event_attributes",
        ):
            if event.HasField(field):
                stored.extend(_payloads(getattr(event, field)))
    assert len(stored) >= 4  # the three calls' results and the workflow's, at least
    encodings = {p.metadata.get("encoding") for p in stored}
    assert encodings == {b"binary/encrypted"}, encodings
    assert not any(b"inventory" in p.data or b"shipping" in p.data for p in stored)
    # Without the key nothing decodes them; wflow's `history` reader shows their encoding only.
    steps_without_key = call_steps(history)
    assert all(
        str(s.result).startswith("<binary/encrypted payload")
        for s in steps_without_key
        if s.kind == "call"
    )
    with pytest.raises(WflowError) as wrong:
        await AesGcmCodec(os.urandom(32), "k1").decode(stored[-1:])
    assert wrong.value.kind is ErrorKind.PERMISSION_DENIED

    # wflow's own readers decode with the client's codec: `wflow history` shows the values.
    connection = await connect(registry, address=dev_server.address)
    pid = await connection.resolve(handle.id)
    steps = call_steps(await connection.history(pid))
    calls = [step.name for step in steps if step.kind == "call"]
    assert calls[:3] == ["app.inventory:reserve", "app.payments:charge", "app.shipping:create"]
    assert steps[-1].kind == "completed" and set(steps[-1].result) == set(result)

    # `wflow replay` of the history as the server stores it (encrypted): the project's codecs
    # decode it, and the unchanged code replays it.
    outcome = await replay_history(registry, history)
    assert outcome.status == "ok", outcome.message


def test_an_unset_key_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from wflow.temporal._codecs import build_codec

    monkeypatch.delenv(KEY_ENV, raising=False)
    registry = with_entries(
        ORDERS_LUA, client={"codecs": [{"type": "encryption", "key_env": KEY_ENV}]}
    )
    with pytest.raises(WflowError) as error:
        build_codec(registry.clients()[0])
    assert f"encryption key variable {KEY_ENV} is not set" in error.value.message
    assert "temporal.client app:temporal_client" in error.value.message


BIG = 3 * 1024 * 1024

LUA = """
local funcs = require("funcs")
return function(size)
  local big = string.rep("x", size)
  local value, err = funcs.call("app:echo", big)
  return {value = value, error = err and err:message(), kind = err and err:kind()}
end
"""


def _project(root: Path, module: str) -> Path:
    root.mkdir(parents=True)
    (root / "_index.yaml").write_text(
        textwrap.dedent(
            f"""
            version: "1.0"
            namespace: app
            entries:
              - name: worker
                kind: temporal.worker
                task_queue: "sizes-{uuid.uuid4().hex[:8]}"
              - name: big_call
                kind: workflow.lua
                source: file://big_call.lua
                modules: [funcs]
              - name: echo
                kind: function.py
                module: {module}
                method: echo
            """
        ).lstrip()
    )
    (root / "big_call.lua").write_text(LUA)
    (root / f"{module}.py").write_text("def echo(value):\n    return len(value)\n")
    return root


async def test_a_payload_over_the_size_limit_is_refused_before_sending(
    dev_server: EmbeddedDevServer, tmp_path: Path
) -> None:
    module = f"sizes_{uuid.uuid4().hex[:8]}"
    registry = load_project(_project(tmp_path / "p", module))
    async with Session(registry, address=dev_server.address) as session:
        # From a client: the start is refused, nothing reaches the server.
        with pytest.raises(WflowError) as error:
            await session.start("app:big_call", ["x" * BIG])
        message = error.value.message
        assert message.startswith("app:big_call: argument 1 is 3.0 MiB (314")
        assert "over Temporal's payload size limit of 2.0 MiB (2097152 bytes)" in message
        assert error.value.kind is ErrorKind.INVALID

        # From a Lua workflow: funcs.call answers nil, err; no activity is scheduled.
        handle = await session.start("app:big_call", [BIG])
        result = await session.result(handle)
        assert "value" not in result and result["kind"] == "INVALID"
        assert result["error"].startswith("app:echo: argument 1 is 3.0 MiB (314")
        history = await handle.fetch_history()
        assert not any(
            e.HasField("activity_task_scheduled_event_attributes") for e in history.events
        )

        # A small one goes through.
        small = await session.result(await session.start("app:big_call", [10]))
        assert small["value"] == 10
