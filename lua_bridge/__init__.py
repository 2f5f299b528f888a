"""Lua workflows and functions on lupa (Lua 5.4), driving the shared `wflow.model`.

`LuaEngine` loads `workflow.lua` / `function.lua` registry entries as
`wflow.model.WorkflowProgram` / `wflow.model.FunctionProgram`; the Temporal executor runs them
without knowing they are Lua (and never imports lupa).

Exception tree:

    Exception
    ├── LuaScriptError       unhandled Lua error, syntax error, result that is no JSON
    │   └── LuaValueError    a value that cannot cross between Lua and Python
    └── LuaResourceError     memory or instruction limit exceeded

A workflow whose Lua code returns `nil, err` raises `wflow.model.WflowError` instead.

Layout (private modules, each named after what it holds):

    _protocol.py           every Lua request and host call, declared once (OPERATIONS)
    _lua_engine.py         LuaEngine (a wflow.model.Engine) and the two program classes
    _workflow_driver.py    WorkflowDriver: steps a workflow's coroutines, serves its requests
    _workflow_channels.py  the channels and timers of a workflow run
    _function_runner.py    run_function and FunctionHost (a function's process calls)
    _static_check.py       LuaEngine.check (`wflow validate`)
    _call_scan.py          a file's literal call targets and unknown module names (for it)
    _lua_run.py            LuaRun: one run's Lua state and the host calls every run has
    _run_journal.py       LuaBuild, and the journal a parked run's state is rebuilt from
    _parking.py            the thread that parks idle runs' states (`limits.park_after`)
    _lua_state.py          the sandboxed LuaRuntime factory; the bridge's bytecode
    _lua_values.py         Python -> Lua values; `nil, err` -> WflowError
    _chunks.py             an entry and its imported libraries as Lua chunks
    _limits.py, _lua_errors.py
    lua/protocol.lua, sandbox.lua,
    entry.lua              the core every run loads
    lua/codec.lua, pattern_budget.lua, error_object.lua, time_object.lua,
    duration_object.lua, location_object.lua,
    message_object.lua     the encoder, user patterns' budget checks, objects' code: loaded
                           when one of its `B` fields is first read
    lua/funcs.lua, time.lua, uuid.lua, channel.lua, process.lua, workflow.lua, errors.lua,
    json.lua, os.lua       one file per Lua module, loaded on its first `require` or use

Decisions (where SPEC leaves room):

- **Entry shapes.** The file may return a function (the method), a table of functions
  (`method` picks one, default `main`), or anything else: then its body *was* the program
  (the seed's snippets), its return values are the result, and the args are its `...`.
  Arguments are never bound to globals: a seed snippet reading a global (`request`) gets it
  from one added first line, `local request = ...` (see `examples/approval`).
- **Durations** are milliseconds when numbers (`time.SECOND == 1000`) or strings (`"1h30m"`).
  `t1:sub(t0)` returns milliseconds. Time objects are UTC and serialize as RFC 3339 strings.
- **Conventions.** Operational failures return `nil, err`; wrong arguments (bad duration,
  unknown call option, a value that is no JSON) raise a Lua error at the caller's line.
- **Empty tables.** A table that came in as a JSON array goes out as an array, one that came
  in as an object as an object (tracked in a weak side table, not a metatable); a fresh `{}`
  goes out as an object `{}`. `json.array(t)` / `json.object(t)` mark a table explicitly.
  `null` inside an input array becomes a hole that goes back out as `null` (trailing ones are
  dropped); `null` object values disappear.
- **Iteration order.** `pairs` and `next` visit keys sorted: numbers ascending, then strings
  bytewise, then `false`, `true`; iterating a table with table/function keys is an error.
  Object keys are written sorted too. `tostring` of tables/functions shows `table: #n` (no
  address), `string.format("%p")` is refused, `__gc` metamethods are refused.
- **Randomness and clock.** `math.random` is Lua 5.4's xoshiro256**, seeded from
  `runtime.random_seed()`; `math.randomseed(x)` reseeds deterministically. `os.time`,
  `os.date` (UTC), `os.clock` (workflow-clock seconds since the run started) read the
  workflow clock.
- **Modules load lazily.** A module (and the globals `process`, `errors`, `os`, `channel`)
  is loaded into a run the first time it is required or used; iterating `_G` loads them all.
  Before its first use, `rawget(_G, "process")` is nil.
- **Limits.** 64 MiB of memory per run and 50 million VM instructions per uninterrupted slice
  by default (entry `limits` override); neither can be caught by `pcall`.
- **Pattern matching** runs in one C call that the count hook cannot interrupt (lupa exposes
  no hook into lstrlib's matcher; hooks fire between VM instructions only). So
  `string.find/match/gmatch/gsub` (the string methods too) bound the matcher's steps before
  matching: starts (1 if anchored, else the places the leading literal text occurs, else every
  position) x paths (per `*`/`+`/`-` item, the longest run of subject bytes its class matches
  + 1, at most C(n+k+1, k+1) in all; x 2 per `?` whose class occurs) x (pattern length + n per
  `%b` / back-reference), and refuse a call over 4 x `max_instructions` with an ordinary error
  at the caller's line (lua/sandbox.lua). Chosen over a pure-Lua matcher (every call slower)
  and a fixed size cap (refuses ordinary large subjects). Worst allowed call measured ~0.4 s
  (`.-b` on 11,545 bytes). Each call is bounded, not a loop of calls (their VM instructions are
  counted as usual).
- **Functions** (`function.lua`) run on real time: `time.sleep` really sleeps (blocking the
  worker thread), `uuid`/`math.random` are random; `funcs.call`, `channel`, `workflow` are
  workflow-only. Any failure other than `nil, err` is `WflowError(INTERNAL)` with the Lua
  `file.lua:line:` message (resource limits: not retryable).
- **Why a call failed, when the script ignored `err`.** The bridge remembers, per coroutine,
  the most recent call that returned `nil, err`: `funcs.call` / `funcs.async` /
  `executor:call` / `executor:async`, a future's `:result()`, `process.spawn` /
  `spawn_monitored` / `exec` / `send` / `cancel` / `terminate` (and a spawner's), and
  `workflow.exec`; with the call's leading string arguments (target, host, pid, topic), the
  `chunk:line` of the script that made it (from the Lua stack, read by bridge code only) and
  the error. When an unhandled error ends the coroutine (a workflow task failure, or a
  function's `INTERNAL` error) and its message speaks of a nil value (`attempt to index a nil
  value`, `got nil`, ...) or is a failed `assert`, one sentence is appended on the same line:
  `order.lua:6: attempt to index a nil value (local 'result'); the last call,
  funcs.call("app.api:chrage") at order.lua:5, failed: NOT_FOUND: ...`. A later call of those
  kinds that succeeds does not erase the note (the seed's order script sleeps between the
  failed call and the index), it is counted instead: `the last call that failed, ... (2 calls
  succeeded since), failed: ...`, so the note never claims more than is known. Other errors
  (`error("...")`, an error object raised) carry no note, nor does a message that already
  contains the failure. An error that ends a user coroutine hands its note to the coroutine
  that resumed it. Python workflows need none of this: the Python DSL raises `WflowError` at
  the failing call itself.
- **Static call checks** (`wflow validate`, also run before `wflow run`): literal targets of
  `funcs.call/async`, `executor:call/async`, `process.spawn/spawn_monitored/exec`, a
  spawner's, and `workflow.exec` must name an entry of the right kind (a bare name resolves
  in the entry's namespace; a library's bare names are left alone), a literal `host` a
  `temporal.worker`, and a plain `funcs.call/async` target a function some auto-started
  worker serves; `mod.name` must exist in the module's table (read from the loaded module,
  so the list never drifts). Only one plain string literal counts as a target, and only a
  module name that the file does not rebind; anything dynamic is left to run time (where
  the failed-call note above names it). A project with no entry of the kind a target names
  (a fragment) is not checked for that kind.
- **print** goes to the `lua_bridge.print` logger (again on every replay).
- **Exceptions from the runtime.** A `WflowError` raised by a `WorkflowRuntime` (or, in a
  function, `ProcessClient`) method becomes `nil, err` in Lua. Any other exception, including
  control-flow signals such as the continue-as-new that `process.upgrade` triggers,
  propagates out of the run untouched; `pcall` in Lua cannot catch it.
- **Messages** (`process.inbox():receive()`) are read-only objects. `msg:topic()`,
  `msg:from()` and `msg:payload():data()` are methods; any other field reads the payload
  data (`msg.approved`), so a method name wins over a payload field of the same name (read
  that one with `msg:payload():data().topic`). A non-table payload has no fields.
  `pairs(msg)` iterates the payload data. A message passed on (`funcs.call(t, msg)`) crosses
  as `{topic =, from =, payload =}`.
- **Mailbox channels** `process.inbox()`, `process.listen(topic)` (payloads; message objects
  with `{message = true}`) and `process.events()` (`{kind = "EXIT" | "CANCEL" | "LINK_DOWN",
  from = pid, result = {value =, error =}}`, kinds also as `process.event.*`; a `CANCEL` carries
  `reason` when `process.cancel(pid, reason)` gave one) are the same receive-only channel
  object on every call; they work in `channel.select`. A message that arrives before
  `listen(topic)` is called waits in the inbox; `process.unlisten(ch)` moves what `ch` holds
  back to the inbox and closes it.
- **Monitors and links** (`process.monitor/unmonitor/link/unlink`, `spawn_linked*`,
  `set_options/get_options`) are requests on the runtime (`wflow.model.Peers` keeps the
  bookkeeping); workflow-only, like `spawn_monitored`.
- **Payloads** of `process.send(pid, topic, ...)` and `:with_message(topic, ...)`: no value
  is null, one value is itself, several are an array. `host` may be nil (the entry's own
  worker). Spawner options (`process.with_options{...}`) use `wflow.model.SpawnOptions`;
  numbers are milliseconds.
- **Functions** reach `process.spawn/exec/send/cancel/terminate/with_options` through the
  call's `FunctionContext.processes` (blocking); without one they raise "process API
  unavailable here". `process.inbox/listen/unlisten/events/pid/spawn_monitored/upgrade`
  and the monitor and link calls are workflow-only. `process.id()` is the entry ID in both.
"""

from lua_bridge._chunks import FUNCTION_MODULES, WORKFLOW_MODULES
from lua_bridge._limits import DEFAULT_MAX_INSTRUCTIONS, DEFAULT_MAX_MEMORY, LuaLimits
from lua_bridge._lua_engine import LuaEngine, LuaFunctionProgram, LuaWorkflowProgram
from lua_bridge._lua_errors import LuaResourceError, LuaScriptError, LuaValueError
from lua_bridge._lua_state import LUA_VERSION, LuaBridge, create_bridge
from lua_bridge._protocol import OPERATIONS, Operation
from lua_bridge._static_check import LuaProblem

__all__ = [
    "DEFAULT_MAX_INSTRUCTIONS",
    "DEFAULT_MAX_MEMORY",
    "FUNCTION_MODULES",
    "LUA_VERSION",
    "OPERATIONS",
    "WORKFLOW_MODULES",
    "LuaBridge",
    "LuaEngine",
    "LuaFunctionProgram",
    "LuaLimits",
    "LuaProblem",
    "LuaResourceError",
    "LuaScriptError",
    "LuaValueError",
    "LuaWorkflowProgram",
    "Operation",
    "create_bridge",
]
