"""Where in the user's code an intercepted call is being made (`order.lua:3`).

The engines know it (the Lua bridge from the script's stack, the Python DSL from the caller's
frame); the executor shows it with the call (the activity's and timer's summary in Temporal's
web UI, span attributes). A context variable carries it from one to the other for the
duration of the call, so the `WorkflowRuntime` protocol keeps its signatures.
"""

from __future__ import annotations

import contextlib
import os
import sys
from contextvars import ContextVar
from pathlib import Path

__all__ = ["call_site", "current_call_site", "python_call_site"]

_CALL_SITE: ContextVar[str | None] = ContextVar("wflow_call_site", default=None)


class _CallSite:
    # A class, not @contextlib.contextmanager: every intercepted call enters one, and a
    # generator-based manager costs several times as much to make, enter and leave.
    __slots__ = ("_token", "_where")

    def __init__(self, where: str | None) -> None:
        self._where = where

    def __enter__(self) -> None:
        self._token = _CALL_SITE.set(self._where)

    def __exit__(self, *exc_info: object) -> None:
        try:
            _CALL_SITE.reset(self._token)
        except ValueError:
            # A workflow coroutine closed later, in another context (its task was dropped):
            # nothing of this context is left to restore.
            _CALL_SITE.set(None)


def call_site(where: str | None) -> contextlib.AbstractContextManager[None]:
    """Make `where` (`file:line`) the call site of the intercepted calls made in the block."""
    return _CallSite(where)


def current_call_site() -> str | None:
    """The call site set by the engine for the call being made now, or None."""
    return _CALL_SITE.get()


_WFLOW_ROOT = str(Path(__file__).resolve().parents[1]) + os.sep


def python_call_site(depth: int = 2) -> str | None:
    """`file.py:line` of the innermost frame outside wflow, starting `depth` frames up."""
    try:
        frame = sys._getframe(depth)
    except ValueError:
        return None
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_WFLOW_ROOT) and not filename.startswith("<frozen"):
            # os.path, not Path: this runs on every call a workflow makes, and a Path is
            # parsed into parts first (most of this function's cost).
            return f"{os.path.basename(filename)}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return None
