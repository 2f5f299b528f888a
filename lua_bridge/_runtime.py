"""The sandboxed `LuaRuntime` factory: Lua 5.4 via lupa, with the bridge's Lua code installed.

The runtime never exposes Python: no `python` module, no eval, no builtins, and an attribute
filter that refuses every attribute access. Python callables are handed only to the trusted
bridge code (`lua/*.lua`), which keeps them in upvalues behind Lua wrappers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

import lupa.lua54 as lupa54

from lua_bridge._entries import Chunk
from lua_bridge._errors import LuaScriptError
from lua_bridge._limits import LuaLimits
from wflow.model import ErrorKind, WflowError

__all__ = ["LUA_VERSION", "Bridge", "bridge_bytecode", "compile_bytecode", "create_bridge"]

LUA_VERSION = "Lua 5.4"
"""The one Lua version every worker runs (lupa's bundled `lua54`)."""

_BRIDGE_FILES = ("sandbox.lua", "values.lua", "modules.lua")


def _refuse_attribute(obj: Any, name: Any, is_setting: bool) -> Any:
    raise AttributeError("Python objects are not accessible from Lua")


@functools.cache
def _bridge_sources() -> tuple[tuple[str, str], ...]:
    folder = resources.files("lua_bridge") / "lua"
    return tuple((name, (folder / name).read_text(encoding="utf-8")) for name in _BRIDGE_FILES)


@functools.cache
def bridge_bytecode() -> tuple[tuple[str, bytes], ...]:
    """Return the bridge's Lua files compiled to bytecode (once per process)."""
    # Parsing the bridge costs ~4x more than loading its bytecode; do it once per process.
    return tuple(
        (name, compile_bytecode(source, f"=wflow/{name}")) for name, source in _bridge_sources()
    )


def compile_bytecode(source: str, chunkname: str) -> bytes:
    """Compile Lua source (text only) to bytecode for this process's Lua build.

    Raises:
        LuaScriptError: The source does not compile (`file.lua:line: message`).
    """
    scratch = lupa54.LuaRuntime(encoding=None, register_eval=False, register_builtins=False)
    try:
        function = scratch.compile(source.encode("utf-8"), name=chunkname.encode("utf-8"), mode="t")
    except lupa54.LuaError as exc:
        raw = exc.args[0] if exc.args else ""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        raise LuaScriptError(text.removeprefix("error loading code: ")) from None
    code: bytes = scratch.eval(b"string.dump")(function)
    return code


@functools.cache
def _error_kinds() -> tuple[tuple[str, ...], tuple[str, ...]]:
    kinds = tuple(kind.value for kind in ErrorKind)
    not_retryable = tuple(k for k in kinds if not WflowError("", k).retryable)
    return kinds, not_retryable


class Bridge:
    """A Lua runtime with the bridge installed.

    Attributes:
        lua: The `lupa.lua54.LuaRuntime`.
        b: The bridge table (`B` in the Lua files): `step`, `start_entry`, `stash`, ...
    """

    def __init__(self, lua: Any, b: Any) -> None:
        self.lua = lua
        self.b = b


def create_bridge(
    *,
    where: str,
    host: Mapping[str, Callable[..., Any]],
    chunks: Mapping[str, Chunk],
    limits: LuaLimits,
) -> Bridge:
    """Create a fresh, sandboxed Lua runtime for one run.

    Args:
        where: `"workflows"` or `"functions"`: which modules exist and how messages read.
        host: Python callables the Lua modules call (`now_ns`, `uuid4`, `parse_ms`, ...).
        chunks: The entry's chunk and the libraries it imports, by key.
        limits: Memory and instruction limits.
    """
    lua = lupa54.LuaRuntime(
        encoding="utf-8",
        max_memory=limits.max_memory,
        register_eval=False,
        register_builtins=False,
        unpack_returned_tuples=True,
        attribute_filter=_refuse_attribute,
    )
    kinds, not_retryable = _error_kinds()
    entries = lua.table()
    for key, chunk in chunks.items():
        entries[key] = lua.table_from(
            {
                "source": chunk.source,
                "bytecode": chunk.bytecode,
                "chunkname": chunk.chunkname,
                "display": chunk.display,
                "modules": lua.table_from({name: True for name in chunk.modules}),
                "imports": lua.table_from(dict(chunk.imports)),
            }
        )
    cfg = lua.table_from(
        {
            "where": where,
            "host": lua.table_from(dict(host)),
            "kinds": lua.table_from(kinds),
            "not_retryable": lua.table_from(not_retryable),
            "entries": entries,
            "max_instructions": limits.max_instructions,
        }
    )
    b = lua.table()
    for name, code in bridge_bytecode():
        lua.compile(code, name=f"=wflow/{name}", mode="b")(b, cfg)
    return Bridge(lua, b)
