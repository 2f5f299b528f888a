"""Runs of one loaded program share compiled code, never state; a changed file is reloaded.

The engine compiles an entry once per process and reuses it for every run of the entry while
its files stay the same (`LuaEngine` caches by entry and file stamps, `compile_bytecode` by
content); each run still gets its own Lua state.
"""

from __future__ import annotations

import os
from pathlib import Path

from lua_bridge import LuaEngine
from tests.helpers.fakes import FakeEntry, FakeLimits, FakeRegistry, lua_entry
from wflow.testing import FakeRuntime

COUNTER = """
counter = (counter or 0) + 1
string.shared = (string.shared or 0) + 1
local lib = require("lib")
lib.calls = lib.calls + 1
return function()
  return {counter = counter, shared = string.shared, lib_calls = lib.calls}
end
"""

LIB = """
return {calls = 0}
"""


async def test_runs_of_one_program_start_from_fresh_globals_and_libraries(tmp_path: Path) -> None:
    (tmp_path / "lib.lua").write_text(LIB, encoding="utf-8")
    lib = FakeEntry(id="app:lib", path=tmp_path / "lib.lua", kind="library.lua")
    entry = lua_entry(tmp_path, COUNTER, imports={"lib": "app:lib"})
    registry = FakeRegistry(entry, lib)
    engine = LuaEngine()
    results = []
    for _ in range(3):
        program = engine.workflow_program(entry, registry)  # type: ignore[arg-type]
        results.append(await program.run(FakeRuntime(), []))
    assert results == [{"counter": 1, "shared": 1, "lib_calls": 1}] * 3


async def test_each_run_has_its_own_memory_limit(tmp_path: Path) -> None:
    # A run that leaves much memory behind (in a global) does not count against the next.
    source = """
    big = {}
    for i = 1, 20000 do big[i] = ("x"):rep(20) .. i end
    return function() return #big end
    """
    entry = lua_entry(tmp_path, source, limits=FakeLimits(max_memory="4MB"))
    engine = LuaEngine()
    for _ in range(3):
        program = engine.workflow_program(entry, None)  # type: ignore[arg-type]
        assert await program.run(FakeRuntime(), []) == 20000


async def test_a_changed_file_is_loaded_again(tmp_path: Path) -> None:
    # `wflow dev` reloads files in place: the same entry runs the new code.
    entry = lua_entry(tmp_path, "return function() return 'first' end")
    engine = LuaEngine()
    assert await engine.workflow_program(entry, None).run(FakeRuntime(), []) == "first"  # type: ignore[arg-type]
    entry.path.write_text("return function() return 'second version' end", encoding="utf-8")
    stat = entry.path.stat()
    os.utime(entry.path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    program = engine.workflow_program(entry, None)  # type: ignore[arg-type]
    assert await program.run(FakeRuntime(), []) == "second version"
