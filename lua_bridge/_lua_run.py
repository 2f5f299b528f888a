"""One Lua run: the Lua state, the host calls every run has, and stepping root coroutines.

A `LuaRun` is created per workflow run (or function call, or static check) and closed at its
end. Closing drops every reference to the Lua state, so lupa closes it right away (the Lua
registry holds the host callables, which would otherwise keep the runtime alive in a
reference cycle that Python's garbage collector cannot see).

The host calls here are the protocol's operations that do not depend on the side: the clock,
UUIDs, randomness, durations, call and spawn options, JSON, logging (see `_protocol.py`).
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol, TypeVar

import lupa.lua54 as lupa54

from lua_bridge._chunks import Chunk
from lua_bridge._limits import LuaLimits
from lua_bridge._lua_errors import LuaResourceError, LuaScriptError, LuaValueError
from lua_bridge._lua_state import create_bridge, module_bytecode
from lua_bridge._lua_values import LUA_INT_MAX, LuaValues
from lua_bridge._parking import watch
from lua_bridge._protocol import Fallback, HostFunctions, Side
from lua_bridge._run_journal import (
    GC,
    HOST,
    OUT,
    START,
    STEP,
    JournalReplay,
    LuaBuild,
    RunJournal,
    build_answer,
    build_values,
)
from wflow.model import (
    LAYOUTS,
    ActivityOptions,
    ErrorKind,
    RealSources,
    SpawnOptions,
    WflowError,
    WorkflowInfo,
    argument_count_error,
    format_layout,
    format_uuid,
    load_zone,
    make_uuid1,
    message_payload,
    parse_duration,
    parse_layout,
    uuid_facts,
    zone_offset,
)

__all__ = ["ClockLike", "LocalClock", "LuaRun", "unix_ns"]

_log = logging.getLogger("lua_bridge.print")
_parking_log = logging.getLogger("lua_bridge.parking")
_MS = timedelta(milliseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class ClockLike(Protocol):
    """The synchronous, recorded sources a run reads: a `WorkflowRuntime`, or `LocalClock`."""

    def info(self) -> WorkflowInfo: ...

    def now(self) -> datetime: ...

    def uuid4(self) -> uuid.UUID: ...

    def uuid7(self) -> uuid.UUID: ...

    def random_seed(self) -> int: ...


class LocalClock(RealSources):
    """Real time and randomness, for function calls (which are not replayed)."""

    def info(self) -> WorkflowInfo:
        raise WflowError("workflow.info() is only available in workflows", ErrorKind.INVALID)


def unix_ns(moment: datetime) -> int:
    """Return `moment` in Unix nanoseconds (how Lua time objects hold time)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _ms_number(duration: timedelta) -> int | float:
    ms = duration / _MS
    return int(ms) if ms == int(ms) else ms


_T = TypeVar("_T")


def _stored(store: list[_T], make: Callable[[], _T]) -> tuple[Any, ...]:
    """`(index,)` of `make()`'s value, appended to `store`; `(nil, message)` if it refuses.

    Options objects live on the Python side; Lua holds their index (`with_options` chains).
    """
    try:
        value = make()
    except WflowError as exc:
        return None, exc.message
    store.append(value)
    return (len(store) - 1,)


