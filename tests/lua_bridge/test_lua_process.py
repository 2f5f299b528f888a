"""The `process` and `workflow` modules in Lua workflows, against the in-memory runtime.

Messages (inbox, listen, events, updates), children (spawn, spawn_monitored, exec, cancel,
terminate, with_options), versions, state, attributes and continue-as-new.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lua_bridge import LuaScriptError
from tests.helpers.fakes import run_workflow as _run_workflow
from wflow.model import ErrorKind, SpawnOptions, WflowError
from wflow.testing import FAKE_PID as SELF_PID
from wflow.testing import FakeContinueAsNew, FakeRuntime

# On the first line, so that line numbers in messages are the test source's.
PRELUDE = 'local funcs, time, workflow = require("funcs"), require("time"), require("workflow"); '


async def run_workflow(tmp_path: Path, source: str, **kwargs: Any) -> Any:
    return await _run_workflow(tmp_path, PRELUDE + source, **kwargs)


# --- receiving ------------------------------------------------------------------------------


async def test_message_object_api(tmp_path: Path) -> None:
    runtime = FakeRuntime()
    runtime.deliver("decision", {"approved": True, "note": "ok", "n": 2}, "app:w/other")
    src = """
    local msg = process.inbox():receive()
    return {
      topic = msg:topic(), from = msg:from(), data = msg:payload():data(),
      approved = msg.approved, note = msg.note, missing = msg.nope,
      same_payload = rawequal(msg:payload(), msg:payload()),
      text = tostring(msg),
    }
    """
    assert await run_workflow(tmp_path, src, runtime=runtime) == {
        "topic": "decision",
        "from": "app:w/other",
        "data": {"approved": True, "note": "ok", "n": 2},
        "approved": True,
        "note": "ok",
        "same_payload": True,
        "text": "message(decision from app:w/other)",
    }


async def test_methods_win_over_payload_fields_of_the_same_name(tmp_path: Path) -> None:
    runtime = FakeRuntime()
    runtime.deliver("t", {"topic": "field", "from": "f", "payload": 1, "other": 2})
    src = """
    local msg = process.inbox():receive()
    return {
      method = type(msg.topic), topic_call = msg:topic(), field = msg:payload():data().topic,
      from_field = msg:payload():data().from, other = msg.other, from_call = msg:from(),
    }
    """
    assert await run_workflow(tmp_path, src, runtime=runtime) == {
        "method": "function",
        "topic_call": "t",
        "field": "field",
        "from_field": "f",
        "other": 2,
    }


async def test_message_with_scalar_or_empty_payload(tmp_path: Path) -> None:
    runtime = FakeRuntime()
    runtime.deliver("a", "hello")
    runtime.deliver("b")
    src = """
    local inbox = process.inbox()
    local a, b = inbox:receive(), inbox:receive()
    return {a = a:payload():data(), a_field = a.approved, b = b:payload():data() == nil}
    """
    assert await run_workflow(tmp_path, src, runtime=runtime) == {"a": "hello", "b": True}


async def test_messages_are_read_only_and_cross_as_topic_from_payload(tmp_path: Path) -> None:
    runtime = FakeRuntime({"app:keep": lambda m: m})
    runtime.deliver("t", {"x": 1}, "app:w/s")
    src = """
    local msg = process.inbox():receive()
    local ok, err = pcall(function() msg.approved = true end)
    local kept = funcs.call("app:keep", msg)
    local keys = {}
    for k in pairs(msg) do keys[#keys + 1] = k end
    return {ok = ok, err = err, kept = kept, keys = keys}
    """
    result = await run_workflow(tmp_path, src, runtime=runtime)
    assert result["ok"] is False
    assert "messages are read-only (cannot set field 'approved')" in result["err"]
    assert result["kept"] == {"topic": "t", "from": "app:w/s", "payload": {"x": 1}}
    assert result["keys"] == ["x"]


async def test_inbox_is_the_same_channel_and_receive_only(tmp_path: Path) -> None:
    src = """
    local a, b = process.inbox(), require("process").inbox()
    local ok, err = pcall(function() a:send(1) end)
    local ok2, err2 = pcall(function() a:close() end)
    return {same = rawequal(a, b), err = err, err2 = err2,
            listen_same = rawequal(process.listen("x"), process.listen("x"))}
    """
    result = await run_workflow(tmp_path, src)
    assert result["same"] is True and result["listen_same"] is True
    assert "process.inbox() is receive-only; use process.send(pid, topic, payload)" in result["err"]
    assert "process.inbox() cannot be closed" in result["err2"]


async def test_message_sent_before_receive_is_not_lost(tmp_path: Path) -> None:
    runtime = FakeRuntime()
    # Before the workflow even runs, and again while it is busy in a function call.
    runtime.deliver("first", {"n": 1})
    runtime.results["app:work"] = lambda: runtime.deliver("second", {"n": 2}) or "done"
    src = """
    funcs.call("app:work")
    local inbox = process.inbox()
    local a, b = inbox:receive(), inbox:receive()
    return {a:topic(), a.n, b:topic(), b.n}
    """
    assert await run_workflow(tmp_path, src, runtime=runtime) == ["first", 1, "second", 2]


async def test_receive_blocks_until_a_message_arrives(tmp_path: Path) -> None:
    runtime = FakeRuntime()
    src = "return process.inbox():receive().value"

    async def run() -> Any:
        runtime.deliver_later(0.02, "late", {"value": 7})
        return await run_workflow(tmp_path, src, runtime=runtime)

    assert await run() == 7


async def test_listen_gets_its_topic_and_the_inbox_the_rest(tmp_path: Path) -> None:
    runtime = FakeRuntime()
    src = """
    local updates = process.listen("update")
    local inbox = process.inbox()
    local got = {}
    got[1] = updates:receive()            -- a payload, not a message
    local m = inbox:receive()
    got[2] = m:topic()
    got[3] = updates:receive().status
    local u = inbox:receive()             -- updates always go to the inbox
    got[4] = u:topic() .. " " .. u:from()
    return got
    """

    async def run() -> Any:
        loop = asyncio.get_running_loop()
        loop.call_later(0.01, runtime.deliver, "update", {"status": "a"})
        loop.call_later(0.02, runtime.deliver, "other", 1)
        loop.call_later(0.03, runtime.deliver, "update", {"status": "b"})
        loop.call_later(0.04, runtime.deliver, "update", 3, "update:u1")
        return await run_workflow(tmp_path, src, runtime=runtime)

    assert await run() == [{"status": "a"}, "other", "b", "update update:u1"]


SELECT_DECISION = """
local inbox = process.inbox()
local timeout = time.after("48h")
local r = channel.select{inbox:case_receive(), timeout:case_receive()}
if r.channel == inbox then
  return {decision = r.value.approved, topic = r.value:topic()}
end
return {timed_out = true, at = r.value:format_rfc3339()}
"""


async def test_select_inbox_or_timeout_takes_the_timeout(tmp_path: Path) -> None:
    runtime = FakeRuntime()
    result = await run_workflow(tmp_path, SELECT_DECISION, runtime=runtime)
    assert result == {"timed_out": True, "at": "2024-05-08T07:08:09Z"}
    assert runtime.sleeps == [timedelta(hours=48)]


async def test_select_inbox_or_timeout_takes_the_message(tmp_path: Path) -> None:
    runtime = FakeRuntime()

    async def run() -> Any:
        runtime.deliver_later(0.01, "decision", {"approved": False})
        return await run_workflow(tmp_path, SELECT_DECISION, runtime=runtime)

    assert await run() == {"decision": False, "topic": "decision"}


async def test_select_with_default_and_listen_and_future_channels(tmp_path: Path) -> None:
    runtime = FakeRuntime({"app:slow": "slow"}, delays={"app:slow": 0.05})
    src = """
    local pings = process.listen("ping")
    local r0 = channel.select{process.inbox():case_receive(), default = true}
    local f = funcs.async("app:slow")
    local r1 = channel.select{f:channel():case_receive(), pings:case_receive()}
    local r2 = channel.select{f:channel():case_receive(), pings:case_receive()}
    return {r0.default, r1.value, r2.value}
    """

    async def run() -> Any:
        runtime.deliver_later(0.01, "ping", "p1")
        return await run_workflow(tmp_path, src, runtime=runtime)

    assert await run() == [True, "p1", "slow"]


async def test_a_message_before_listen_waits_in_the_inbox(tmp_path: Path) -> None:
    runtime = FakeRuntime()
    runtime.deliver("ping", "early")
    src = """
    local pings = process.listen("ping")
    local r = channel.select{pings:case_receive(), default = true}
    return {r.default, process.inbox():receive():payload():data()}
    """
    assert await run_workflow(tmp_path, src, runtime=runtime) == [True, "early"]


async def test_coroutines_receive_from_the_inbox_concurrently(tmp_path: Path) -> None:
    runtime = FakeRuntime()
    src = """
    local inbox = process.inbox()
    local results = channel.new(10)
    for i = 1, 2 do
      coroutine.spawn(function()
        local msg = inbox:receive()
        results:send(i .. ":" .. msg:topic())
      end)
    end
    local got = {(results:receive()), (results:receive())}
    table.sort(got)
    return got
    """

    async def run() -> Any:
        runtime.deliver_later(0.01, "a")
        runtime.deliver_later(0.02, "b")
        return await run_workflow(tmp_path, src, runtime=runtime)

    assert await run() == ["1:a", "2:b"]


# --- sending --------------------------------------------------------------------------------


async def test_send_payload_rules_and_errors(tmp_path: Path) -> None:
    other = "app:temporal_worker/other"
    runtime = FakeRuntime(known_pids=[other])
    src = f"""
    local a = process.send("{other}", "none")
    local b = process.send("{other}", "one", {{status = "approved"}})
    local c = process.send("{other}", "many", 1, "two", {{3}})
    local d, err = process.send("app:temporal_worker/nobody", "x")
    local e, err2 = process.send("not-a-pid", "x")
    local ok, err3 = pcall(process.send, nil, "x")
    local ok4, err4 = pcall(process.send, "{other}", "")
    return {{a, b, c, d == nil, err:kind(), err2:kind(), err3, err4}}
    """
    result = await run_workflow(tmp_path, src, runtime=runtime)
    assert result[:6] == [True, True, True, True, "NOT_FOUND", "INVALID"]
    assert "process.send: pid must be a PID string, got nil" in result[6]
    assert "process.send: topic must be a non-empty string, got an empty string" in result[7]
    assert runtime.sent == [
        (other, "none", None),
        (other, "one", {"status": "approved"}),
        (other, "many", [1, "two", [3]]),
    ]


async def test_argument_errors_point_at_the_callers_line(tmp_path: Path) -> None:
    src = "local x = 1\nprocess.send(42, 'x')\n"
    with pytest.raises(LuaScriptError) as info:
        await run_workflow(tmp_path, src)
    assert info.value.message.startswith("wf.lua:2: process.send: pid must be a PID string")
    src = "local x = 1\n\nprocess.with_options{bogus = 1}\n"
    with pytest.raises(LuaScriptError) as info:
        await run_workflow(tmp_path, src)
    assert info.value.message.startswith("wf.lua:3: process.with_options: unknown process option")


async def test_update_reply_protocol(tmp_path: Path) -> None:
    runtime = FakeRuntime({"app:apply": lambda p: {"applied": p["qty"]}})
    # One accepted and done, one rejected, one accepted that then fails.
    runtime.deliver("set_qty", {"qty": 3}, "update:u1")
    runtime.deliver("set_qty", {"qty": -1}, "update:u2")
    runtime.deliver("set_qty", {"qty": 20}, "update:u3")
    runtime.deliver("set_qty", {"qty": 99}, "update:u4")
    src = """
    local inbox = process.inbox()
    for _ = 1, 4 do
      local msg = inbox:receive()
      if msg.qty < 0 then
        process.send(msg:from(), "nak", "qty must be >= 0")
      else
        process.send(msg:from(), "ack")
        if msg.qty > 50 then
          local err = errors.new{kind = errors.CONFLICT, message = "way too many"}
          process.send(msg:from(), "error", err)
        elseif msg.qty > 10 then
          process.send(msg:from(), "error", "too many")
        else
          process.send(msg:from(), "ok", funcs.call("app:apply", msg:payload():data()))
        end
      end
    end
    """
    await run_workflow(tmp_path, src, runtime=runtime)
    u4 = runtime.replies.pop("u4")
    assert runtime.replies == {
        "u1": [("ack", None), ("ok", {"applied": 3})],
        "u2": [("nak", "qty must be >= 0")],
        "u3": [("ack", None), ("error", "too many")],
    }
    # An error object keeps its kind (it reaches the runtime as a WflowError).
    assert u4[0] == ("ack", None)
    assert repr(u4[1][1]) == repr(WflowError("way too many", ErrorKind.CONFLICT))


# --- children -------------------------------------------------------------------------------


async def test_spawn_monitored_delivers_exit_with_value_and_error(tmp_path: Path) -> None:
    runtime = FakeRuntime(
        children={
            "app:good": lambda x: {"doubled": x * 2},
            "app:bad": WflowError("no stock", ErrorKind.CONFLICT, details={"sku": 1}),
        }
    )
    src = """
    local good = process.spawn_monitored("app:good", "app:temporal_worker", 21)
    local bad = process.spawn_monitored("app:bad", nil)
    local events = process.events()
    local seen = {}
    for _ = 1, 2 do
      local ev = events:receive()
      seen[ev.from == good and "good" or "bad"] = ev
    end
    local e = seen.bad.result.error
    return {
      good = {kind = seen.good.kind, value = seen.good.result.value},
      bad = {kind = seen.bad.kind, err = e:kind(), msg = e:message(), details = e:details(),
             value = seen.bad.result.value == nil},
      pids = {good, bad},
    }
    """
    result = await run_workflow(tmp_path, src, runtime=runtime)
    assert result["good"] == {"kind": "EXIT", "value": {"doubled": 42}}
    assert result["bad"] == {
        "kind": "EXIT",
        "err": "CONFLICT",
        "msg": "no stock",
        "details": {"sku": 1},
        "value": True,
    }
    assert result["pids"] == ["app:temporal_worker/child-1", "app:temporal_worker/child-2"]
    assert [(c.entry, c.host, c.args, c.monitored) for c in runtime.spawned] == [
        ("app:good", "app:temporal_worker", [21], True),
        ("app:bad", None, [], True),
    ]


async def test_select_over_events_and_a_timer(tmp_path: Path) -> None:
    runtime = FakeRuntime(children={"app:child": "v"}, child_delays={"app:child": 0.005})
    src = """
    process.spawn_monitored("app:child", nil)
    local events = process.events()
    local r = channel.select{events:case_receive(), time.after("48h"):case_receive()}
    return r.channel == events and r.value.result.value or "timeout"
    """
    assert await run_workflow(tmp_path, src, runtime=runtime) == "v"


async def test_spawn_errors_and_plain_spawn_posts_exit(tmp_path: Path) -> None:
    # Issue 9: a plain spawn's child reports EXIT, as Wippy's temporal/workflows page shows
    # (this test asserted no event before).
    runtime = FakeRuntime(children={"app:child": 1})
    src = """
    local pid = process.spawn("app:child", nil)
    local none, err = process.spawn("app:missing", nil)
    local ok, bad = pcall(process.spawn, "", nil)
    local ok2, bad2 = pcall(process.spawn, "app:child", 5)
    local r = channel.select{process.events():case_receive(), time.after(10):case_receive()}
    return {pid, none == nil, err:kind(), bad, bad2, r.value and r.value.kind}
    """
    result = await run_workflow(tmp_path, src, runtime=runtime)
    assert result[:3] == ["app:temporal_worker/child-1", True, "NOT_FOUND"]
    assert "process.spawn: entry must be a workflow entry ID" in result[3]
    assert "process.spawn: host must be a temporal.worker entry ID" in result[4]
    assert result[5] == "EXIT"


async def test_exec_and_workflow_exec(tmp_path: Path) -> None:
    runtime = FakeRuntime(
        children={
            "app:sum": lambda *xs: sum(xs),
            "app:fail": WflowError("boom", ErrorKind.INTERNAL),
        }
    )
    src = """
    local a = process.exec("app:sum", "app:temporal_worker", 1, 2, 3)
    local b = workflow.exec("app:sum", 10, 20)
    local c, err = process.exec("app:fail", nil)
    return {a, b, c == nil, err:kind(), err:message()}
    """
    assert await run_workflow(tmp_path, src, runtime=runtime) == [6, 30, True, "INTERNAL", "boom"]
    assert runtime.spawned[1].host is None


async def test_cancel_and_terminate_children(tmp_path: Path) -> None:
    runtime = FakeRuntime(children={"app:long": "never"}, child_delays={"app:long": 10.0})
    src = """
    local a = process.spawn_monitored("app:long", nil)
    local b = process.spawn_monitored("app:long", nil)
    local ok1 = process.cancel(a)
    local ok2 = process.terminate(b, "stop it")
    local missing, err = process.cancel("app:temporal_worker/none")
    local events = process.events()
    local e1, e2 = events:receive(), events:receive()
    return {ok1, ok2, err:kind(), e1.result.error:kind(), e2.result.error:kind()}
    """
    result = await run_workflow(tmp_path, src, runtime=runtime)
    assert result == [True, True, "NOT_FOUND", "CANCELED", "CANCELED"]
    assert runtime.spawned[0].canceled is True
    assert runtime.spawned[1].terminated == "stop it"


async def test_with_options_name_and_message_reach_the_runtime(tmp_path: Path) -> None:
    runtime = FakeRuntime(children={"app:child": "ok"})
    src = """
    local base = process.with_options{
      ["workflow.execution_timeout"] = "1h",
      ["workflow.id_reuse_policy"] = "REJECT_DUPLICATE",
      ["workflow.retry_policy"] = {maximum_attempts = 3, initial_interval = 1500},
      ["workflow.memo"] = {team = "ops"},
    }
    local named = base:with_name("order-7"):with_message("start", {go = true})
    local p1 = named:spawn("app:child", nil, "arg")
    local p2 = named:spawn("app:child", nil, "again")
    local p3 = process.with_options{["workflow.id"] = "fixed"}:spawn_monitored("app:child", nil)
    local v = base:exec("app:child", nil)
    local ok, err = pcall(function() base.x = 1 end)
    return {p1, p2, p3, v, err}
    """
    result = await run_workflow(tmp_path, src, runtime=runtime)
    assert result[:4] == [
        "app:temporal_worker/app:child:order-7",
        "app:temporal_worker/app:child:order-7",
        "app:temporal_worker/fixed",
        "ok",
    ]
    assert "process spawners are immutable" in result[4]
    assert len(runtime.spawned) == 3  # the second named spawn returned the running one
    first = runtime.spawned[0].options
    assert first.execution_timeout == timedelta(hours=1)
    assert first.id_reuse_policy == "reject_duplicate"
    assert first.retry_policy is not None
    assert first.retry_policy.maximum_attempts == 3
    assert first.retry_policy.initial_interval == timedelta(milliseconds=1500)
    assert first.memo == {"team": "ops"}
    assert first.name == "order-7"
    assert first.message == ("start", {"go": True})
    assert runtime.spawned[1].options == SpawnOptions(workflow_id="fixed", monitored=True)
    assert runtime.spawned[2].options.name is None


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            'process.with_options{["workflow.bogus"] = 1}',
            "process.with_options: unknown process option 'workflow.bogus' (expected one of "
            "temporal.workflow.id, temporal.workflow.task_queue",
        ),
        (
            'process.with_options{["workflow.execution_timeout"] = "soon"}',
            "process.with_options: workflow.execution_timeout:",
        ),
        (
            'process.with_options{["workflow.id_conflict_policy"] = "maybe"}',
            "process.with_options: workflow.id_conflict_policy: 'maybe' is not one of fail, "
            "use_existing, terminate_existing",
        ),
        (
            'process.with_options{["workflow.retry_policy"] = {tries = 3}}',
            "process.with_options: workflow.retry_policy: unknown key 'tries'",
        ),
        (
            'process.with_options{["workflow.cron_schedule"] = "often"}',
            "process.with_options: workflow.cron_schedule: expected a cron expression",
        ),
        ("process.with_options{1, 2}", "process.with_options: expected a table with string keys"),
        ("process.with_options(5)", "process.with_options: expected a table of options"),
        (
            "process.with_options{}:with_options{bad = true}",
            "spawner:with_options: unknown process option 'bad'",
        ),
        ('process.with_options{}:with_name("")', "spawner:with_name: name must be a non-empty"),
        ("process.with_options{}:with_message(nil)", "spawner:with_message: topic must be"),
        ('process.with_options{}.spawn("app:x")', "spawner:spawn: call it with ':'"),
        (
            'process.with_options{}:with_message("t", function() end)',
            "spawner:with_message: payload[1]: a function cannot be converted to JSON",
        ),
    ],
)
async def test_spawn_option_errors_name_the_key(tmp_path: Path, code: str, message: str) -> None:
    with pytest.raises(LuaScriptError) as info:
        await run_workflow(tmp_path, code)
    assert info.value.message.startswith("wf.lua:1: " + message), info.value.message


# --- workflow module ------------------------------------------------------------------------


async def test_pid_id_info_and_history_length(tmp_path: Path) -> None:
    runtime = FakeRuntime()
    runtime.history_length = 77
    src = """
    return {process.pid(), process.id(), workflow.history_length(),
            workflow.info().history_length}
    """
    assert await run_workflow(tmp_path, src, runtime=runtime) == [SELF_PID, "app:wf", 77, 77]


async def test_version_branches(tmp_path: Path) -> None:
    src = """
    local v = workflow.version("new-discount", 1, 2)
    if v == 1 then return "old branch" end
    return "new branch"
    """
    old = FakeRuntime(versions={"new-discount": 1})
    assert await run_workflow(tmp_path, src, runtime=old) == "old branch"
    new = FakeRuntime()
    assert await run_workflow(tmp_path, src, runtime=new) == "new branch"
    assert new.version_calls == [("new-discount", 1, 2)]
    # The runtime's own refusal comes back as nil, err.
    refusing = FakeRuntime(versions={"new-discount": 5})
    src2 = "local v, err = workflow.version('new-discount', 1, 2) return {v == nil, err:kind()}"
    assert await run_workflow(tmp_path, src2, runtime=refusing) == [True, "INVALID"]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("workflow.version(nil, 1, 2)", "workflow.version: change_id must be a non-empty string"),
        ("workflow.version('c', 1.5, 2)", "workflow.version: min and max must be whole numbers"),
        ("workflow.version('c', 3, 2)", "workflow.version: min (3) is greater than max (2)"),
        ("workflow.attrs{tags = {}}", "workflow.attrs: unknown key 'tags' (expected search"),
        ("workflow.attrs{search = 1}", "workflow.attrs: search must be a table"),
        ("workflow.set_state(function() end)", "workflow.set_state: state: a function cannot"),
    ],
)
async def test_workflow_module_argument_errors(tmp_path: Path, code: str, message: str) -> None:
    with pytest.raises(LuaScriptError) as info:
        await run_workflow(tmp_path, code)
    assert info.value.message.startswith("wf.lua:1: " + message), info.value.message


async def test_set_state_and_attrs(tmp_path: Path) -> None:
    runtime = FakeRuntime()
    src = """
    assert(workflow.set_state({step = "waiting", items = {1, 2}, empty = {}}))
    assert(workflow.attrs{search = {CustomerId = "c1"}, memo = {note = "hi"}})
    assert(workflow.attrs{memo = {only = true}})
    workflow.set_state("done")
    """
    await run_workflow(tmp_path, src, runtime=runtime)
    assert runtime.state == "done"
    assert runtime.attrs == [({"CustomerId": "c1"}, {"note": "hi"}), (None, {"only": True})]


async def test_set_state_converts_to_json_form(tmp_path: Path) -> None:
    runtime = FakeRuntime()
    await run_workflow(
        tmp_path,
        'workflow.set_state({step = "w", items = {1, 2}, t = time.now()})',
        runtime=runtime,
    )
    assert runtime.state == {"step": "w", "items": [1, 2], "t": "2024-05-06T07:08:09.123456Z"}


# --- continue-as-new and the exceptions rule ------------------------------------------------


async def test_upgrade_propagates_and_cannot_be_caught(tmp_path: Path) -> None:
    runtime = FakeRuntime()
    runtime.deliver("pending", {"n": 1})
    src = """
    local ok, err = pcall(process.upgrade, {cursor = 5}, "x")
    return "swallowed: " .. tostring(err)
    """
    with pytest.raises(FakeContinueAsNew) as info:
        await run_workflow(tmp_path, src, runtime=runtime)
    assert info.value.new_args == [{"cursor": 5}, "x"]
    assert [m.topic for m in info.value.pending] == ["pending"]


async def test_upgrade_from_a_spawned_coroutine_propagates(tmp_path: Path) -> None:
    src = """
    coroutine.spawn(function() process.upgrade(1) end)
    process.inbox():receive()
    """
    with pytest.raises(FakeContinueAsNew) as info:
        await run_workflow(tmp_path, src)
    assert info.value.new_args == [1]


class _Broken(FakeRuntime):
    async def send(self, pid: str, topic: str, payload: Any) -> None:
        raise RuntimeError("the runtime has a bug")

    def set_state(self, value: Any) -> None:
        raise KeyError("state bug")


@pytest.mark.parametrize(
    ("code", "exc"),
    [
        ('pcall(process.send, "app:w/x", "t")', RuntimeError),
        ("pcall(workflow.set_state, 1)", KeyError),
    ],
)
async def test_non_wflow_errors_from_the_runtime_propagate(
    tmp_path: Path, code: str, exc: type[BaseException]
) -> None:
    with pytest.raises(exc):
        await run_workflow(tmp_path, code + "\nreturn 'swallowed'", runtime=_Broken())


async def test_process_is_a_global_and_a_module(tmp_path: Path) -> None:
    # Listing it in modules is allowed too, and not needed.
    src = "return rawequal(process, require('process'))"
    assert await _run_workflow(tmp_path, src, modules=["process"]) is True
    assert await _run_workflow(tmp_path, src, modules=[]) is True
