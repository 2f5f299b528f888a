"""Finding a Lua file's literal call targets and misspelled module functions, without running it.

`wflow validate` (`_static_check.py`) resolves what this module finds against the registry.
It reads the file's tokens, not its syntax tree: the file has compiled already, and only a
few exact shapes count, so anything it does not recognise is left alone (a false report is
worse than a missed one):

- `funcs.call("t", ...)`, `funcs.async("t", ...)` and `executor:call/async("t", ...)` on a
  local assigned from `funcs.new()` (or from such an executor's `:with_options` /
  `:with_context`): a function target;
- `process.spawn/spawn_monitored/exec("t", "host"?, ...)`, the same on a spawner assigned
  from `process.with_options{...}`, and `workflow.exec("t", ...)`: a workflow target (and a
  worker host);
- `mod.name` for a module `mod` whose table has no `name` (`funcs.cal`, `time.slep`).

A target counts only when it is one plain string literal (no escapes, not concatenated).
A name counts as a module when it is bound by `local name = require("mod")` and declared
nowhere else in the file, or is a module's global name (`process`, `string`, ...) that the
file never declares. The module tables themselves are read from a sandboxed Lua state
(`_static_check.module_members`), so the list of functions is the bridge's own, never a second copy.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from wflow.registry._call_targets import TARGET_CALLS, TargetKind

__all__ = [
    "CallSite",
    "LuaToken",
    "UnknownMember",
    "scan",
    "tokenize",
]

_KEYWORDS = frozenset(
    [
        "and",
        "break",
        "do",
        "else",
        "elseif",
        "end",
        "false",
        "for",
        "function",
        "goto",
        "if",
        "in",
        "local",
        "nil",
        "not",
        "or",
        "repeat",
        "return",
        "then",
        "true",
        "until",
        "while",
    ]
)
_OPERATORS = ("...", "..", "==", "~=", "<=", ">=", "<<", ">>", "//", "::")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F]*(?:\.[0-9a-fA-F]*)?(?:[pP][+-]?\d+)?|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?"
)
_LONG_OPEN = re.compile(r"\[(=*)\[")
_STDLIB = ("coroutine", "math", "string", "table", "utf8")
# Module names a script reaches without `require` (globals of every run).
_GLOBAL_MODULES = frozenset({"channel", "ctx", "errors", "os", "process", *_STDLIB})

# module function -> what its first (and second) argument names.
_MODULE_CALLS: Mapping[tuple[str, str], tuple[TargetKind, bool]] = {
    **TARGET_CALLS,
    ("funcs", "async"): ("function", False),
}
_EXECUTOR_CALLS = frozenset({"call", "async"})
_EXECUTOR_DERIVE = frozenset({"with_options", "with_context"})
_SPAWNER_CALLS = frozenset(
    {"spawn", "spawn_monitored", "spawn_linked", "spawn_linked_monitored", "exec"}
)
_SPAWNER_DERIVE = frozenset({"with_options", "with_name", "with_message"})
# For each kind of derived object: its calls that name a target, the target's kind, and
# whether a host argument follows the target.
_OBJECT_CALLS: dict[str, tuple[frozenset[str], TargetKind, bool]] = {
    "executor": (_EXECUTOR_CALLS, "function", False),
    "spawner": (_SPAWNER_CALLS, "workflow", True),
}


@dataclasses.dataclass(frozen=True)
class LuaToken:
    """One token of Lua source.

    Attributes:
        kind: `name`, `keyword`, `string`, `number` or `op`.
        value: The name, keyword, operator, number text, or the string's contents.
        line: The 1-based line it starts on.
        plain: For strings: its contents are exactly what the source shows (no escapes).
    """

    kind: str
    value: str
    line: int
    plain: bool = True


@dataclasses.dataclass(frozen=True)
class CallSite:
    """A call with a literal target.

    Attributes:
        call: How the script spells the call: `funcs.call`, `executor:call`, `process.spawn`.
        target: The literal entry reference.
        kind: Whether it names a `function` or a `workflow` entry.
        host: The literal worker reference (`process.spawn/exec`'s second argument), or None.
        line: The line of the target.
        default_queue: The call runs on its function's worker's task queue (a plain
            `funcs.call/async`; an executor may name another queue in its options).
    """

    call: str
    target: str
    kind: TargetKind
    host: str | None
    line: int
    default_queue: bool


@dataclasses.dataclass(frozen=True)
class UnknownMember:
    """`module.name` where the module has no `name`.

    Attributes:
        module: The module (`funcs`), as required, not as the local is named.
        spelled: How the script spells it (`f.cal` for `local f = require("funcs")`).
        name: The missing name.
        line: Where.
        known: Every name the module has.
    """

    module: str
    spelled: str
    name: str
    line: int
    known: tuple[str, ...]


def _long_bracket_end(source: str, start: int, level: str) -> int:
    end = source.find("]" + level + "]", start)
    return len(source) if end < 0 else end


def tokenize(source: str) -> list[LuaToken]:
    """Return the tokens of Lua `source` (comments and whitespace left out).

    Lenient: meant for source that compiles; an unterminated string ends the file.
    """
    tokens: list[LuaToken] = []
    i, n, line = 0, len(source), 1
    while i < n:
        c = source[i]
        if c == "\n":
            line += 1
            i += 1
        elif c in " \t\r\f\v":
            i += 1
        elif source.startswith("--", i):
            long = _LONG_OPEN.match(source, i + 2)
            if long:
                end = _long_bracket_end(source, long.end(), long[1])
                line += source.count("\n", i, end)
                i = end + len(long[1]) + 2
            else:
                end = source.find("\n", i)
                i = n if end < 0 else end
        elif c in "\"'":
            j, plain = i + 1, True
            while j < n and source[j] != c:
                if source[j] == "\\":
                    plain = False
                    j += 1
                elif source[j] == "\n":
                    break
                j += 1
            tokens.append(LuaToken("string", source[i + 1 : j], line, plain))
            line += source.count("\n", i, j)
            i = j + 1
        elif c == "[" and _LONG_OPEN.match(source, i):
            long = _LONG_OPEN.match(source, i)
            assert long is not None
            end = _long_bracket_end(source, long.end(), long[1])
            text = source[long.end() : end]
            tokens.append(LuaToken("string", text.removeprefix("\n"), line))
            line += source.count("\n", i, end)
            i = end + len(long[1]) + 2
        elif c.isdigit() or (c == "." and i + 1 < n and source[i + 1].isdigit()):
            number = _NUMBER.match(source, i)
            end = number.end() if number and number.end() > i else i + 1
            tokens.append(LuaToken("number", source[i:end], line))
            i = end
        elif c.isalpha() or c == "_":
            name = _NAME.match(source, i)
            assert name is not None
            word = name.group()
            tokens.append(LuaToken("keyword" if word in _KEYWORDS else "name", word, line))
            i = name.end()
        else:
            op = next((o for o in _OPERATORS if source.startswith(o, i)), c)
            tokens.append(LuaToken("op", op, line))
            i += len(op)
    return tokens


def _declared_names(tokens: list[LuaToken]) -> dict[str, int]:
    """Count, per name, the places the file declares or assigns it (locals, params, globals)."""
    counts: dict[str, int] = {}

    def add(name: str) -> None:
        counts[name] = counts.get(name, 0) + 1

    for i, tok in enumerate(tokens):
        before = tokens[i - 1].value if i > 0 else ""
        if tok.kind == "keyword" and tok.value in ("local", "for"):
            j = i + 1
            if j < len(tokens) and tokens[j].value == "function":
                j += 1
            while j < len(tokens) and tokens[j].kind == "name":
                add(tokens[j].value)
                j += 1
                if j < len(tokens) and tokens[j].value == "<":  # <const>, <close>
                    j += 3
                if j < len(tokens) and tokens[j].value == ",":
                    j += 1
                else:
                    break
        elif tok.kind == "keyword" and tok.value == "function":
            j = i + 1
            while j < len(tokens) and tokens[j].value != "(":
                j += 1
            j += 1
            while j < len(tokens) and tokens[j].value != ")":
                if tokens[j].kind == "name":
                    add(tokens[j].value)
                j += 1
        elif (
            tok.kind == "name"
            and before not in (".", ":", "local", ",", "{", "function")
            and i + 1 < len(tokens)
            and tokens[i + 1].value in ("=", ",")
        ):
            # `name = ...` or `name, other = ...`: a global assignment. (A call's `f(a, b)`
            # or a table's `{a = 1}` after a comma look alike; counting them too only
            # makes the scanner more careful.)
            add(tok.value)
    return counts


def _required_module(tokens: list[LuaToken], i: int) -> tuple[str, int] | None:
    """At `local NAME = require("mod")` (token i is `local`): the module and NAME's index."""
    t = tokens[i : i + 7]
    if len(t) < 5 or t[1].kind != "name" or t[2].value != "=" or t[3].value != "require":
        return None
    if t[4].kind == "string":
        return t[4].value, i + 1
    if t[4].value == "(" and len(t) >= 7 and t[5].kind == "string" and t[6].value == ")":
        return t[5].value, i + 1
    return None


def _literal(tokens: list[LuaToken], j: int) -> tuple[str | None, int]:
    """The plain string argument at `j` when it is a whole argument; and the index after it."""
    if j < len(tokens) and tokens[j].kind == "string" and tokens[j].plain:
        after = tokens[j + 1].value if j + 1 < len(tokens) else ")"
        if after in (",", ")"):
            return tokens[j].value, j + 1
    return None, j + 1


def _arguments(
    tokens: list[LuaToken], j: int, with_host: bool
) -> tuple[LuaToken, str, str | None] | None:
    """The literal target (and host) of a call whose argument list starts at token `j`."""
    if j >= len(tokens):
        return None
    if tokens[j].kind == "string":  # f"target" call syntax: the one argument
        return (tokens[j], tokens[j].value, None) if tokens[j].plain else None
    if tokens[j].value != "(":
        return None
    target, k = _literal(tokens, j + 1)
    if target is None:
        return None
    host = None
    if with_host and k < len(tokens) and tokens[k].value == ",":
        host, _ = _literal(tokens, k + 1)
    return tokens[j + 1], target, host


def scan(
    source: str, members: Mapping[str, tuple[str, ...]]
) -> tuple[list[CallSite], list[UnknownMember]]:
    """Return the literal-target calls and the unknown module names of Lua `source`.

    Args:
        source: Lua source that compiles.
        members: Every module's names, by module (`_static_check.module_members`).
    """
    tokens = tokenize(source)
    declared = _declared_names(tokens)

    modules: dict[str, str] = {}  # local name -> module
    objects: dict[str, str] = {}  # local name -> "executor" | "spawner"
    for i, tok in enumerate(tokens):
        if tok.value == "local" and tok.kind == "keyword":
            found = _required_module(tokens, i)
            if found is not None and found[0] in members:
                name = tokens[found[1]].value
                modules[name] = found[0] if declared.get(name) == 1 else ""
    for name in _GLOBAL_MODULES | {"funcs", "time", "uuid", "workflow", "json"}:
        if name not in modules and name not in declared:
            modules[name] = name
    modules = {name: module for name, module in modules.items() if module}

    # Executors and spawners: `local x = funcs.new()...`, `local y = x:with_options{...}`.
    for i, tok in enumerate(tokens[:-5]):
        if tok.value != "local" or tokens[i + 1].kind != "name" or tokens[i + 2].value != "=":
            continue
        name, source_name, dot, method = (tokens[i + k].value for k in (1, 3, 4, 5))
        if declared.get(name) != 1:
            continue
        if modules.get(source_name) == "funcs" and dot == "." and method == "new":
            objects[name] = "executor"
        elif modules.get(source_name) == "process" and dot == "." and method == "with_options":
            objects[name] = "spawner"
        elif dot == ":" and objects.get(source_name) == "executor" and method in _EXECUTOR_DERIVE:
            objects[name] = "executor"
        elif dot == ":" and objects.get(source_name) == "spawner" and method in _SPAWNER_DERIVE:
            objects[name] = "spawner"

    calls: list[CallSite] = []
    unknown: list[UnknownMember] = []
    for i, tok in enumerate(tokens[:-2]):
        if tok.kind != "name" or (i > 0 and tokens[i - 1].value in (".", ":", "function")):
            continue
        sep, member = tokens[i + 1], tokens[i + 2]
        if member.kind != "name":
            continue
        module = modules.get(tok.value)
        if module is not None and sep.value == ".":
            assigned = i + 3 < len(tokens) and tokens[i + 3].value == "="
            if member.value not in members[module] and not assigned:
                unknown.append(
                    UnknownMember(
                        module, f"{tok.value}.{member.value}", member.value, member.line,
                        members[module],
                    )
                )  # fmt: skip
                continue
            shape = _MODULE_CALLS.get((module, member.value))
            if shape is not None:
                found_args = _arguments(tokens, i + 3, shape[1])
                if found_args is not None:
                    at, target, host = found_args
                    call = f"{module}.{member.value}"
                    calls.append(CallSite(call, target, shape[0], host, at.line, module == "funcs"))
            continue
        kind_of_object = objects.get(tok.value)
        if kind_of_object is None or sep.value != ":":
            continue
        calls_of_object, target_kind, has_host = _OBJECT_CALLS[kind_of_object]
        if member.value in calls_of_object:
            found_args = _arguments(tokens, i + 3, has_host)
            if found_args is not None:
                at, target, host = found_args
                call = f"{kind_of_object}:{member.value}"
                calls.append(CallSite(call, target, target_kind, host, at.line, False))
    return calls, unknown