class LuaRun:
    """A sandboxed Lua state for one run, with the host calls every run has.

    Args:
        side: `"workflow"` or `"function"`.
        clock: Where time, UUIDs, randomness and workflow info come from.
        chunks: The entry's chunk and its imported libraries.
        limits: Memory and instruction limits.
        handlers: The objects serving the side's other operations (`_op_<name>` methods; see
            `_protocol.py`), searched before this run's own.
        fallback: Makes the host function of an operation no handler serves (the static
            checker's refusal); without it, every operation needs a handler.

    Raises:
        LuaResourceError: The memory limit is too small to start the runtime.
        LookupError: An operation of the side has no handler and there is no fallback.
    """

    def __init__(
        self,
        *,
        side: Side,
        clock: ClockLike,
        chunks: Mapping[str, Chunk],
        limits: LuaLimits,
        handlers: Sequence[object] = (),
        fallback: Fallback | None = None,
        park_after: float | None = None,
    ) -> None:
        self.side: Side = side
        self.clock = clock
        self.limits = limits
        # Call and spawn options live here, named by index from Lua (0: the defaults); an
        # executor or spawner is immutable, so each `with_*` appends.
        self.options: list[ActivityOptions] = [ActivityOptions()]
        self.spawn_options: list[SpawnOptions] = [SpawnOptions()]
        self.host_failure: BaseException | None = None
        self._host = HostFunctions(side, (*handlers, self), fallback)
        self._chunks = chunks
        # In the order the state would ask for them (both are recorded in workflows); kept
        # to build the same state again after parking.
        self._random_seed = self._op_random_seed()
        # A Lua integer holds Unix nanoseconds up to the year 2262; the time-skipping test
        # server's clock passes that after enough skipped 10-year timeouts, and the state
        # must still start (os.clock only counts from this point).
        self._start_ns = min(self.now_ns(), LUA_INT_MAX)
        self.park_after = park_after if side == "workflow" else None
        """Seconds a waiting run keeps its Lua state before parking (None: never)."""
        self.journal = RunJournal() if self.park_after is not None else None
        """The calls that rebuild a parked state (None: this run never parks)."""
        self._lock = threading.Lock()  # the parking thread against the run's own thread
        self._replay: JournalReplay | None = None
        self._inside = 0  # depth of calls into Lua (a step, a host call, a LuaBuild)
        self._last_step = time.monotonic()
        self._collected = False
        self.parked = False
        """Whether the Lua state is dropped (the next step rebuilds it)."""
        self._closed = False
        self._build_state()
        if self.park_after is not None:
            watch(self)

    def _build_state(self) -> None:
        where = "functions" if self.side == "function" else "workflows"
        try:
            bridge = create_bridge(
                where=where,
                host=self._host,
                chunks=self._chunks,
                limits=self.limits,
                on_host_error=self._host_failed,
                answer=self._answer_host,
                random_seed=self._random_seed,
                start_ns=self._start_ns,
            )
        except lupa54.LuaMemoryError:
            raise LuaResourceError(
                "memory", self.limits.max_memory, "starting the Lua runtime"
            ) from None
        self.lua: Any = bridge.lua
        self.b: Any = bridge.b
        self.values = LuaValues(self.lua, self.b)
        self._step = self.b.step

    def _answer_host(self, name: str, args: tuple[Any, ...]) -> Any:
        """Answer host call `name`: from its handler, or from the journal while rebuilding."""
        replay = self._replay
        if replay is not None:
            return replay.host_answer(name)
        answer = self._host[name](*args)
        journal = self.journal
        if journal is not None:
            journal.add_values(HOST, name, answer)
        return build_answer(answer)

    def _host_failed(self, exc: BaseException) -> None:
        # Lua sees only HOSTFAIL; the exception itself is re-raised after the slice.
        if self.host_failure is None:
            self.host_failure = exc

    def bridge_field(self, name: str) -> Any:
        """Return field `name` of the bridge table `B`, loading its file first if need be.

        The error, time and message objects' fields (`new_error`, `new_time`, `new_message`,
        ...) exist once their file ran (`LAZY_CORE_FILES`): read them through here.
        """
        return self.call_lua(self.b.field, name)

    def to_lua(self, value: Any, path: str = "value") -> Any:
        """Return `value` as a Lua value (see `LuaValues.to_lua`).

        Raises:
            LuaValueError: The value is not JSON data.
            LuaResourceError: The memory limit was reached while building it.
        """
        if not self._inside:
            self._outside()
        try:
            return self.values.to_lua(value, path)
        except lupa54.LuaMemoryError:
            raise LuaResourceError("memory", self.limits.max_memory) from None

    def lua_error(self, error: WflowError) -> Any:
        """Return a Lua error object for `error`.

        Raises:
            LuaResourceError: The memory limit was reached while building it.
        """
        if not self._inside:
            self._outside()
        try:
            return self.values.error(error)
        except lupa54.LuaMemoryError:
            raise LuaResourceError("memory", self.limits.max_memory) from None

    def failed(self, error: WflowError) -> tuple[Any, ...]:
        """Return Lua's `nil, err` for `error` (an operation's operational failure).

        The error object is a `LuaBuild`: it is built when it crosses into Lua.
        """
        return None, LuaBuild(lambda: self.lua_error(error))

    def data(self, value: Any, path: str = "value") -> Any:
        """Return `value` to cross into Lua as a Lua value (`to_lua` at the crossing).

        Raises (at the crossing) what `to_lua` raises.
        """
        if value is None or type(value) is str or type(value) is bool:
            return value
        return LuaBuild(lambda: self.to_lua(value, path))

    # -- host calls of every run (see _protocol.OPERATIONS) ------------------------------------

    def now_ns(self) -> int:
        """Return the clock's time in Unix nanoseconds."""
        return unix_ns(self.clock.now())

    def _op_now_ns(self) -> tuple[int] | tuple[None, str]:
        now = self.now_ns()
        if now > LUA_INT_MAX:
            # A Lua time value is Unix nanoseconds in a Lua integer: it ends in April 2262.
            # Only the time-skipping test server gets past it (each skipped 10-year workflow
            # timeout moves its clock on); Lua raises this at the caller's line (B.clock_ns).
            return None, (
                f"the workflow's clock reads {self.clock.now():%Y-%m-%d}, past the last time "
                "a Lua time value holds (2262-04-11); on the time-skipping test server, start "
                "a fresh server (its clock jumped past that after many skipped timeouts)"
            )
        return (now,)

    def _op_uuid4(self) -> str:
        return str(self.clock.uuid4())

    def _op_uuid7(self) -> str:
        return str(self.clock.uuid7())

    def _op_uuid5(self, namespace: str, name: str) -> tuple[Any, ...]:
        try:
            return (str(uuid.uuid5(uuid.UUID(namespace), name)),)
        except ValueError as exc:
            return None, f"invalid namespace UUID {namespace!r}: {exc}"

    def _op_uuid1(self) -> str:
        return str(make_uuid1(unix_ns(self.clock.now()), self.clock.random_seed()))

    def _op_uuid3(self, namespace: str, name: str) -> tuple[Any, ...]:
        try:
            return (str(uuid.uuid3(uuid.UUID(namespace), name)),)
        except ValueError as exc:
            return None, f"invalid namespace UUID {namespace!r}: {exc}"

    def _op_uuid_inspect(self, text: str, what: str, form: str | None = None) -> tuple[Any, ...]:
        try:
            if what == "format":
                return (format_uuid(text, str(form)),)
            facts = uuid_facts(text)
        except ValueError as exc:
            return (False,) if what == "validate" else (None, f"{exc}")
        if what == "validate":
            return (True,)
        return (self.data(facts, "uuid") if what == "parse" else facts[what],)

    def _random(self) -> random.Random | None:
        # Workflows draw from their deterministic randomness; functions use the OS's.
        return random.Random(self.clock.random_seed()) if self.side == "workflow" else None

    def _op_random_bytes(self, n: int) -> bytes:
        rng = self._random()
        return rng.randbytes(int(n)) if rng is not None else secrets.token_bytes(int(n))

    def _op_random_string(self, n: int, charset: str) -> str:
        rng = self._random()
        choose = rng.choice if rng is not None else secrets.choice
        return "".join(choose(charset) for _ in range(int(n)))

    def _op_context_json(self) -> str:
        return json.dumps(dict(self.clock.info().context) if self.side == "workflow" else {})

    def _op_zone_offset(self, name: str, unix_seconds: int) -> tuple[Any, ...]:
        try:
            return zone_offset(name, int(unix_seconds))
        except WflowError as exc:
            return None, exc.kind.value, exc.message

    def _op_zone_to_unix(self, name: str, local_seconds: int) -> int:
        wall = datetime(1970, 1, 1) + timedelta(seconds=int(local_seconds))
        return int(wall.replace(tzinfo=load_zone(name)).timestamp())

    def _op_time_layouts(self) -> Any:
        return self.data(dict(LAYOUTS), "layouts")

    def _op_time_format(self, unix_ns: int, offset: int, abbrev: str, layout: str) -> str:
        zone = timezone(timedelta(seconds=int(offset)), abbrev)
        moment = datetime.fromtimestamp(unix_ns // 1_000_000_000, zone)
        return format_layout(moment, layout, nanosecond=int(unix_ns) % 1_000_000_000)

    def _op_time_parse(
        self, layout: str, value: str, kind: str, name: str, offset: int
    ) -> tuple[Any, ...]:
        try:
            zone = {"utc": timezone.utc, "fixed": timezone(timedelta(seconds=int(offset)), name)}
            tz = zone[kind] if kind in zone else load_zone(name)
            moment = parse_layout(layout, value, tz)
        except WflowError as exc:
            return None, exc.kind.value, exc.message
        ns = (
            unix_ns(moment.astimezone(timezone.utc))
            if moment.year > 1
            else unix_ns(moment.replace(tzinfo=timezone.utc) - (moment.utcoffset() or timedelta(0)))
        )
        if moment.tzinfo is tz:
            return ns, kind, name, offset
        if moment.tzinfo is timezone.utc:
            return ns, "utc", "UTC", 0
        shift = moment.utcoffset() or timedelta(0)
        return ns, "fixed", moment.tzname() or "", int(shift.total_seconds())

    def _op_random_seed(self) -> int:
        seed = self.clock.random_seed() & ((1 << 64) - 1)
        return seed - (1 << 64) if seed >= 1 << 63 else seed

    def _op_parse_duration(self, value: Any) -> tuple[Any, ...]:
        try:
            return (_ms_number(parse_duration(value, number_unit=_MS)),)
        except WflowError as exc:
            return None, exc.message
        except (ValueError, OverflowError, TypeError) as exc:
            return None, f"invalid duration {value!r}: {exc}"

    def _op_argument_count_error(
        self, entry: str, params: str, variadic: bool, given: int
    ) -> str | None:
        # Lua parameters are all optional (a missing one is nil): only extra ones are refused.
        names = params.split(",") if params else []
        error = argument_count_error(entry, names, 0, bool(variadic), int(given))
        return None if error is None else error.message

    def _op_with_call_options(self, base: int, text: str) -> tuple[Any, ...]:
        data = json.loads(text)
        return _stored(self.options, lambda: self.options[base].merged(data, number_unit=_MS))

    def _op_with_call_context(self, base: int, text: str) -> tuple[Any, ...]:
        values = json.loads(text)
        if not isinstance(values, dict):
            return None, "expected a table with string keys"
        self.options.append(self.options[base].with_context(values))
        return (len(self.options) - 1,)

    def _add_spawn_options(self, make: Callable[[], SpawnOptions]) -> tuple[Any, ...]:
        return _stored(self.spawn_options, make)

    def _op_with_spawn_options(self, base: int, text: str) -> tuple[Any, ...]:
        data = json.loads(text)
        if not isinstance(data, dict):
            return None, 'expected a table with string keys like ["workflow.id"]'
        return self._add_spawn_options(
            lambda: self.spawn_options[base].merged(data, number_unit=_MS)
        )

    def _op_with_spawn_name(self, base: int, name: str) -> tuple[Any, ...]:
        return self._add_spawn_options(lambda: self.spawn_options[base].with_name(name))

    def _op_with_spawn_message(self, base: int, topic: str, payload_json: str) -> tuple[Any, ...]:
        payload = message_payload(json.loads(payload_json))
        return self._add_spawn_options(
            lambda: self.spawn_options[base].with_message(topic, payload)
        )

    def _op_with_spawn_context(self, base: int, text: str) -> tuple[Any, ...]:
        values = json.loads(text)
        if not isinstance(values, dict):
            return None, "expected a table with string keys"
        return self._add_spawn_options(lambda: self.spawn_options[base].with_context(values))

    def _op_json_decode(self, text: str) -> tuple[Any, ...]:
        try:
            # Built here to answer `nil, err` for what Lua cannot hold.
            data = json.loads(text)
            return True, LuaBuild(lambda: self.to_lua(data), self.values.to_lua(data))
        # LuaValueError too (NaN, an integer beyond 64 bits): `nil, err`, as the docs say, not
        # an error that ends the run.
        except (ValueError, RecursionError, LuaValueError) as exc:
            return False, exc.message if isinstance(exc, LuaValueError) else f"invalid JSON: {exc}"

    def _op_workflow_info(self) -> Any:
        return self.data(self.clock.info().to_dict(), "info")

    def _op_log(self, message: str) -> None:
        _log.info("%s", message)

    def _op_load_module(self, name: str) -> Any:
        return LuaBuild(lambda: self._load_module(name))

    def _load_module(self, name: str) -> Any:
        # Loaded here, a function: its bytecode never becomes a Lua string (garbage) in the state.
        try:
            return self.lua.compile(module_bytecode(name), name=f"=wflow/{name}.lua", mode="b")
        except lupa54.LuaMemoryError:
            return None  # the state's memory limit: Lua raises its own "not enough memory"

    # -- running ------------------------------------------------------------------------

    def start(self, key: str, method: str) -> int:
        """Load the entry chunk `key` and return the id of the root coroutine that runs it.

        Raises:
            LuaScriptError: The chunk has a syntax error.
        """
        with self._lock:
            self._live()
            if self.journal is not None:
                self.journal.add((START, key, method))
            result = self._call_inside(self.b.start_entry, key, method)
        if isinstance(result, tuple):
            raise LuaScriptError(str(result[1]))
        return int(result)

    def step(self, tid: int, *args: Any) -> tuple[Any, ...]:
        """Resume root coroutine `tid`; return Lua's report (`"yield"`, op, ... / `"done"`, ...).

        `args` may hold `LuaBuild`s: they are built now, in the run's state.

        Raises:
            LuaResourceError: A limit was exceeded.
            BaseException: A host function raised it during the slice.
        """
        with self._lock:
            self._live()
            journal = self.journal
            if journal is not None:
                journal.add_values(STEP, tid, args)
            out = self._call_inside(self._step, tid, *args)
            if journal is not None:
                journal.add((OUT, out[0], out[1] if out[0] == "yield" else None))
            if out[0] == "yield" and not self._collected:
                self._collect_garbage()
            self._last_step = time.monotonic()
        if out[0] == "limit":
            limit = self.limits.max_memory if out[1] == "memory" else self.limits.max_instructions
            raise LuaResourceError(str(out[1]), limit)
        if self.park_after == 0 and out[0] == "yield":
            self.park()
        return tuple(out)

    def _call_inside(self, fn: Any, *args: Any) -> Any:
        """`call_lua(fn, *args)` as a crossing: `LuaBuild`s in `args` built, inside the run."""
        self._inside += 1
        try:
            return self.call_lua(fn, *build_values(args))
        finally:
            self._inside -= 1

    def _collect_garbage(self) -> None:
        """Collect the state's garbage (a full cycle of Lua's collector), once per run.

        Done when the run first waits on its runtime. Building the state, loading the entry
        and the modules it requires leave ~10-13 KiB of garbage (the core files' main chunks,
        temporaries); Lua's collector frees it only as the state allocates more, and a cached
        workflow that waits allocates nothing. Done at the same point of the run every time,
        it keeps the run deterministic (weak tables, `collectgarbage("count")` see the same
        state in a replay, and in a state rebuilt after parking).
        """
        self._collected = True
        if self.journal is not None:
            self.journal.add((GC,))
        self.lua.gccollect()

    # -- parking (see _run_journal.py) -----------------------------------------------------

    def idle_for(self, now: float) -> float:
        """Seconds since the last step ended, by `time.monotonic()` (0 while it runs)."""
        return 0.0 if self._lock.locked() else now - self._last_step

    def park(self) -> bool:
        """Drop the Lua state, if the run is idle and its journal can rebuild it.

        The next step (of any of its coroutines) rebuilds the state first. Returns whether
        the state was dropped; a busy run (its own thread is inside it) is left alone.
        """
        if not self._lock.acquire(blocking=False):
            return False
        try:
            journal = self.journal
            if self._closed or self.parked or journal is None or not journal.enabled:
                return False
            self._drop_state()
            self.parked = True
            _parking_log.debug("parked a Lua state (journal: %d entries)", len(journal.entries))
            return True
        finally:
            self._lock.release()

    def _live(self) -> None:
        """Rebuild a parked state: a fresh state run through the journal (lock held)."""
        if self._closed:
            raise RuntimeError("the Lua run is closed")
        if not self.parked:
            return
        assert self.journal is not None  # only a journaled run parks
        started = time.perf_counter()
        self._build_state()
        replay = self._replay = JournalReplay(self.journal.entries)
        try:
            while (entry := replay.next_call()) is not None:
                if entry[0] == START:
                    self._call_inside(self.b.start_entry, entry[1], entry[2])
                elif entry[0] == STEP:
                    replay.check_out(self._call_inside(self._step, entry[1], *entry[2]))
                elif entry[0] == GC:
                    self.lua.gccollect()
                else:
                    raise RuntimeError(f"internal error in the Lua bridge: journal entry {entry!r}")
        finally:
            self._replay = None
        self.parked = False
        _parking_log.debug(
            "rebuilt a parked Lua state from %d journal entries in %.2f ms",
            len(self.journal.entries),
            (time.perf_counter() - started) * 1000,
        )

    def _outside(self) -> None:
        """Python builds a Lua value outside a step: the run can no longer park.

        Every Lua value crosses as a `LuaBuild` at a step or a host call; one built
        elsewhere would belong to a state parking could drop. Parking at every wait
        (`park_after` 0, the test setting) makes such a bug fail at once.
        """
        journal = self.journal
        if journal is None or self._inside:
            return
        if self.park_after == 0:
            raise RuntimeError("internal error in the Lua bridge: a Lua value built outside a step")
        with self._lock:
            journal.stop("a Lua value was built outside a step")
            self._live()

    def call_lua(self, fn: Any, *args: Any) -> Any:
        """Call a bridge function, translating lupa's errors and re-raising host failures."""
        if self._closed:
            raise RuntimeError("the Lua run is closed")
        if not self._inside:
            self._outside()
        try:
            result = fn(*args)
        except lupa54.LuaMemoryError:
            raise LuaResourceError("memory", self.limits.max_memory) from None
        except lupa54.LuaError as exc:
            failure = self.host_failure
            if failure is not None:
                self.host_failure = None
                raise failure from None
            raise LuaScriptError(f"internal error in the Lua bridge: {exc}") from None
        failure = self.host_failure
        if failure is not None:
            self.host_failure = None
            raise failure
        return result

    def close(self) -> None:
        """Release the Lua state now (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._drop_state()
            self.journal = None

    def _drop_state(self) -> None:
        # Every reference to the state: lupa closes it when the last one goes.
        self._step = None
        self.values = None  # type: ignore[assignment]
        self.b = None
        self.lua = None
