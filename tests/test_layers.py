"""The direction of imports between layers (docs/architecture.md), checked on the source.

A layer may import the ones listed for it and itself, nothing else of wflow/lua_bridge; the
Temporal executor and the CLI never import Lua. Imports under `if TYPE_CHECKING:` are types
only and are allowed to point anywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers.paths import REPO

OURS = ("wflow", "lua_bridge", "lupa")

ALLOWED: dict[str, set[str]] = {
    "wflow.model": set(),
    "wflow.registry": {"wflow.model"},
    "wflow.dsl": {"wflow.model", "wflow.registry"},
    "wflow.temporal": {"wflow.model", "wflow.registry"},
    "lua_bridge": {"wflow.model", "wflow.registry", "lupa"},
    "wflow.testing": {"wflow.model", "wflow.registry", "wflow.temporal", "wflow.dsl"},
    "wflow.cli": {"wflow.model", "wflow.registry", "wflow.temporal", "wflow.dsl"},
    # The package's face re-exports the DSL and the connection API.
    "wflow": {"wflow.model", "wflow.registry", "wflow.dsl", "wflow.temporal"},
}


def _layer(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "lua_bridge":
        return "lua_bridge"
    if parts[0] == "lupa":
        return "lupa"
    if len(parts) > 1 and f"wflow.{parts[1]}" in ALLOWED:
        return f"wflow.{parts[1]}"
    return "wflow"


def _runtime_imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(child) for child in ast.walk(node))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return [(line, name) for line, name in found if name.split(".")[0] in OURS]


def _modules() -> list[tuple[str, Path]]:
    out = []
    for package in ("wflow", "lua_bridge"):
        for path in sorted((REPO / package).rglob("*.py")):
            relative = path.relative_to(REPO).with_suffix("")
            name = ".".join(part for part in relative.parts if part != "__init__")
            out.append((name, path))
    return out


@pytest.mark.parametrize(("module", "path"), _modules(), ids=lambda v: str(v))
def test_imports_follow_the_layers(module: str, path: Path) -> None:
    layer = _layer(module)
    allowed = ALLOWED[layer] | {layer}
    wrong = [
        f"{path.relative_to(REPO)}:{line}: imports {name} ({_layer(name)})"
        for line, name in _runtime_imports(path)
        if _layer(name) not in allowed
    ]
    assert wrong == []
