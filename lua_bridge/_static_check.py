"""Validation of Lua entries without running them (`wflow validate`).

Besides syntax and the `modules` list, the checker runs the file's top level in the sandbox
with the host calls every run has (`LuaRun`'s, on a fixed clock) and a refusal for every other
operation of `_protocol.OPERATIONS`; it stops at the first request (an intercepted call).

It also reads the file's calls (`_call_scan.py`): a literal target of `funcs.call/async`,
`process.spawn/spawn_monitored/exec`, `workflow.exec` (and of executors and spawners) that
names no entry of the right kind, or a function no started worker serves; and a module name
that does not exist (`funcs.cal`, `time.slep`), each at `file.lua:line` with a suggestion.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from lua_bridge._call_scan import scan
from lua_bridge._chunks import FUNCTION_MODULES, WORKFLOW_MODULES, Chunk, collect_chunks
from lua_bridge._limits import LuaLimits
from lua_bridge._lua_errors import LuaResourceError, LuaScriptError
from lua_bridge._lua_run import LuaRun
from lua_bridge._lua_state import MODULE_FILES, compile_bytecode
from lua_bridge._protocol import Operation
from wflow.model import WorkflowInfo
from wflow.registry import Problem, Registry
from wflow.registry._call_targets import target_problems

if TYPE_CHECKING:
    from wflow.registry import LuaEntry, LuaProgramEntry

__all__ = ["LuaProblem", "call_problems", "check_entry", "module_members", "syntax_error"]

_STDLIB_TABLES = ("coroutine", "math", "string", "table", "utf8")
# Listing a module's names in a message is useful while the list is short.
_LIST_AT_MOST = 16

_FORBIDDEN_MODULES = frozenset({"io", "os", "debug", "package", "ffi", "jit", "python"})
_POSITION = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<message>.*)$", re.DOTALL)
_CHECK_INSTRUCTIONS = 5_000_000


LuaProblem = Problem
"""The problems `LuaEngine.check` reports are the registry's `wflow.registry.Problem`."""


def syntax_error(chunk: Chunk) -> str | None:
    """Return Lua's `file:line: message` for a syntax error in `chunk`, or None."""
    try:
        compile_bytecode(chunk.source, chunk.chunkname)
    except LuaScriptError as exc:
        return exc.message
    return None


def _positioned(
    text: str, entry_id: str, fallback: Problem, chunks: dict[str, Chunk] | None = None
) -> Problem:
    first = text.strip().splitlines()[0] if text.strip() else text
    match = _POSITION.match(first)
    if match:
        file = Path(match["file"])
        for chunk in (chunks or {}).values():
            if chunk.display == match["file"]:
                file = chunk.path
        return Problem(file, int(match["line"]), match["message"], entry_id)
    return dataclasses.replace(fallback, message=text)


class _CheckClock:
    def info(self) -> WorkflowInfo:
        return WorkflowInfo("check", "check", "check", "check", "default", 1, 0, "check")

    def now(self) -> datetime:
        return datetime(2000, 1, 1, tzinfo=timezone.utc)

    def uuid4(self) -> uuid.UUID:
        return uuid.UUID(int=0)

    def uuid7(self) -> uuid.UUID:
        return uuid.UUID(int=0)

    def random_seed(self) -> int:
        return 0


def _allowed_modules(kind: str) -> frozenset[str]:
    return FUNCTION_MODULES if kind == "function.lua" else WORKFLOW_MODULES


def _module_problems(entry: LuaEntry) -> list[str]:
    """Return what is wrong with the entry's `modules` list, one message per name."""
    where = "functions" if entry.kind == "function.lua" else "workflows"
    allowed = _allowed_modules(entry.kind)
    messages = []
    for name in entry.modules or ():
        if name in allowed:
            continue
        if name in _FORBIDDEN_MODULES:
            messages.append(f"modules: {name!r} is not available in {where}")
        elif name in WORKFLOW_MODULES:
            messages.append(f"modules: {name!r} is only available in workflows")
        else:
            messages.append(
                f"modules: unknown module {name!r} (available in {where}: "
                f"{', '.join(sorted(allowed))})"
            )
    return messages


