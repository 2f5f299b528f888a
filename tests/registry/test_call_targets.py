"""Literal call targets against the registry (shared by the Lua and Python checks), and the
Python DSL check of `wflow validate` (`PythonEngine.check`)."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

from wflow.dsl import PythonEngine
from wflow.registry import (
    FunctionLuaEntry,
    Registry,
    TemporalWorkerEntry,
    WorkflowLuaEntry,
    load_project,
)
from wflow.registry._call_targets import target_problems


def registry() -> Registry:
    return Registry(
        [
            TemporalWorkerEntry(name="w", task_queue="q").place("app"),
            FunctionLuaEntry(name="charge", source="file://c.lua").place("app.api"),
            WorkflowLuaEntry(name="order", source="file://o.lua").place("app"),
        ]
    )


def test_suggestions_are_public() -> None:
    reg = registry()
    assert reg.suggest("app.api:chrage") == " (did you mean 'app.api:charge'?)"
    assert reg.suggest("app.api:chrage", ("workflow.lua",)) == ""
    assert Registry.suggest_name("slep", ["sleep", "now"]) == " (did you mean 'sleep'?)"
    assert Registry.suggest_name("zzz", ["sleep"]) == ""


def test_target_problems() -> None:
    reg = registry()
    assert target_problems(reg, "app", "funcs.call", "app.api:charge", "function") == []
    assert target_problems(reg, "app.api", "funcs.call", "charge", "function") == []
    assert target_problems(reg, "app", "funcs.call", "app.api:chrage", "function") == [
        "funcs.call(\"app.api:chrage\"): no entry 'app.api:chrage' (did you mean 'app.api:charge'?)"
    ]
    assert target_problems(reg, "app", "workflow.exec", "app.api:charge", "workflow") == [
        "workflow.exec(\"app.api:charge\"): 'app.api:charge' is a function.lua entry, "
        "expected workflow.lua or workflow.py"
    ]
    # A bare name with no known namespace (a library's call) is left alone.
    assert target_problems(reg, None, "funcs.call", "chrage", "function") == []


def test_a_registry_without_entries_of_the_kind_is_a_fragment() -> None:
    reg = Registry([WorkflowLuaEntry(name="order", source="file://o.lua").place("app")])
    assert target_problems(reg, "app", "funcs.call", "app.api:charge", "function") == []


def _project(tmp_path: Path, module_body: str, entries: str) -> tuple[Registry, Path]:
    module = f"pycalls_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(module_body))
    (tmp_path / "_index.yaml").write_text(
        textwrap.dedent(
            """\
            version: "1.0"
            namespace: app
            entries:
              - name: w
                kind: temporal.worker
                task_queue: q
              - name: charge
                kind: function.lua
                source: file://c.lua
            """
        )
        + textwrap.indent(textwrap.dedent(entries).replace("MODULE", module), "  ")
    )
    (tmp_path / "c.lua").write_text("return 1\n")
    return load_project(tmp_path), tmp_path / f"{module}.py"


def test_python_problems_belong_to_one_entry_each(tmp_path: Path) -> None:
    reg, path = _project(
        tmp_path,
        """\
        import wflow.dsl.funcs as f


        async def helper():
            return await f.call("app:chrage")


        async def one():
            return await f.call("app:charge")


        async def two():
            return await f.start("app:nope")
        """,
        """\
        - name: one
          kind: workflow.py
          module: MODULE
          method: one
        - name: two
          kind: workflow.py
          module: MODULE
          method: two
        """,
    )
    engine = PythonEngine()
    one = [(p.file, p.line, p.message) for p in engine.check(reg.get("app:one"), reg)]
    two = [(p.file, p.line, p.message) for p in engine.check(reg.get("app:two"), reg)]
    # The helper belongs to no entry: reported once, with the module's first entry.
    assert one == [
        (
            path,
            5,
            "funcs.call(\"app:chrage\"): no entry 'app:chrage' (did you mean 'app:charge'?)",
        )
    ]
    assert two == [(path, 13, "funcs.start(\"app:nope\"): no entry 'app:nope'")]


def test_python_rebound_names_are_left_alone(tmp_path: Path) -> None:
    reg, _ = _project(
        tmp_path,
        """\
        from wflow import funcs, process

        funcs = None


        async def one(process):
            await process.spwan("app:x")
            return funcs.cal("app:nope")
        """,
        """\
        - name: one
          kind: workflow.py
          module: MODULE
          method: one
        """,
    )
    assert PythonEngine().check(reg.get("app:one"), reg) == []
