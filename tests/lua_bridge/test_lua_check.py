"""LuaEngine.check: problems reported at file:line without running the workflow."""

from __future__ import annotations

import shutil
from pathlib import Path

from lua_bridge import LuaEngine, LuaProblem
from tests.helpers.fakes import FIXTURES, FakeEntry, FakeLimits, FakeRegistry, lua_entry

YAML = Path("/project/_index.yaml")


def check(entry: FakeEntry, registry: FakeRegistry | None = None) -> list[LuaProblem]:
    return LuaEngine().check(entry, registry)


def test_good_entries_have_no_problems(tmp_path: Path) -> None:
    assert check(lua_entry(tmp_path, "return function() return 1 end")) == []
    assert check(lua_entry(tmp_path, "local M = {}\nfunction M.main() end\nreturn M")) == []


def test_seed_scripts_have_no_problems(tmp_path: Path) -> None:
    for name in ("order", "saga"):
        shutil.copy(FIXTURES / f"{name}.lua", tmp_path / f"{name}.lua")
        entry = FakeEntry(
            id=f"app:{name}", path=tmp_path / f"{name}.lua", modules=["funcs", "time"]
        )
        assert check(entry) == []


def test_unreadable_source_is_reported_at_the_yaml_entry(tmp_path: Path) -> None:
    entry = FakeEntry(id="app:gone", path=tmp_path / "gone.lua")
    [problem] = check(entry)
    assert (problem.file, problem.line, problem.entry_id) == (YAML, 7, "app:gone")
    assert "cannot read Lua source" in problem.message


def test_syntax_error_is_reported_at_the_lua_line(tmp_path: Path) -> None:
    entry = lua_entry(tmp_path, "local a = 1\n\nlocal b = = 2\n", name="order")
    [problem] = check(entry)
    assert problem.file == tmp_path / "order.lua"
    assert problem.line == 3
    assert "unexpected symbol near '='" in problem.message


def test_missing_method(tmp_path: Path) -> None:
    entry = lua_entry(tmp_path, "return {other = function() end}", method="main")
    [problem] = check(entry)
    assert "method 'main' not found" in problem.message
    assert problem.file == YAML


def test_bad_modules(tmp_path: Path) -> None:
    entry = lua_entry(tmp_path, "return 1", modules=["funcs", "io", "nosuch"])
    messages = [p.message for p in check(entry)]
    assert messages == [
        "modules: 'io' is not available in workflows",
        "modules: unknown module 'nosuch' (available in workflows: channel, crypto, ctx, errors, "
        "funcs, json, process, time, uuid, workflow)",
    ]
    fn = lua_entry(tmp_path, "return 1", kind="function.lua", modules=["workflow"])
    assert [p.message for p in check(fn)] == ["modules: 'workflow' is only available in workflows"]


def test_disallowed_require_at_top_level(tmp_path: Path) -> None:
    entry = lua_entry(tmp_path, "local x = 1\nlocal t = require('time')\nreturn function() end",
                      modules=["funcs"])  # fmt: skip
    [problem] = check(entry)
    assert problem.file == tmp_path / "wf.lua"
    assert problem.line == 2
    assert problem.message.startswith("require: module 'time' is not in this entry's modules")


def test_runtime_errors_depending_on_args_are_not_reported(tmp_path: Path) -> None:
    assert check(lua_entry(tmp_path, "local order = ...\nreturn order.id")) == []


def test_bad_limits(tmp_path: Path) -> None:
    entry = lua_entry(tmp_path, "return 1", limits=FakeLimits(max_memory="lots"))
    assert [p.message for p in check(entry)] == [
        "limits: invalid memory size 'lots' (expected e.g. 67108864 or \"64MiB\")"
    ]


def test_imports(tmp_path: Path) -> None:
    lib_path = tmp_path / "lib.lua"
    lib_path.write_text("return {x = = 1}")
    lib = FakeEntry(id="app:lib", path=lib_path, kind="library.lua")
    entry = lua_entry(tmp_path, "return 1", imports={"lib": "lib"})
    [problem] = check(entry, FakeRegistry(entry, lib))
    assert (problem.file, problem.line) == (lib_path, 1)
    missing = lua_entry(tmp_path, "return 1", imports={"lib": "app:nope"})
    [problem] = check(missing, FakeRegistry(missing))
    assert problem.message == "app:wf: import 'lib': unknown entry 'app:nope'"
