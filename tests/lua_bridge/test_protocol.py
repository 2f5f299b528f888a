"""The Lua<->host protocol is declared once: the Lua files use exactly the declared operations."""

from __future__ import annotations

import re
from importlib import resources

from lua_bridge import OPERATIONS

# `ops.name(...)`, or `rawget(ops, "name")` for an operation that exists on one side only.
_USE = re.compile(r"\bops\.([a-z_0-9]+)\b|rawget\(ops, \"([a-z_0-9]+)\"\)")


def _uses(text: str) -> list[str]:
    return [dotted or quoted for dotted, quoted in _USE.findall(text)]


def _lua_sources() -> dict[str, str]:
    folder = resources.files("lua_bridge") / "lua"
    return {
        item.name: item.read_text(encoding="utf-8")
        for item in folder.iterdir()
        if item.name.endswith(".lua")
    }


def test_every_operation_the_lua_side_uses_is_declared() -> None:
    declared = {op.name for op in OPERATIONS}
    used = {(name, match) for name, text in _lua_sources().items() for match in _uses(text)}
    undeclared = sorted((name, op) for name, op in used if op not in declared)
    assert undeclared == []


def test_every_declared_operation_is_used_by_some_lua_module() -> None:
    used = {match for text in _lua_sources().values() for match in _uses(text)}
    assert sorted(op.name for op in OPERATIONS if op.name not in used) == []


def test_operation_names_are_unique_and_say_what_they_do() -> None:
    names = [op.name for op in OPERATIONS]
    assert len(names) == len(set(names))
    # The old abbreviations (psend, pc_spawn, p_pid, ...) are gone for good.
    assert not [name for name in names if re.match(r"^(p|pc)_|^p[a-z]+$", name)]
    for op in OPERATIONS:
        assert op.sides, op.name
        assert set(op.sides) <= {"workflow", "function"}, op.name
        assert set(op.sides.values()) <= {"request", "host"}, op.name
        assert op.doc, op.name
