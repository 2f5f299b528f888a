"""The wire protocol between Lua and Python, declared once.

Lua code reaches Python in two ways:

- a **request**: a workflow coroutine yields `(name, args...)` to the driver, which awaits
  the handler and resumes the coroutine with what it returns (the intercepted calls that
  wait: a function call, a timer, a channel receive, ...);
- a **host call**: the Lua side calls a Python callable and gets its return values at once
  (the calls that answer immediately: the clock, a UUID, a new channel, ...).

`OPERATIONS` lists every one of them once, with, for each side (`"workflow"` or `"function"`)
where it exists, whether it is a request or a host call there. Its handler is the method
`_op_<name>` of one of the objects that serve that side (the temporalio workflow instance sends
each activation job to its `_apply_<job>` the same way):

| object | serves |
|---|---|
| `LuaRun` (`_lua_run.py`) | host calls of every run: clock, UUIDs, options, JSON, log |
| `WorkflowDriver` (`_workflow_driver.py`) | the workflow side's calls, processes, versions |
| `WorkflowChannels` (`_workflow_channels.py`) | channels, timers, the mailbox's channels |
| `FunctionHost` (`_function_runner.py`) | the function side's host calls (`ProcessClient`) |
| the checker (`_static_check.py`) | `LuaRun`'s, and a refusal for every other operation |

The Lua side (`lua/protocol.lua`) gets the same table: `B.ops.<name>(...)` yields a request or
calls the host function, so a Lua module never needs to know which one an operation is.

Adding an operation: one `Operation` below, one `_op_<name>` method on the object that serves
it, one call `B.ops.<name>(...)` in the Lua module that uses it.

Conventions: handlers return a tuple that becomes Lua's multiple return values; an operational
failure is `(None, err)` with `err` a Lua error object (a `WflowError` from the runtime). Any
other exception propagates out of the run (Lua's `pcall` cannot catch it).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

__all__ = [
    "OPERATIONS",
    "Fallback",
    "HostFunctions",
    "Kind",
    "Operation",
    "RequestHandler",
    "RequestHandlers",
    "Side",
    "operation",
    "operation_kinds",
]

Side = Literal["workflow", "function"]
"""Where Lua code runs: a `workflow.lua` run (replayed) or a `function.lua` call (real time)."""

Kind = Literal["request", "host"]
"""How an operation crosses: yielded to the driver (`request`) or called directly (`host`)."""

RequestHandler = Callable[..., Awaitable[Sequence[Any]]]
"""A request handler: awaited by the driver; returns the values the coroutine resumes with."""

Fallback = Callable[["Operation"], Callable[..., Any]]
"""Makes a host function for an operation no handler object serves (the checker's refusal)."""

_WORKFLOW_REQUEST: Mapping[Side, Kind] = {"workflow": "request"}
_WORKFLOW_HOST: Mapping[Side, Kind] = {"workflow": "host"}
_FUNCTION_HOST: Mapping[Side, Kind] = {"function": "host"}
_BOTH_HOST: Mapping[Side, Kind] = {"workflow": "host", "function": "host"}
# Recorded in a workflow (the driver awaits the runtime), a blocking call in a function.
_REQUEST_OR_HOST: Mapping[Side, Kind] = {"workflow": "request", "function": "host"}


@dataclasses.dataclass(frozen=True)
class Operation:
    """One operation of the protocol.

    Attributes:
        name: The name on both sides (`B.ops.<name>` in Lua).
        sides: For each side where the operation exists, how it crosses there.
        args: The arguments Lua passes, as documentation (`name: type`).
        doc: What it does and what it returns.
    """

    name: str
    sides: Mapping[Side, Kind]
    args: str
    doc: str

    @property
    def handler(self) -> str:
        """The name of the handler method: `_op_<name>`."""
        return f"_op_{self.name}"


OPERATIONS: tuple[Operation, ...] = (
    # -- funcs: function calls (activities) ---------------------------------------------
    Operation(
        "call_function",
        _WORKFLOW_REQUEST,
        "target: str, args_json: str, options: int",
        "funcs.call: run a function entry and wait; `value` or `nil, err`.",
    ),
    Operation(
        "start_call",
        _WORKFLOW_HOST,
        "target: str, args_json: str, options: int",
        "funcs.async: start a function call; its call id or `nil, err`.",
    ),
    Operation(
        "call_result",
        _WORKFLOW_REQUEST,
        "call_id: int",
        "future:result(): wait for a started call; `value` or `nil, err`.",
    ),
    Operation("call_done", _WORKFLOW_HOST, "call_id: int", "future:is_complete()."),
    Operation("cancel_call", _WORKFLOW_HOST, "call_id: int", "future:cancel()."),
    Operation(
        "call_channel",
        _WORKFLOW_HOST,
        "call_id: int",
        "future:channel(): the id of a channel that receives the outcome once.",
    ),
    Operation(
        "with_call_options",
        _BOTH_HOST,
        "base: int, options_json: str",
        "executor:with_options{...}: the id of the merged call options, or `nil, message`.",
    ),
    Operation(
        "with_call_context",
        _BOTH_HOST,
        "base: int, context_json: str",
        "executor:with_context{...}: the id of the new call options, or `nil, message`.",
    ),
    # -- time ---------------------------------------------------------------------------
    Operation(
        "sleep",
        _REQUEST_OR_HOST,
        "ms: float",
        "time.sleep: a durable timer in a workflow, a real (blocking) sleep in a function.",
    ),
    Operation("now_ns", _BOTH_HOST, "", "time.now, os.time: the clock in Unix nanoseconds."),
    Operation(
        "parse_duration",
        _BOTH_HOST,
        "value: str | float",
        "A duration in milliseconds, or `nil, message`.",
    ),
    Operation(
        "zone_offset",
        _BOTH_HOST,
        "name: str, unix_seconds: int",
        "A time zone's UTC offset and abbreviation at an instant, or `nil, kind, message`.",
    ),
    Operation(
        "zone_to_unix",
        _BOTH_HOST,
        "name: str, local_seconds: int",
        "time.date in a zone: the Unix seconds of a wall-clock time there.",
    ),
    Operation(
        "time_layouts",
        _BOTH_HOST,
        "",
        "The layout constants of the time module (`wflow.model.LAYOUTS`), as a table.",
    ),
    Operation(
        "time_format",
        _BOTH_HOST,
        "unix_ns: int, offset: int, abbrev: str, layout: str",
        "t:format(layout) with a Go layout (`wflow.model.format_layout`).",
    ),
    Operation(
        "time_parse",
        _BOTH_HOST,
        "layout: str, value: str, zone_kind: str, zone_name: str, offset: int",
        "time.parse: `unix_ns, zone_kind, zone_name, offset` or `nil, kind, message`.",
    ),
    Operation(
        "after_channel",
        _WORKFLOW_HOST,
        "ms: float",
        "time.after: the id of a channel that receives the time once, after `ms`.",
    ),
    Operation(
        "new_timer",
        _WORKFLOW_HOST,
        "ms: float",
        "time.timer: `timer_id, channel_id`.",
    ),
    Operation(
        "new_ticker",
        _WORKFLOW_HOST,
        "ms: float",
        "time.ticker: `timer_id, channel_id` (ticks every `ms`; stopped with stop_timer).",
    ),
    Operation("stop_timer", _WORKFLOW_HOST, "timer_id: int", "timer:stop(): was it active."),
    Operation(
        "reset_timer",
        _WORKFLOW_HOST,
        "timer_id: int, ms: float",
        "timer:reset(d): restart on the same channel; was it active.",
    ),
    # -- uuid, json, log, workflow info -----------------------------------------------------
    Operation("uuid4", _BOTH_HOST, "", "uuid.v4 (recorded in a workflow)."),
    Operation("uuid7", _BOTH_HOST, "", "uuid.v7 (recorded in a workflow)."),
    Operation(
        "uuid5",
        _BOTH_HOST,
        "namespace: str, name: str",
        "uuid.v5: the UUID, or `nil, message`.",
    ),
    Operation("uuid1", _BOTH_HOST, "", "uuid.v1 (deterministic in a workflow)."),
    Operation(
        "uuid3",
        _BOTH_HOST,
        "namespace: str, name: str",
        "uuid.v3: the UUID, or `nil, message`.",
    ),
    Operation(
        "uuid_inspect",
        _BOTH_HOST,
        "text: str, what: str, form: str | None",
        "uuid.validate / version / variant / parse / format: the answer, or `nil, message`.",
    ),
    Operation("random_seed", _BOTH_HOST, "", "The seed of math.random (signed 64 bits)."),
    Operation(
        "random_bytes",
        _BOTH_HOST,
        "n: int",
        "crypto.random.bytes: deterministic in a workflow, real random bytes in a function.",
    ),
    Operation(
        "random_string",
        _BOTH_HOST,
        "n: int, charset: str",
        "crypto.random.string: `n` characters of `charset` (deterministic in a workflow).",
    ),
    Operation(
        "context_json",
        _BOTH_HOST,
        "",
        "ctx.get / ctx.all: the run's context values as JSON text (see `ctx.lua`).",
    ),
    Operation(
        "json_decode",
        _BOTH_HOST,
        "text: str",
        "json.decode: `true, value` or `false, message`.",
    ),
    Operation("log", _BOTH_HOST, "message: str", "print: to the `lua_bridge.print` logger."),
    Operation(
        "workflow_info",
        _BOTH_HOST,
        "",
        "workflow.info(): a table of `wflow.model.WorkflowInfo` (raises in a function).",
    ),
    # -- channel --------------------------------------------------------------------------
    Operation("new_channel", _WORKFLOW_HOST, "capacity: int", "channel.new: its channel id."),
    Operation("close_channel", _WORKFLOW_HOST, "channel_id: int", "ch:close()."),
    Operation(
        "send_channel",
        _WORKFLOW_REQUEST,
        "channel_id: int, stash_id: int",
        "ch:send(v) of a stashed value: `true` or `nil, err` (closed channel).",
    ),
    Operation(
        "receive",
        _WORKFLOW_REQUEST,
        "channel_id: int",
        "ch:receive(): `stash_id, ok` (the received value is stashed in Lua).",
    ),
    Operation(
        "select",
        _WORKFLOW_REQUEST,
        "default: bool, *channel_ids: int",
        "channel.select: `index, stash_id, ok` (0-based index; -1 for the default case).",
    ),
    Operation(
        "spawn_coroutine",
        _WORKFLOW_HOST,
        "thread_id: int",
        "coroutine.spawn: step the root coroutine `thread_id` concurrently.",
    ),
    # -- process --------------------------------------------------------------------------
    Operation("process_pid", _WORKFLOW_HOST, "", "process.pid(): this workflow's PID."),
    Operation("entry_id", _BOTH_HOST, "", "process.id(): the running entry's ID."),
    Operation(
        "argument_count_error",
        _BOTH_HOST,
        "entry: str, params: str, variadic: bool, given: int",
        "The entry runner: the message of a call with too many arguments, or `nil`.",
    ),
    Operation("inbox_channel", _WORKFLOW_HOST, "", "process.inbox(): the inbox's channel id."),
    Operation(
        "listen_channel",
        _WORKFLOW_HOST,
        "topic: str, message: bool",
        "process.listen(topic, {message = m}): that topic's channel id, or `nil, err`.",
    ),
    Operation(
        "unlisten_channel",
        _WORKFLOW_HOST,
        "channel_id: int",
        "process.unlisten(ch): whether `ch` was a listen channel (now closed).",
    ),
    Operation("events_channel", _WORKFLOW_HOST, "", "process.events(): its channel id."),
    Operation(
        "heartbeat",
        _FUNCTION_HOST,
        "details_json: str",
        "funcs.heartbeat(...): record a heartbeat of this call with its details.",
    ),
    Operation(
        "heartbeat_details",
        _FUNCTION_HOST,
        "",
        "funcs.heartbeat_details(): the previous attempt's last heartbeat details (JSON).",
    ),
    Operation(
        "call_canceled",
        _FUNCTION_HOST,
        "",
        "funcs.is_canceled() in a function: was cancellation of this call requested.",
    ),
    Operation(
        "process_api_available",
        _FUNCTION_HOST,
        "",
        "Whether this function call has a `ProcessClient` (else process.* raise).",
    ),
    Operation(
        "send_message",
        _REQUEST_OR_HOST,
        "pid: str, topic: str, payload_json: str, as_error: bool",
        "process.send: `true` or `nil, err`. `as_error` (workflows): the payload is an error "
        "object answering an update.",
    ),
    Operation(
        "spawn_child",
        _REQUEST_OR_HOST,
        "entry: str, host: str | None, args_json: str, options: int, monitored: bool",
        "process.spawn / spawn_monitored: `pid` or `nil, err`.",
    ),
    Operation(
        "exec_child",
        _REQUEST_OR_HOST,
        "entry: str, host: str | None, args_json: str, options: int",
        "process.exec: start and wait; `value` or `nil, err`.",
    ),
    Operation(
        "cancel_process",
        _REQUEST_OR_HOST,
        "pid: str, reason: str | None",
        "process.cancel(pid, reason): `true` or `nil, err`.",
    ),
    Operation(
        "terminate_process",
        _REQUEST_OR_HOST,
        "pid: str, reason: str | None",
        "process.terminate: `true` or `nil, err`.",
    ),
    Operation(
        "monitor_process",
        _WORKFLOW_REQUEST,
        "pid: str",
        "process.monitor: `true` or `nil, err`.",
    ),
    Operation(
        "unmonitor_process",
        _WORKFLOW_REQUEST,
        "pid: str",
        "process.unmonitor: `true` or `nil, err`.",
    ),
    Operation(
        "link_process",
        _WORKFLOW_REQUEST,
        "pid: str",
        "process.link (and the link of spawn_linked): `true` or `nil, err`.",
    ),
    Operation(
        "unlink_process",
        _WORKFLOW_REQUEST,
        "pid: str",
        "process.unlink: `true` or `nil, err`.",
    ),
    Operation(
        "process_options",
        _WORKFLOW_HOST,
        "",
        "process.get_options(): `{trap_links, upgradable}`.",
    ),
    Operation(
        "set_process_options",
        _WORKFLOW_HOST,
        "options_json: str",
        "process.set_options{...}: `true` or `nil, err`.",
    ),
    Operation(
        "continue_as_new",
        _WORKFLOW_REQUEST,
        "args_json: str",
        "process.upgrade: the runtime continues as new (does not return).",
    ),
    Operation(
        "with_spawn_options",
        _BOTH_HOST,
        "base: int, options_json: str",
        "process.with_options{...}: the id of the merged spawn options, or `nil, message`.",
    ),
    Operation(
        "with_spawn_name",
        _BOTH_HOST,
        "base: int, name: str",
        "spawner:with_name(name): the id of the new spawn options, or `nil, message`.",
    ),
    Operation(
        "with_spawn_message",
        _BOTH_HOST,
        "base: int, topic: str, payload_json: str",
        "spawner:with_message(topic, ...): the id of the new spawn options, or `nil, message`.",
    ),
    Operation(
        "with_spawn_context",
        _BOTH_HOST,
        "base: int, context_json: str",
        "process.with_context{...} / spawner:with_context{...}: the id of the new spawn "
        "options, or `nil, message`.",
    ),
    Operation(
        "register_name",
        _WORKFLOW_REQUEST,
        "name: str, pid: str | None",
        "process.registry.register(name, pid?): `true` or `nil, err` (processes only).",
    ),
    Operation(
        "lookup_name",
        _WORKFLOW_REQUEST,
        "name: str",
        "process.registry.lookup(name): the PID, `nil` when none, or `nil, err`.",
    ),
    # -- workflow -------------------------------------------------------------------------
    Operation(
        "get_version",
        _WORKFLOW_HOST,
        "change_id: str, min_version: int, max_version: int",
        "workflow.version: the version, or `nil, err`.",
    ),
    Operation(
        "set_state",
        _WORKFLOW_HOST,
        "state_json: str",
        "workflow.set_state: `true` or `nil, err`.",
    ),
    Operation(
        "set_attrs",
        _WORKFLOW_HOST,
        "search_json: str | None, memo_json: str | None",
        "workflow.attrs{search =, memo =}: `true` or `nil, err`.",
    ),
    # -- the bridge itself ------------------------------------------------------------------
    Operation(
        "load_module",
        _BOTH_HOST,
        "name: str",
        "The bridge module `lua/<name>.lua` loaded as a function, on its first `require`/use.",
    ),
)

_BY_NAME: Mapping[str, Operation] = {op.name: op for op in OPERATIONS}
if len(_BY_NAME) != len(OPERATIONS):  # pragma: no cover - a mistake in the table above
    raise RuntimeError("lua_bridge: an operation is declared twice")


def operation(name: str) -> Operation:
    """Return the operation called `name`.

    Raises:
        KeyError: No such operation.
    """
    return _BY_NAME[name]


def operation_kinds(side: Side) -> dict[str, Kind]:
    """Return `{name: kind}` of every operation that exists on `side` (for the Lua side)."""
    return {op.name: op.sides[side] for op in OPERATIONS if side in op.sides}


@functools.lru_cache(maxsize=128)
def _plan(
    side: Side, kind: Kind, handler_types: tuple[type, ...]
) -> tuple[Mapping[str, tuple[int, str]], Mapping[str, Operation], frozenset[str]]:
    """Which handler (by position) serves each operation of `kind` on `side`, and which not.

    Resolved on the handlers' classes, once per process per combination: every run of a side
    has handlers of the same classes, and looking up ~45 methods per run was a tenth of a
    run's cost.
    """
    served: dict[str, tuple[int, str]] = {}
    missing: dict[str, Operation] = {}
    for op in OPERATIONS:
        if op.sides.get(side) != kind:
            continue
        for index, cls in enumerate(handler_types):
            if getattr(cls, op.handler, None) is not None:
                served[op.name] = (index, op.handler)
                break
        else:
            missing[op.name] = op
    return served, missing, frozenset(served)


class HostFunctions(Mapping[str, Callable[..., Any]]):
    """The host functions of one run, by operation name, bound on first use.

    Args:
        side: Which side's host operations.
        handlers: The objects whose `_op_<name>` methods serve them, searched in order.
        fallback: Makes the function of an operation no object serves (made on its first
            use); without it, such an operation is an error.

    Raises:
        LookupError: A host operation of `side` has no handler and there is no fallback.
    """

    def __init__(
        self, side: Side, handlers: Sequence[object], fallback: Fallback | None = None
    ) -> None:
        self._handlers = tuple(handlers)
        self._served, missing, served_names = _plan(
            side, "host", tuple(type(obj) for obj in self._handlers)
        )
        if missing and fallback is None:
            op = next(iter(missing.values()))
            raise LookupError(f"lua_bridge: no handler {op.handler} for host call {op.name}")
        self.names: frozenset[str] = served_names | frozenset(missing) if missing else served_names
        """The operations these functions serve."""
        self._missing = missing
        self._fallback = fallback
        self._made: dict[str, Callable[..., Any]] = {}

    def __getitem__(self, name: str) -> Callable[..., Any]:
        found = self._served.get(name)
        if found is not None:
            return getattr(self._handlers[found[0]], found[1])  # type: ignore[no-any-return]
        made = self._made.get(name)
        if made is None:
            op = self._missing[name]  # KeyError: not a host operation of this side
            assert self._fallback is not None  # checked in __init__
            made = self._made[name] = self._fallback(op)
        return made

    def __contains__(self, name: object) -> bool:
        return name in self._served or name in self._missing

    def __iter__(self) -> Iterator[str]:
        yield from self._served
        yield from self._missing

    def __len__(self) -> int:
        return len(self._served) + len(self._missing)


class RequestHandlers(Mapping[str, RequestHandler]):
    """The request handlers of one run, by operation name, bound when a request comes.

    A dict of ~20 bound methods was ~1.6 KiB of every cached workflow; a waiting run makes
    one request at a time.

    Args:
        side: Which side's requests.
        handlers: The objects whose `_op_<name>` coroutine methods serve them, searched in
            order.

    Raises:
        LookupError: A request of `side` has no handler method.
    """

    def __init__(self, side: Side, handlers: Sequence[object]) -> None:
        self._handlers = tuple(handlers)
        self._plan, missing, _ = _plan(side, "request", tuple(type(obj) for obj in handlers))
        if missing:
            op = next(iter(missing.values()))
            raise LookupError(f"lua_bridge: no handler {op.handler} for request {op.name}")

    def __getitem__(self, name: str) -> RequestHandler:
        index, attr = self._plan[name]
        return getattr(self._handlers[index], attr)  # type: ignore[no-any-return]

    def __contains__(self, name: object) -> bool:
        return name in self._plan

    def __iter__(self) -> Iterator[str]:
        return iter(self._plan)

    def __len__(self) -> int:
        return len(self._plan)
