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
"""

from lua_bridge._check import LuaProblem
from lua_bridge._engine import LuaEngine, LuaFunctionProgram, LuaWorkflowProgram
from lua_bridge._entries import FUNCTION_MODULES, WORKFLOW_MODULES, LuaEntryLike, RegistryLike
from lua_bridge._errors import LuaResourceError, LuaScriptError, LuaValueError
from lua_bridge._limits import DEFAULT_MAX_INSTRUCTIONS, DEFAULT_MAX_MEMORY, LuaLimits
from lua_bridge._runtime import LUA_VERSION

__all__ = [
    "DEFAULT_MAX_INSTRUCTIONS",
    "DEFAULT_MAX_MEMORY",
    "FUNCTION_MODULES",
    "LUA_VERSION",
    "WORKFLOW_MODULES",
    "LuaEngine",
    "LuaEntryLike",
    "LuaFunctionProgram",
    "LuaLimits",
    "LuaProblem",
    "LuaResourceError",
    "LuaScriptError",
    "LuaValueError",
    "LuaWorkflowProgram",
    "RegistryLike",
]
