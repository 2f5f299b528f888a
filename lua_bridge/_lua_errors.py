"""Exceptions raised by the Lua bridge.

Exception tree:

    Exception
    ├── LuaScriptError       a bug in the Lua code: unhandled error, syntax error, bad result
    │   └── LuaValueError    a value that cannot cross between Lua and Python (JSON rules)
    └── LuaResourceError     the run exceeded its memory or instruction limit

None of them is a `wflow.model.WflowError`: in a workflow they fail the workflow *task*, so a
fixed deploy (or a larger limit) can resume the workflow. A workflow fails for good only when
its code returns `nil, err`, which the bridge raises as `WflowError`.
"""

from __future__ import annotations

__all__ = ["LuaResourceError", "LuaScriptError", "LuaValueError"]


class LuaScriptError(Exception):
    """The Lua code failed: an unhandled error, a syntax error or a result that is no JSON.

    Attributes:
        message: The Lua message, starting with `file.lua:line:` where Lua knows the position.
        lua_traceback: Lua's stack traceback, or an empty string.
    """

    def __init__(self, message: str, lua_traceback: str = "") -> None:
        self.message = message
        self.lua_traceback = lua_traceback
        super().__init__(message)


class LuaValueError(LuaScriptError):
    """A value could not be converted between Lua and Python; the message names the path."""


class LuaResourceError(Exception):
    """A Lua run exceeded a resource limit.

    Attributes:
        resource: `"memory"` or `"instructions"`.
        limit: The limit that was exceeded (bytes or instructions).
    """

    def __init__(self, resource: str, limit: int, where: str = "") -> None:
        self.resource = resource
        self.limit = limit
        what = (
            f"memory limit of {limit} bytes exceeded"
            if resource == "memory"
            else f"instruction limit of {limit} instructions per slice exceeded (an endless loop?)"
        )
        super().__init__(f"{where}: {what}" if where else what)
