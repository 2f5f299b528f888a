"""Every exception wflow raises on purpose, in one tree, with where each comes from.

Exception tree:

    Exception
    ├── WflowError              wflow.model: kind, message, retryable, details
    │   │                       The one error that crosses every boundary: Lua sees it as
    │   │                       `nil, err`, Temporal carries it as an ApplicationError whose
    │   │                       type is the kind (see "On the wire" below).
    │   │                       Raised by:
    │   │                       - your functions, to fail their call with a kind;
    │   │                       - workflow-side calls (`funcs.call`, `process.*`, `time.*`,
    │   │                         `wflow.workflow.exec`) when what they did failed;
    │   │                       - a Lua workflow or function that returns `nil, err`;
    │   │                       - `Registry` lookups (`NOT_FOUND`, `INVALID`), `engine_for`
    │   │                         (`INVALID`: no engine for a kind), option parsing
    │   │                         (`INVALID`);
    │   │                       - `wflow.connect` / `Connection` / `Session` (`UNAVAILABLE`,
    │   │                         `NOT_FOUND`, `ALREADY_EXISTS`, `RATE_LIMITED`, and the
    │   │                         workflow's own failure from `result` / `execute`).
    │   └── ConfigError         wflow.registry: kind INVALID; `problems`, one `Problem`
    │                           (file, line, message) each. Raised by `load_project` and
    │                           `Registry(...)`; `validate_project` returns the problems
    │                           instead. The loader's own exceptions (YAML syntax, `${env:}`
    │                           references, Python imports) never escape: they become
    │                           problems.
    ├── LuaScriptError          lua_bridge: a bug in the Lua code: an unhandled error, a
    │   │                       syntax error, a result that is no JSON. Raised while a Lua
    │   │                       entry loads or runs.
    │   └── LuaValueError       lua_bridge: a value that cannot cross between Lua and Python
    │                           (SPEC §5: sparse arrays, mixed tables, ...).
    └── LuaResourceError        lua_bridge: a Lua run exceeded its memory or instruction
                                limit (`limits` of the entry).

None of the Lua errors is a `WflowError`, on purpose: in a workflow they fail the workflow
*task*, so a fixed deploy (or a larger limit) can resume the workflow; only a `WflowError`
fails a workflow for good. The same holds for any other exception a workflow raises.

On the wire: `wflow.temporal.to_application_error` turns a `WflowError` into Temporal's
`ApplicationError` (type = kind, `non_retryable` = not retryable, details as its one detail)
and `wflow.temporal.to_wflow_error` turns Temporal's failures back into a `WflowError`; these
two are the only places the executor maps errors.

The Lua errors are named here, not re-exported: wflow does not import the Lua bridge (import
them from `lua_bridge`).
"""

from wflow.model import ErrorKind, WflowError
from wflow.registry import ConfigError, Problem

__all__ = ["ConfigError", "ErrorKind", "Problem", "WflowError"]
