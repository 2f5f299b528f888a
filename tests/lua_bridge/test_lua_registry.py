"""The engine against real `wflow.registry` entries (the protocols match the real models)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers.fakes import FIXTURES
from wflow.testing import FakeRuntime

registry_module = pytest.importorskip("wflow.registry")

YAML = """\
version: "1.0"
namespace: app.workflows
entries:
  - name: order_processor
    kind: workflow.lua
    source: file://order.lua
    method: main
    modules: [funcs, time]
    imports:
      util: util
    limits:
      max_memory: 32MiB
      max_instructions: 1000000
  - name: util
    kind: library.lua
    source: file://util.lua
"""


async def test_real_registry_entries(tmp_path: Path) -> None:
    from lua_bridge import LuaEngine

    shutil.copy(FIXTURES / "order.lua", tmp_path / "order.lua")
    (tmp_path / "util.lua").write_text("return {}")
    (tmp_path / "_index.yaml").write_text(YAML)
    registry = registry_module.load_project(tmp_path)
    entry = registry.get("app.workflows:order_processor")
    engine = LuaEngine()
    assert engine.check(entry, registry) == []
    program = engine.workflow_program(entry, registry)
    assert program.limits.max_memory == 32 * 1024 * 1024
    assert program.limits.max_instructions == 1_000_000
    runtime = FakeRuntime({"app.api:charge_card": {"id": "c"}, "app.api:check_status": "ok"})
    await program.run(runtime, [])
    assert [t for t, _, _ in runtime.calls] == ["app.api:charge_card", "app.api:check_status"]
