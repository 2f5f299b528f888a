"""Error helpers with the Lua `errors` module's names."""

from __future__ import annotations

from wflow.model import ErrorKind, WflowError, error_is, new_error, wrap_error

__all__ = ["ErrorKind", "WflowError", "is_", "new", "wrap"]

new = new_error
wrap = wrap_error
is_ = error_is
