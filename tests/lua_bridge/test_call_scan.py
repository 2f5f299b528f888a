"""The Lua call scanner behind `wflow validate`'s target and module-name checks."""

from __future__ import annotations

from lua_bridge._call_scan import CallSite, scan, tokenize
from lua_bridge._static_check import module_members


def calls(source: str) -> list[tuple[str, str, str | None, int]]:
    found, _ = scan(source, module_members())
    return [(c.call, c.target, c.host, c.line) for c in found]


def unknown(source: str) -> list[tuple[str, int]]:
    _, found = scan(source, module_members())
    return [(u.spelled, u.line) for u in found]


def test_module_names_come_from_the_modules_themselves() -> None:
    members = module_members()
    assert {"call", "async", "new", "heartbeat", "heartbeat_details", "is_canceled"} == set(
        members["funcs"]
    )
    assert "sleep" in members["time"] and "SECOND" in members["time"]
    assert "spawn_monitored" in members["process"]
    assert "spawn" in members["coroutine"]  # the sandbox's coroutine table, with spawn


def test_tokens_skip_comments_and_keep_lines() -> None:
    source = '--[[ a\nb ]] x = "s" -- c\n[==[\nlong]==] y'
    assert [(t.kind, t.value, t.line) for t in tokenize(source)] == [
        ("name", "x", 2),
        ("op", "=", 2),
        ("string", "s", 2),
        ("string", "long", 3),
        ("name", "y", 4),
    ]
    assert not tokenize(r'"a\"b"')[0].plain


def test_literal_targets_in_every_call_form() -> None:
    source = """
    local funcs = require "funcs"
    local f = require("funcs")
    funcs.call("app:a", 1)
    f.async 'app:b'
    funcs.call([[app:c]])
    process.spawn("app:w", "app:host", 1)
    process.exec("app:w2", nil)
    """
    assert calls(source) == [
        ("funcs.call", "app:a", None, 4),
        ("funcs.async", "app:b", None, 5),
        ("funcs.call", "app:c", None, 6),
        ("process.spawn", "app:w", "app:host", 7),
        ("process.exec", "app:w2", None, 8),
    ]


def test_plain_calls_use_the_default_queue_executors_do_not() -> None:
    source = (
        'local funcs = require("funcs")\nlocal e = funcs.new()\nfuncs.call("a:b")\ne:call("a:c")'
    )
    found, _ = scan(source, module_members())
    assert [c.default_queue for c in found] == [True, False]
    assert isinstance(found[0], CallSite)


def test_dynamic_escaped_and_shadowed_are_left_alone() -> None:
    source = """
    local funcs = require("funcs")
    funcs.call("app:" .. x)
    funcs.call("app:\\x61")
    funcs.call(name)
    local time = {}
    time.slep(1)
    local process = make()
    process.spwan("x")
    """
    assert calls(source) == []
    assert unknown(source) == []


def test_unknown_names_but_not_assignments_or_definitions() -> None:
    source = """
    local funcs = require("funcs")
    funcs.cal("x")
    local t = string.fromat
    errors.custom = 1
    function process.mine() end
    local x = obj.funcs.cal
    """
    assert unknown(source) == [("funcs.cal", 3), ("string.fromat", 4)]


def test_module_required_under_another_name() -> None:
    assert unknown('local t = require("time")\nt.slep(1)') == [("t.slep", 2)]
