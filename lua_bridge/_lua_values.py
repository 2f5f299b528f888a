"""Python -> Lua values (JSON data model) and the error-object conversions.

Lua -> Python goes through the Lua-side encoder (`values.lua`: `B.encode`), which produces
JSON text that `json.loads` reads back; it enforces SPEC §5 and names the path of a bad value.
This module builds Lua tables from Python values:

- None -> nil, bool, int (Lua integer; beyond 64 bits: an error), float (not NaN/inf), str.
- list/tuple -> a table with keys 1..n, marked as an array (so it goes back out as an array
  even when empty; `None` items become holes that go back out as `null`).
- dict (str keys) -> a table, marked as an object (an empty one goes back out as `{}`);
  `None` values disappear (Lua tables cannot hold nil).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, TypeAlias

from lua_bridge._lua_errors import LuaValueError
from wflow.model import ErrorKind, WflowError

__all__ = ["LUA_INT_MAX", "LuaValues", "error_from_fail"]

_INT_MIN = -(2**63)
LUA_INT_MAX = 2**63 - 1
"""The largest Lua integer (a signed 64-bit C integer)."""


_Path: TypeAlias = "str | tuple[_Path, int | str]"
"""Where a value is: its path text, or (its container's path, its index or key), made into
text only for an error message (most values convert without one)."""


def _path_text(path: _Path) -> str:
    parts: list[str] = []
    while isinstance(path, tuple):
        path, step = path
        parts.append(f"[{step}]" if isinstance(step, int) else f".{step}")
    return path + "".join(reversed(parts))


class LuaValues:
    """Converts Python values into one Lua runtime's tables."""

    def __init__(self, lua: Any, bridge: Any) -> None:
        self._table = lua.table
        self._mark_array = bridge.mark_array
        self._field = bridge.field  # error_object.lua is loaded on the first error object

    def to_lua(self, value: Any, path: str = "value") -> Any:
        """Return `value` as a Lua value.

        Raises:
            LuaValueError: The value is not JSON data; the message names the path.
        """
        return self._convert(value, path, 0)

    def _convert(self, value: Any, path: _Path, depth: int) -> Any:
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int):
            if _INT_MIN <= value <= LUA_INT_MAX:
                return value
            # A float would silently lose digits (an ID, an amount in cents): refuse instead,
            # as the Python side's payload converter does (wflow.temporal._payloads).
            raise LuaValueError(
                f"{_path_text(path)}: integer {value} is outside the 64-bit range "
                "(-2^63 .. 2^63-1); send it as a string"
            )
        if isinstance(value, float):
            if math.isnan(value) or math.isinf(value):
                raise LuaValueError(f"{_path_text(path)}: {value!r} is not a JSON number")
            return value
        if depth > 200:
            raise LuaValueError(f"{_path_text(path)}: nested too deeply (more than 200 levels)")
        if isinstance(value, (list, tuple)):
            table = self._table()
            for index, item in enumerate(value, 1):
                if item is not None:
                    table[index] = self._convert(item, (path, index), depth + 1)
            self._mark_array(table)
            return table
        if isinstance(value, Mapping):
            table = self._table()
            for key, item in value.items():
                if not isinstance(key, str):
                    raise LuaValueError(f"{_path_text(path)}: object key {key!r} is not a string")
                if item is not None:
                    table[key] = self._convert(item, (path, key), depth + 1)
            # A new table is an object already (`B.mark_object` only unmarks an array): no
            # call into Lua for it.
            return table
        if isinstance(value, WflowError):
            return self.error(value)
        raise LuaValueError(f"{_path_text(path)}: a {type(value).__name__} cannot be passed to Lua")

    def error(self, error: WflowError) -> Any:
        """Return a Lua error object (`:kind()`, `:message()`, ...) for `error`."""
        try:
            details = self.to_lua(error.details, "error.details")
        except LuaValueError:
            details = None
        return self._field("new_error")(error.kind.value, error.message, error.retryable, details)


def error_from_fail(kind: str, message: str, retryable: bool, details_json: str) -> WflowError:
    """Build the `WflowError` of a Lua `return nil, err` (as reported by the driver)."""
    try:
        details = json.loads(details_json)
    except ValueError:
        details = None
    return WflowError(message, ErrorKind.parse(kind), retryable=bool(retryable), details=details)
