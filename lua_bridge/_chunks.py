"""How a registry entry becomes Lua chunks: its source and the libraries it imports.

Entries are typed with the registry's own classes; at run time any object with the same
attributes will do (the tests pass small fakes), so nothing here checks an entry's class.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lua_bridge._lua_errors import LuaScriptError

if TYPE_CHECKING:
    from wflow.registry import LuaEntry, Registry

__all__ = [
    "FUNCTION_MODULES",
    "WORKFLOW_MODULES",
    "Chunk",
    "collect_chunks",
    "entry_chunk",
    "read_source",
]

WORKFLOW_MODULES = frozenset(
    {"funcs", "time", "uuid", "json", "errors", "workflow", "channel", "process", "ctx", "crypto"}
)
"""Module names a `workflow.lua` (or a library it imports) may list in `modules`.

`errors`, `channel` and `process` are globals too and may be required without being listed.
"""

FUNCTION_MODULES = frozenset(
    {"funcs", "time", "uuid", "json", "errors", "process", "ctx", "crypto"}
)
"""Module names a `function.lua` may list (`funcs.call` itself is workflow-only for now)."""


@dataclasses.dataclass(frozen=True)
class Chunk:
    """One Lua source file as the runtime loads it.

    Attributes:
        key: The entry ID (the key `require` resolves imports to).
        source: The Lua source text.
        chunkname: `@` + `display`, so Lua messages read `order.lua:12: ...`.
        display: The source as the entry writes it, without `file://` (`order.lua`).
        modules: The entry's `modules` list.
        imports: Local name -> key of the imported library chunk.
        path: The source file.
        bytecode: The compiled chunk (set once per process by the engine), or None.
    """

    key: str
    source: str
    chunkname: str
    display: str
    modules: tuple[str, ...]
    imports: Mapping[str, str]
    path: Path
    bytecode: bytes | None = None


_SOURCE_CACHE: dict[Path, tuple[int, int, str]] = {}


def read_source(path: Path) -> str:
    """Read a Lua file, cached per process while its size and mtime stay the same.

    Raises:
        OSError: The file cannot be read.
        UnicodeDecodeError: The file is not UTF-8.
    """
    resolved = path.resolve()
    stat = os.stat(resolved)
    cached = _SOURCE_CACHE.get(resolved)
    if cached is not None and cached[0] == stat.st_mtime_ns and cached[1] == stat.st_size:
        return cached[2]
    text = resolved.read_text(encoding="utf-8")
    _SOURCE_CACHE[resolved] = (stat.st_mtime_ns, stat.st_size, text)
    return text


def _lookup(registry: Registry, ref: str, namespace: str) -> Any:
    try:
        found: Any = registry.resolve(ref, namespace)
        if isinstance(found, str):  # wflow.registry resolves to the entry ID
            found = registry.get(found)
    except Exception:  # the registry signals "missing" its own way (WflowError NOT_FOUND)
        return None
    return found


def entry_chunk(entry: LuaEntry, imports: Mapping[str, str]) -> Chunk:
    """Read one entry's source into a `Chunk`.

    Raises:
        LuaScriptError: The source cannot be read.
    """
    path = entry.source_path()
    try:
        source = read_source(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise LuaScriptError(f"{entry.id}: cannot read Lua source {path}: {exc}") from None
    display = str(getattr(entry, "source", "") or "").removeprefix("file://") or path.name
    return Chunk(
        key=entry.id,
        source=source,
        chunkname="@" + display,
        display=display,
        modules=tuple(entry.modules or ()),
        imports=dict(imports),
        path=path,
    )


def collect_chunks(entry: LuaEntry, registry: Registry | None) -> dict[str, Chunk]:
    """Read an entry and, transitively, the `library.lua` entries it imports.

    Returns:
        Chunks by key; the entry itself is under `entry.id`.

    Raises:
        LuaScriptError: A source cannot be read or an import does not resolve to a
            `library.lua` entry.
    """
    chunks: dict[str, Chunk] = {}
    pending: list[LuaEntry] = [entry]
    while pending:
        current = pending.pop()
        if current.id in chunks:
            continue
        resolved: dict[str, str] = {}
        for local_name, ref in dict(current.imports or {}).items():
            if registry is None:
                raise LuaScriptError(f"{current.id}: imports need a registry to resolve {ref!r}")
            target = _lookup(registry, ref, current.namespace)
            if target is None:
                raise LuaScriptError(f"{current.id}: import {local_name!r}: unknown entry {ref!r}")
            if getattr(target, "kind", None) != "library.lua":
                raise LuaScriptError(
                    f"{current.id}: import {local_name!r}: {target.id} is a "
                    f"{getattr(target, 'kind', '?')} entry, not a library.lua"
                )
            resolved[local_name] = target.id
            pending.append(target)
        chunks[current.id] = entry_chunk(current, resolved)
    return chunks
