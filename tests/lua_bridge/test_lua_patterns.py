"""Lua pattern matching cannot outlive the instruction budget.

lstrlib's matcher runs inside one C call that the count hook does not interrupt; a
backtracking pattern on a long subject (`string.rep("a", 520):find(".-.-.-b")`) used to burn
CPU for minutes after the task timed out. Each find/match/gmatch/gsub is now refused, before
matching, when a bound of its steps exceeds the run's budget (lua/sandbox.lua).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from lua_bridge import LuaEngine, LuaScriptError
from tests.helpers.fakes import FakeLimits, lua_entry, run_workflow
from wflow.model import ErrorKind, FunctionContext, WflowError

CATASTROPHIC = 'local i = string.rep("a", 520):find(".-.-.-b")'

REFUSED = (
    'string.find: pattern ".-.-.-b" could take up to 2.17e+10 matching steps on a subject '
    "of 520 bytes, more than this run's budget allows (50000000 instructions x 4); use fewer "
    "'*', '+', '-' and '?' items, anchor the pattern (^) or start it with literal text, "
    "match a shorter subject, or find literal text with plain = true"
)


def call_function(tmp_path: Path, source: str, args: list[Any] | None = None) -> Any:
    entry = lua_entry(tmp_path, source, name="fn", kind="function.lua")
    return LuaEngine().function_program(entry, None).call(args or [], FunctionContext("app:fn"))


async def test_catastrophic_pattern_fails_fast_in_a_workflow(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(LuaScriptError) as info:
        await run_workflow(tmp_path, f"local x = 1\n{CATASTROPHIC}\nreturn i\n")
    assert time.monotonic() - started < 2
    assert str(info.value).startswith(f"wf.lua:2: {REFUSED}"), str(info.value)


def test_catastrophic_pattern_fails_fast_in_a_function(tmp_path: Path) -> None:
    started = time.monotonic()
    source = "return function(s)\n  local i = s:find('.-.-.-b')\n  return i\nend"
    with pytest.raises(WflowError) as info:
        call_function(tmp_path, source, ["a" * 520])
    assert time.monotonic() - started < 2
    assert info.value.kind is ErrorKind.INTERNAL
    assert info.value.message.startswith(f"fn.lua:2: {REFUSED}"), info.value.message


@pytest.mark.parametrize(
    ("source", "who"),
    [
        ('local s = string.rep("a", 3000); local r = s:match("(.-)(.-)(.-)b")', "match"),
        ('local s = string.rep("a", 3000); for w in s:gmatch("a*a*a*b") do end', "gmatch"),
        ('local s = string.rep("a", 3000); local r = s:gsub(".-.-.-b", "")', "gsub"),
        ('local s = string.rep("a", 40); local r = s:find(string.rep("a?", 40) .. "b")', "find"),
        ('local s = string.rep("(", 20000); local r = s:find("%b()%b()")', "find"),
    ],
)
async def test_every_matching_function_is_bounded(tmp_path: Path, source: str, who: str) -> None:
    started = time.monotonic()
    with pytest.raises(LuaScriptError, match=rf"^wf\.lua:1: string\.{who}: pattern "):
        await run_workflow(tmp_path, source)
    assert time.monotonic() - started < 2


async def test_the_bound_follows_the_entry_budget(tmp_path: Path) -> None:
    source = 'return (string.rep("a", 300):find(".-.-b")) == nil'
    assert await run_workflow(tmp_path, source) is True
    with pytest.raises(LuaScriptError, match=r"budget allows \(100000 instructions x 4\)"):
        await run_workflow(tmp_path, source, limits=FakeLimits(max_instructions=100_000))
    # 0 turns the instruction budget off, and the bound with it
    assert await run_workflow(tmp_path, source, limits=FakeLimits(max_instructions=0)) is True


async def test_ordinary_patterns_on_large_subjects_still_work(tmp_path: Path) -> None:
    source = """
    local words = {}
    for i = 1, 20000 do words[i] = "word" .. i end
    local text = "  " .. table.concat(words, " ") .. "  "        -- ~150 KB
    local trimmed = text:match("^%s*(.-)%s*$")
    local count = select(2, text:gsub("%w+", "%0"))
    local title = ("<p>x</p>"):rep(5000) .. "<title>Hi</title>"
    local key, value = ("name = wflow"):match("^(%w+)%s*=%s*(.-)$")
    local n = 0
    for k, v in ("a=1;b=2;c=3"):gmatch("(%w+)=(%w+)") do n = n + tonumber(v) end
    return {#trimmed, count, title:match("<title>(.-)</title>"), key, value, n,
            (text:find("word19999", 1, true)), (text:find("word1999%d"))}
    """
    text = "  " + " ".join(f"word{i}" for i in range(1, 20001)) + "  "
    assert await run_workflow(tmp_path, source) == [
        len(text.strip()),
        20000,
        "Hi",
        "name",
        "wflow",
        6,
        text.index("word19999") + 1,
        text.index("word19990") + 1,
    ]


async def test_malformed_patterns_keep_lua_s_own_errors(tmp_path: Path) -> None:
    with pytest.raises(LuaScriptError, match=r"^wf\.lua:1: malformed pattern \(missing '\]'\)"):
        await run_workflow(tmp_path, 'local i = ("x"):find("[a")')
    with pytest.raises(LuaScriptError, match=r"^wf\.lua:1: bad argument #1 to 'find'"):
        await run_workflow(tmp_path, 'local i = string.find(nil, "x")')
