"""Monitors and links on `FakeRuntime` (the testing kit), as on Temporal: every child reports
EXIT, a trapped link failure is LINK_DOWN first, an untrapped one is recorded."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.fakes import run_workflow
from wflow.model import ErrorKind, WflowError
from wflow.testing import FakeRuntime


async def test_trapped_and_untrapped_link_failures_on_the_fake(tmp_path: Path) -> None:
    runtime = FakeRuntime(children={"app:bad": WflowError("no", ErrorKind.CONFLICT)})
    src = """
    process.set_options({trap_links = true})
    local pid = process.spawn_linked("app:bad", nil)
    local events = process.events()
    local first, second = events:receive(), events:receive()
    process.set_options({trap_links = false})
    local other = process.spawn_linked("app:bad", nil)
    local third = events:receive()
    return {first.kind, second.kind, first.from == pid, third.kind, third.from == other}
    """
    result = await run_workflow(tmp_path, src, runtime=runtime)
    assert result == ["LINK_DOWN", "EXIT", True, "EXIT", True]
    assert [call for call, _ in runtime.peer_calls] == ["link", "link"]
    assert [e.kind for e in runtime.link_failures] == [ErrorKind.CANCELED]
