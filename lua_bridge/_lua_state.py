"""The sandboxed `LuaRuntime` factory: Lua 5.4 via lupa, with the bridge's Lua code installed.

The runtime never exposes Python: no `python` module, no eval, no builtins, and an attribute
filter that refuses every attribute access. Python callables are handed only to the trusted
bridge code (`lua/protocol.lua`), which keeps them in upvalues behind Lua wrappers.

The bridge's Lua files are compiled once per process (`bridge_bytecode`). Every run loads the
core (`CORE_FILES`; the encoder, the pattern budget and the error, time, message, ... objects,
`LAZY_CORE_FILES`, when first used);
the modules user code reaches (`MODULE_FILES`: `funcs`, `time`,
`process`, ...) are loaded on their first `require` or use, through the `load_module`
operation, so a run pays memory only for the modules it uses.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

import lupa.lua54 as lupa54

from lua_bridge._chunks import FUNCTION_MODULES, WORKFLOW_MODULES, Chunk
from lua_bridge._limits import LuaLimits
from lua_bridge._lua_errors import LuaScriptError
from lua_bridge._protocol import HostFunctions, Side, operation_kinds
from wflow.model import ErrorKind, WflowError

__all__ = [
    "CORE_FILES",
    "LAZY_CORE_FILES",
    "LUA_VERSION",
    "MODULE_FILES",
    "HostAnswer",
    "LuaBridge",
    "bridge_bytecode",
    "compile_bytecode",
    "create_bridge",
    "module_bytecode",
]

LUA_VERSION = "Lua 5.4"
"""The one Lua version every worker runs (lupa's bundled `lua54`)."""

CORE_FILES = (
    "protocol.lua",  # B.ops from the declared protocol; the stash
    "sandbox.lua",  # budget, deterministic builtins, coroutines, environments, B.module
    "entry.lua",  # require, module globals, the entry runner
)
"""The bridge files every run loads, in order."""

LAZY_CORE_FILES = (
    "error_object",  # error objects (also built from Python: B.new_error)
    "time_object",  # time objects, calendar (B.new_time)
    "duration_object",  # duration objects (B.new_duration)
    "location_object",  # locations (B.UTC)
    "message_object",  # messages and events (B.new_message, B.new_event)
    "pattern_budget",  # user code's pattern calls within the budget (B.check_pattern)
    "codec",  # the Lua -> JSON encoder (B.encode, B.encode_list)
)
"""The bridge files (`lua/<name>.lua`) that only add fields to `B`, run when one is first read.

`lua/sandbox.lua` lists each one's fields; most runs never read them, and each file costs a
state ~7-30 KiB and its share of building and closing the state.
"""

MODULE_FILES = (
    "channel",
    "crypto",
    "ctx",
    "errors",
    "funcs",
    "json",
    "os",
    "process",
    "time",
    "uuid",
    "workflow",
)
"""The Lua modules (`lua/<name>.lua`) a run loads on first use."""


HostAnswer = Callable[[str, tuple[Any, ...]], Any]
"""Answers a host call: `answer(name, args)`."""


def _refuse_attribute(obj: Any, name: Any, is_setting: bool) -> Any:
    raise AttributeError("Python objects are not accessible from Lua")


@functools.cache
def bridge_bytecode() -> dict[str, bytes]:
    """Return every bridge Lua file compiled to bytecode, by file name (once per process).

    The core files come first, in load order, then the modules (`funcs.lua`, ...).
    """
    # Parsing the bridge costs ~4x more than loading its bytecode; do it once per process.
    folder = resources.files("lua_bridge") / "lua"
    names = (*CORE_FILES, *(f"{name}.lua" for name in (*LAZY_CORE_FILES, *MODULE_FILES)))
    # Without debug information (line numbers, local names): every run's state holds the
    # bridge's functions, and their debug information was ~20 KiB of each state's ~150.
    # `user_position` skips frames without a line as it skips the bridge's own.
    return {
        name: compile_bytecode(
            (folder / name).read_text(encoding="utf-8"), f"=wflow/{name}", strip=True
        )
        for name in names
    }


def module_bytecode(name: str) -> bytes:
    """Return the compiled Lua module `lua/<name>.lua` (or a lazily loaded core file).

    Raises:
        KeyError: There is no such bridge module.
    """
    if name not in MODULE_FILES and name not in LAZY_CORE_FILES:
        raise KeyError(f"no Lua bridge module {name!r}")
    return bridge_bytecode()[f"{name}.lua"]


_COMPILER_LOCK = threading.Lock()


@functools.cache
def _compiler() -> tuple[Any, Any]:
    """The process's one scratch Lua state that compiles (never runs) code, and its dumper."""
    scratch = lupa54.LuaRuntime(encoding=None, register_eval=False, register_builtins=False)
    return scratch, scratch.eval(b"string.dump")


@functools.lru_cache(maxsize=1024)
def compile_bytecode(source: str, chunkname: str, *, strip: bool = False) -> bytes:
    """Compile Lua source (text only) to bytecode for this process's Lua build.

    Cached by content: a run of an unchanged entry loads the bytecode compiled for the first
    run; a changed file (`wflow dev`) has new content and is compiled again. Compiling only
    parses, so one scratch state serves every compilation (it runs no code). `strip` drops
    the debug information (for the bridge's own code; user code keeps its line numbers).

    Raises:
        LuaScriptError: The source does not compile (`file.lua:line: message`).
    """
    scratch, dump = _compiler()
    with _COMPILER_LOCK:  # function calls compile from worker threads
        try:
            function = scratch.compile(
                source.encode("utf-8"), name=chunkname.encode("utf-8"), mode="t"
            )
        except lupa54.LuaError as exc:
            raw = exc.args[0] if exc.args else ""
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            raise LuaScriptError(text.removeprefix("error loading code: ")) from None
        code: bytes = dump(function, strip)
    return code


@functools.cache
def _error_kinds() -> tuple[tuple[str, ...], tuple[str, ...]]:
    kinds = tuple(kind.value for kind in ErrorKind)
    not_retryable = tuple(k for k in kinds if not WflowError("", k).retryable)
    return kinds, not_retryable


class LuaBridge:
    """A sandboxed Lua runtime with the bridge installed.

    Attributes:
        lua: The `lupa.lua54.LuaRuntime`.
        b: The bridge table (`B` in the Lua files): `step`, `start_entry`, `stash`, ...
    """

    def __init__(self, lua: Any, b: Any) -> None:
        self.lua = lua
        self.b = b


def _entries_table(lua: Any, chunks: Mapping[str, Chunk]) -> Any:
    """Return the Lua table of chunk descriptions `require` and `start_entry` load from."""
    entries = lua.table()
    for key, chunk in chunks.items():
        entries[key] = lua.table_from(
            {
                # The text only when there is no bytecode: each state keeps what it gets.
                "source": chunk.source if chunk.bytecode is None else None,
                "bytecode": chunk.bytecode,
                "chunkname": chunk.chunkname,
                "display": chunk.display,
                "modules": lua.table_from({name: True for name in chunk.modules}),
                "imports": lua.table_from(dict(chunk.imports)),
            }
        )
    return entries


@functools.lru_cache(maxsize=64)
def _served_kinds(side: Side, host_names: frozenset[str]) -> Mapping[str, str]:
    """The operations a state gets: every request of `side`, and the host calls it serves."""
    return {n: k for n, k in operation_kinds(side).items() if k == "request" or n in host_names}


def _names(host: Mapping[str, Callable[..., Any]]) -> frozenset[str]:
    # A run's host functions name the same operations every time: no need to list them again.
    if isinstance(host, HostFunctions):
        return host.names
    return frozenset(host)


def _dispatcher(
    host: Mapping[str, Callable[..., Any]],
    on_error: Callable[[BaseException], None] | None,
    answer: HostAnswer | None,
) -> Callable[..., Any]:
    """The one Python callable a state gets: `host(name, ...)` calls operation `name`.

    One callable instead of one per operation: each handed to Lua costs a lupa wrapper, a
    Lua userdata and a Lua closure in every state, and most runs call only a few of them.
    """
    if answer is None:
        get = host.__getitem__

        def call(name: str, args: tuple[Any, ...]) -> Any:
            return get(name)(*args)

        answer = call
    if on_error is None:

        def dispatch(name: str, *args: Any) -> Any:
            return answer(name, args)

        return dispatch

    def guarded(name: str, *args: Any) -> Any:
        try:
            return answer(name, args)
        except BaseException as exc:
            on_error(exc)
            raise

    return guarded


def create_bridge(
    *,
    where: str,
    host: Mapping[str, Callable[..., Any]],
    chunks: Mapping[str, Chunk],
    limits: LuaLimits,
    on_host_error: Callable[[BaseException], None] | None = None,
    answer: HostAnswer | None = None,
    random_seed: int | None = None,
    start_ns: int | None = None,
) -> LuaBridge:
    """Create a fresh, sandboxed Lua runtime for one run (`LuaRun` wraps it).

    Args:
        where: `"workflows"` or `"functions"`: which modules and operations exist.
        host: The host functions by operation name (`lua_bridge._protocol.HostFunctions`);
            an operation without one is absent on the Lua side. Looked up when Lua calls it.
        chunks: The entry's chunk and the libraries it imports, by key.
        limits: Memory and instruction limits.
        on_host_error: Told of every exception a host function raises (which then unwinds
            the Lua code as the bridge's HOSTFAIL error).
        answer: Answers host call `name` with `args` in place of `host[name](*args)`
            (`LuaRun`'s, which builds `LuaBuild`s and keeps the journal).
        random_seed: The seed of `math.random` (None: the state asks `random_seed`).
        start_ns: Where `os.clock` counts from, in Unix nanoseconds (None: it asks `now_ns`).

    Raises:
        lupa.lua54.LuaMemoryError: `limits.max_memory` is too small to start.
    """
    side: Side = "function" if where == "functions" else "workflow"
    lua = lupa54.LuaRuntime(
        encoding="utf-8",
        max_memory=limits.max_memory,
        register_eval=False,
        register_builtins=False,
        unpack_returned_tuples=True,
        attribute_filter=_refuse_attribute,
    )
    kinds, not_retryable = _error_kinds()
    cfg = lua.table_from(
        {
            "where": where,
            "ops": lua.table_from(_served_kinds(side, _names(host))),
            "host": _dispatcher(host, on_host_error, answer),
            "modules": lua.table_from(
                sorted(FUNCTION_MODULES if side == "function" else WORKFLOW_MODULES)
            ),
            "kinds": lua.table_from(kinds),
            "not_retryable": lua.table_from(not_retryable),
            "entries": _entries_table(lua, chunks),
            "max_instructions": limits.max_instructions,
            "random_seed": random_seed,
            "start_ns": start_ns,
        }
    )
    b = lua.table()
    for name in CORE_FILES:
        _run_core_file(lua, name, b, cfg)
    return LuaBridge(lua, b)


def _run_core_file(lua: Any, name: str, b: Any, cfg: Any) -> None:
    """Run core file `name` in a new state (`python -m bench.state_memory` measures each)."""
    lua.compile(bridge_bytecode()[name], name=f"=wflow/{name}", mode="b")(b, cfg)