def check_entry(
    entry: LuaEntry, registry: Registry | None, default_limits: LuaLimits
) -> list[Problem]:
    """Validate a `workflow.lua`, `function.lua` or `library.lua` entry.

    Reports: unreadable source or unresolvable import (at the YAML entry), Lua syntax errors
    (at `lua_file:line`), `modules` entries that are unknown or not allowed for the kind, a
    bad `limits` block, a `method` the file does not define, and a disallowed `require` made
    while the file's top level runs. The top level runs in the sandbox with stub answers and
    stops at the first intercepted call; runtime errors that may depend on the arguments are
    not reported.
    """
    yaml_file = Path(entry.file) if entry.file is not None else None
    at_entry = Problem(yaml_file, entry.line, "", entry.id)
    problems: list[Problem] = []
    for message in _module_problems(entry):
        problems.append(dataclasses.replace(at_entry, message=message))

    try:
        # library.lua entries have no `limits` field.
        limits = LuaLimits.from_entry(getattr(entry, "limits", None), default_limits)
    except ValueError as exc:
        problems.append(dataclasses.replace(at_entry, message=f"limits: {exc}"))
        limits = default_limits

    try:
        chunks = collect_chunks(entry, registry)
    except LuaScriptError as exc:
        problems.append(dataclasses.replace(at_entry, message=exc.message))
        return problems

    syntax_ok = True
    for chunk in chunks.values():
        text = syntax_error(chunk)
        if text is not None:
            syntax_ok = False
            problems.append(_positioned(text, entry.id, at_entry, chunks))
    if not syntax_ok:
        return problems

    problems.extend(call_problems(entry, chunks, registry))
    if entry.kind == "library.lua":
        return problems

    problem = _run_top_level(cast("LuaProgramEntry", entry), chunks, limits)
    if problem is not None:
        problems.append(_positioned(problem, entry.id, at_entry, chunks))
    return problems


@functools.cache
def module_members() -> Mapping[str, tuple[str, ...]]:
    """Return every Lua module's names (functions and constants), by module.

    Read from the modules themselves: each bridge module (`lua/<name>.lua`) is loaded in a
    sandboxed state as a run loads it; the standard libraries are the sandbox's own tables.
    """
    run = LuaRun(
        side="workflow", clock=_CheckClock(), chunks={}, limits=LuaLimits(), fallback=_refuse
    )
    try:
        tables = {name: run.b.module(name) for name in MODULE_FILES}
        tables.update({name: run.b.SAFE[name] for name in _STDLIB_TABLES})
        return {
            name: tuple(sorted(key for key in table if isinstance(key, str)))
            for name, table in tables.items()
        }
    finally:
        run.close()


def _known(names: tuple[str, ...]) -> str:
    return f" (it has: {', '.join(names)})" if len(names) <= _LIST_AT_MOST else ""


def call_problems(
    entry: LuaEntry, chunks: Mapping[str, Chunk], registry: Registry | None
) -> list[Problem]:
    """Report the entry file's unknown module names and bad literal call targets.

    Targets are checked only against a real `Registry`; a bare target of a `library.lua`
    entry is left alone (it resolves in the namespace of whichever entry imports it).

    Returns:
        Problems at `file.lua:line`.
    """
    chunk = chunks.get(entry.id)
    if chunk is None:
        return []
    calls, unknown = scan(chunk.source, module_members())
    problems: list[Problem] = []
    for member in unknown:
        hint = Registry.suggest_name(member.name, member.known) or _known(member.known)
        message = f"{member.spelled}: module '{member.module}' has no '{member.name}'{hint}"
        problems.append(Problem(chunk.path, member.line, message, entry.id))
    if isinstance(registry, Registry):
        namespace = None if entry.kind == "library.lua" else entry.namespace
        for call in calls:
            for message in target_problems(
                registry,
                namespace,
                call.call,
                call.target,
                call.kind,
                host=call.host,
                default_queue=call.default_queue,
            ):
                problems.append(Problem(chunk.path, call.line, message, entry.id))
    return problems


def _refuse(op: Operation) -> Any:
    def refuse(*_: Any) -> Any:
        raise RuntimeError(f"{op.name} is not available while checking")

    return refuse


def _run_top_level(
    entry: LuaProgramEntry, chunks: dict[str, Chunk], limits: LuaLimits
) -> str | None:
    check_limits = dataclasses.replace(
        limits,
        max_instructions=min(limits.max_instructions or _CHECK_INSTRUCTIONS, _CHECK_INSTRUCTIONS),
    )
    run_state = LuaRun(
        side="function" if entry.kind == "function.lua" else "workflow",
        clock=_CheckClock(),
        chunks=chunks,
        limits=check_limits,
        fallback=_refuse,
    )
    try:
        tid = run_state.call_lua(run_state.b.start_entry, entry.id, entry.method or "main", True)
        if isinstance(tid, tuple):
            return str(tid[1])
        out = run_state.step(int(tid))
    except LuaResourceError as exc:
        return f"{Path(str(entry.source_path())).name}: loading the file: {exc}"
    except Exception:  # a stub answer the code did not expect: not a problem of the entry
        return None
    finally:
        run_state.close()
    if out[0] == "error":
        message = str(out[1])
        if "require: " in message or "' not found in the table the file returns" in message:
            return message
    return None
