"""Validation of Lua entries without running them (`wflow validate`)."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lua_bridge._entries import (
    FUNCTION_MODULES,
    WORKFLOW_MODULES,
    Chunk,
    LuaEntryLike,
    RegistryLike,
    collect_chunks,
)
from lua_bridge._errors import LuaResourceError, LuaScriptError
from lua_bridge._limits import LuaLimits
from lua_bridge._runtime import compile_bytecode
from lua_bridge._session import LuaSession
from wflow.model import WorkflowInfo

__all__ = ["LuaProblem", "check_entry", "syntax_error"]

_FORBIDDEN_MODULES = frozenset({"io", "os", "debug", "package", "ffi", "jit", "python"})
_POSITION = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<message>.*)$", re.DOTALL)
_CHECK_INSTRUCTIONS = 5_000_000


@dataclasses.dataclass(frozen=True)
class LuaProblem:
    """A problem found by `LuaEngine.check`, shaped like `wflow.registry.Problem`.

    Attributes:
        file: The Lua file (syntax and load errors) or the YAML file of the entry.
        line: The line in that file, or None.
        message: What is wrong.
        entry_id: The entry the problem belongs to.
    """

    file: Path | None
    line: int | None
    message: str
    entry_id: str | None = None


def syntax_error(chunk: Chunk) -> str | None:
    """Return Lua's `file:line: message` for a syntax error in `chunk`, or None."""
    try:
        compile_bytecode(chunk.source, chunk.chunkname)
    except LuaScriptError as exc:
        return exc.message
    return None


def _positioned(
    text: str, entry_id: str, fallback: LuaProblem, chunks: dict[str, Chunk] | None = None
) -> LuaProblem:
    first = text.strip().splitlines()[0] if text.strip() else text
    match = _POSITION.match(first)
    if match:
        file = Path(match["file"])
        for chunk in (chunks or {}).values():
            if chunk.display == match["file"]:
                file = chunk.path
        return LuaProblem(file, int(match["line"]), match["message"], entry_id)
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


def check_entry(
    entry: LuaEntryLike, registry: RegistryLike | None, default_limits: LuaLimits
) -> list[LuaProblem]:
    """Validate a `workflow.lua`, `function.lua` or `library.lua` entry.

    Reports: unreadable source or unresolvable import (at the YAML entry), Lua syntax errors
    (at `lua_file:line`), `modules` entries that are unknown or not allowed for the kind, a
    bad `limits` block, a `method` the file does not define, and a disallowed `require` made
    while the file's top level runs. The top level runs in the sandbox with stub answers and
    stops at the first intercepted call; runtime errors that may depend on the arguments are
    not reported.
    """
    yaml_file = Path(entry.file) if entry.file is not None else None
    at_entry = LuaProblem(yaml_file, entry.line, "", entry.id)
    problems: list[LuaProblem] = []
    where = "functions" if entry.kind == "function.lua" else "workflows"

    allowed = _allowed_modules(entry.kind)
    for name in entry.modules or ():
        if name in allowed:
            continue
        if name in _FORBIDDEN_MODULES:
            message = f"modules: {name!r} is not available in {where}"
        elif name in WORKFLOW_MODULES:
            message = f"modules: {name!r} is only available in workflows"
        else:
            message = (
                f"modules: unknown module {name!r} (available in {where}: "
                f"{', '.join(sorted(allowed))})"
            )
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
    if not syntax_ok or entry.kind == "library.lua":
        return problems

    problem = _run_top_level(entry, chunks, limits, where)
    if problem is not None:
        problems.append(_positioned(problem, entry.id, at_entry, chunks))
    return problems


def _run_top_level(
    entry: LuaEntryLike, chunks: dict[str, Chunk], limits: LuaLimits, where: str
) -> str | None:
    check_limits = dataclasses.replace(
        limits,
        max_instructions=min(limits.max_instructions or _CHECK_INSTRUCTIONS, _CHECK_INSTRUCTIONS),
    )
    session = LuaSession(
        where=where,
        clock=_CheckClock(),
        chunks=chunks,
        limits=check_limits,
        extra_host=_stub_host(),
    )
    session.sleep_disabled = True
    try:
        tid = session.call_lua(session.b.start_entry, entry.id, entry.method or "main", True)
        if isinstance(tid, tuple):
            return str(tid[1])
        out = session.step(int(tid))
    except LuaResourceError as exc:
        return f"{Path(str(entry.source_path())).name}: loading the file: {exc}"
    except Exception:  # a stub answer the code did not expect: not a problem of the entry
        return None
    finally:
        session.close()
    if out[0] == "error":
        message = str(out[1])
        if "require: " in message or "' not found in the table the file returns" in message:
            return message
    return None


def _stub_host() -> dict[str, Any]:
    def refuse(*_: Any) -> Any:
        raise RuntimeError("not available while checking")

    return {
        name: refuse
        for name in (
            "start_call",
            "call_done",
            "call_cancel",
            "call_channel",
            "channel_new",
            "channel_close",
            "after",
            "timer_new",
            "timer_stop",
            "timer_reset",
            "spawn",
            "p_pid",
            "p_id",
            "p_inbox",
            "p_listen",
            "p_events",
            "p_version",
            "p_set_state",
            "p_set_attrs",
            "pc_available",
            "pc_spawn",
            "pc_exec",
            "pc_send",
            "pc_cancel",
            "pc_terminate",
        )
    }
