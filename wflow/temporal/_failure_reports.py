"""Live failure reports: each failed function attempt and workflow task, located, collapsed.

Where the reports come from (the choice, and why):

* **In-process, from the code that runs the user's code.** The one activity that runs every
  function (`_activities.function_activity`) and the one workflow body that runs every
  workflow (`_workflows.run_workflow_entry`) see the user's exception with its full Python
  traceback before Temporal turns it into a failure record. They hand a `FailureReport` to
  the worker's sink (`build_workers(failures=...)`): `wflow run`, `wflow worker` and `wflow
  dev` each pass one. Failed *attempts* of a retrying activity never reach the workflow's
  history, so the worker running them is the only place that can print them as they
  happen, on every server (the time-skipping test server included). Nothing is caught for
  good: the exception is re-raised unchanged, so a retrying activity keeps retrying and a
  failing workflow task keeps being retried until a fixed deploy resumes the workflow.
* **From the history**, for workflows `wflow run` follows: a workflow task or call failure
  that a worker elsewhere recorded is reported the same way (located from the failure's
  stack trace or Lua message). A failure the in-process worker already reported is not
  reported twice.

Where a failure was raised: the innermost frame of the Python traceback in *user* code (not
wflow, lua_bridge, temporalio, the standard library or installed packages), or the Lua
`chunk:line` that a Lua error message starts with. A Lua function's `return nil, err` has no
line; its report names the entry's source file instead.

Temporal's own records carry the same location: the failure's stack trace ends in the user's
frame (the web UI and `temporal workflow describe` show it), and a Lua message starts with it.

Repeated identical failures (same workflow, call, kind, message and location) are printed
once, then as `... failed N times, last at HH:MM:SS` when N reaches 2, 4, 8, ..., and once
more when the log is closed, so an endlessly retrying call prints a handful of lines an hour.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import re
import sys
import sysconfig
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Literal

__all__ = [
    "FailureLog",
    "FailureReport",
    "FailureSink",
    "error_kind_and_message",
    "is_user_file",
    "location_in_stack_trace",
    "lua_location",
    "python_location",
    "retry_delay",
    "returned_error_location",
]

Source = Literal["worker", "history"]
What = Literal["call", "workflow task", "workflow"]


@dataclasses.dataclass(frozen=True)
class FailureReport:
    """One failure of user code, as a worker or a workflow's history saw it.

    Attributes:
        what: `"call"` (a function attempt), `"workflow task"` (the workflow's code raised;
            Temporal retries the task) or `"workflow"` (the workflow failed for good).
        workflow_id: The workflow the failure belongs to.
        entry_id: The function entry (for a call) or the workflow entry.
        kind: The error kind (`INVALID`, ...) or, for an exception that is no wflow error,
            its class name (`ValueError`).
        message: The error's message, without the kind.
        location: `file:line` where it was raised, or None when unknown.
        attempt: The attempt number (calls), or None.
        next_attempt_in: When Temporal tries the call again, or None when it does not.
        final: Why there is no next attempt (`"not retryable"`, `"attempt 2 of 2"`), or None.
        source: `"worker"` (reported by the worker that ran the code) or `"history"`.
        at: When the failure was reported (local wall clock).
    """

    what: What
    workflow_id: str
    entry_id: str
    kind: str
    message: str
    location: str | None = None
    attempt: int | None = None
    next_attempt_in: datetime.timedelta | None = None
    final: str | None = None
    source: Source = "worker"
    at: datetime.datetime = dataclasses.field(
        default_factory=lambda: datetime.datetime.now().astimezone()
    )

    @property
    def key(self) -> tuple[str, ...]:
        """What makes two failures "the same" for collapsing."""
        return (
            self.what,
            self.workflow_id,
            self.entry_id,
            self.kind,
            self.message,
            self.location or "",
        )

    def error_text(self) -> str:
        """`KIND: message (at file:line)`."""
        where = f" (at {self.location})" if self.location else ""
        return f"{self.kind}: {self.message}{where}"


FailureSink = Callable[[FailureReport], None]
"""Receives each failure report; called from worker threads and the event loop alike."""


# Frames in these folders are not the user's: wflow itself, the Lua bridge, the Temporal SDK,
# the standard library and installed packages (site-packages). The user's project is none.
def _library_dirs() -> tuple[str, ...]:
    dirs = {
        str(Path(__file__).resolve().parents[1]),  # wflow/
        str(Path(__file__).resolve().parents[2] / "lua_bridge"),
    }
    paths = sysconfig.get_paths()
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        if name in paths:
            dirs.add(str(Path(paths[name]).resolve()))
    for module in ("temporalio", "lupa"):
        loaded = sys.modules.get(module)
        if loaded is not None and loaded.__file__:
            dirs.add(str(Path(loaded.__file__).resolve().parent))
    return tuple(sorted(d + os.sep for d in dirs))


_LIBRARY_DIRS = _library_dirs()


def is_user_file(filename: str) -> bool:
    """Return whether `filename` is the user's code (not wflow, the SDK, stdlib or packages)."""
    if filename.startswith("<"):  # <frozen ...>, <string>
        return False
    resolved = os.path.realpath(filename)
    return not resolved.startswith(_LIBRARY_DIRS)


def _shown_path(filename: str) -> str:
    # Relative to the working directory when inside it: short, and clickable in a terminal.
    try:
        return str(Path(filename).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return filename


def _innermost_user_frame(tb: TracebackType | None) -> str | None:
    found: str | None = None
    for frame, line in traceback.walk_tb(tb):
        if is_user_file(frame.f_code.co_filename):
            found = f"{_shown_path(frame.f_code.co_filename)}:{line}"
    return found


def python_location(error: BaseException) -> str | None:
    """Return `file:line` of the innermost user frame that raised `error`, or None.

    The traceback of `error` is searched first, then those of its cause and context (an
    error wflow raised while handling the user's one).
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _innermost_user_frame(current.__traceback__)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


_LUA_POSITION = re.compile(
    r'^\s*(?:\[string "(?P<string>[^"]+)"\]|(?P<file>[^\s:]+\.lua)):(?P<line>\d+):'
)


def lua_location(message: str) -> str | None:
    """Return the `chunk:line` a Lua error message starts with (`order.lua:12: ...`), or None."""
    match = _LUA_POSITION.match(message)
    if match is None:
        return None
    return f"{match['file'] or match['string']}:{match['line']}"


_STACK_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


def location_in_stack_trace(message: str, stack_trace: str) -> str | None:
    """Return where a failure record says it was raised: Lua message or Python stack trace."""
    found = lua_location(message)
    if found is not None:
        return found
    for match in _STACK_FRAME.finditer(stack_trace):
        if is_user_file(match["file"]):
            found = f"{_shown_path(match['file'])}:{match['line']}"
    return found


_LUA_ERROR_TYPES = frozenset({"LuaScriptError", "LuaValueError", "LuaError", "LuaSyntaxError"})


def error_kind_and_message(type_name: str, message: str) -> tuple[str, str, str | None]:
    """Return the kind, message and Lua location to show for a failure of type `type_name`.

    A Lua error's message starts with its `chunk:line`, which becomes the location (and leaves
    the message); the bridge's exception class names mean nothing to a user (`Lua error`).
    """
    location = lua_location(message)
    if location is not None:
        message = _LUA_POSITION.sub("", message, count=1).strip()
    if type_name in _LUA_ERROR_TYPES:
        type_name = "Lua error"
    return type_name, message, location


def returned_error_location(entry: object) -> str | None:
    """Where a Lua function that returned `nil, err` is: its file and method (no line)."""
    source = getattr(entry, "source", None)
    if not isinstance(source, str) or not source.startswith("file://"):
        return None
    method = getattr(entry, "method", None) or "main"
    # The file as Lua names its chunk (relative to the YAML file), like a Lua error's position.
    return f"{source.removeprefix('file://')}, {method}() returned nil, err"


def retry_delay(
    attempt: int,
    initial: datetime.timedelta | None,
    backoff: float | None,
    maximum: datetime.timedelta | None,
) -> datetime.timedelta:
    """Return Temporal's wait before attempt `attempt + 1` (defaults: 1s, x2, at most 100x)."""
    first = initial or datetime.timedelta(seconds=1)
    coefficient = backoff or 2.0
    cap = maximum or first * 100
    seconds = first.total_seconds() * coefficient ** max(attempt - 1, 0)
    return min(datetime.timedelta(seconds=min(seconds, cap.total_seconds())), cap)


def _clock(moment: datetime.datetime) -> str:
    return moment.strftime("%H:%M:%S")


def _in(delay: datetime.timedelta) -> str:
    from wflow.model import format_duration

    return format_duration(delay)


@dataclasses.dataclass
class _Seen:
    count: int
    printed: int
    last: FailureReport


class FailureLog:
    """Prints failure reports as lines, collapsing repeated identical ones.

    Use it as a `FailureSink`. Thread-safe: workers report from their threads.

    Args:
        emit: Prints one line (stderr in the CLI).
        time_skipping: The server skips time, so a next attempt is shown as a delay only
            (the wall clock says nothing about when it happens).
        main_workflow_id: The workflow `wflow run` follows: its ID is left out of lines
            (other workflows' lines start with `[ID]`).
        show_workflow_failures: Print `"workflow"` reports (a workflow that failed for good);
            `wflow run` prints its workflow's failure itself.
    """

    def __init__(
        self,
        emit: Callable[[str], None],
        *,
        time_skipping: bool = False,
        main_workflow_id: str | None = None,
        show_workflow_failures: bool = True,
    ) -> None:
        self._emit = emit
        self._time_skipping = time_skipping
        self.main_workflow_id = main_workflow_id
        self._show_workflow_failures = show_workflow_failures
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, ...], _Seen] = {}
        self._listeners: list[FailureSink] = []

    def add_listener(self, listener: FailureSink) -> None:
        """Call `listener` with every report that is not a duplicate from the history."""
        self._listeners.append(listener)

    def last(self, workflow_id: str, what: What = "call") -> FailureReport | None:
        """Return the latest report of `what` for `workflow_id`, or None."""
        with self._lock:
            matching = [
                seen.last
                for seen in self._seen.values()
                if seen.last.workflow_id == workflow_id and seen.last.what == what
            ]
        return max(matching, key=lambda report: report.at, default=None)

    def __call__(self, report: FailureReport) -> None:
        """Record `report` and print what is due."""
        with self._lock:
            seen = self._seen.get(report.key)
            if seen is not None and report.source == "history":
                return  # the worker in this process reported it already, as it happened
            line: str | None
            if seen is None:
                seen = self._seen[report.key] = _Seen(count=1, printed=1, last=report)
                line = self._first_line(report)
            else:
                seen.count += 1
                seen.last = report
                # 2, 4, 8, ... times; and the last attempt, which changes what happens next.
                due = seen.count & (seen.count - 1) == 0 or report.final is not None
                line = self._repeat_line(seen) if due else None
                if due:
                    seen.printed = seen.count
        if line is not None and (report.what != "workflow" or self._show_workflow_failures):
            self._emit(line)
        for listener in self._listeners:
            listener(report)

    def close(self) -> None:
        """Print the counts of repeated failures not printed yet."""
        with self._lock:
            pending = [seen for seen in self._seen.values() if seen.count > seen.printed]
            for seen in pending:
                seen.printed = seen.count
        for seen in pending:
            self._emit(self._repeat_line(seen, closing=True))

    def _prefix(self, report: FailureReport) -> str:
        if report.workflow_id == self.main_workflow_id:
            return ""
        return f"[{report.workflow_id}] "

    def _next(self, report: FailureReport) -> str:
        if report.what == "workflow task":
            return "; Temporal retries the task, the workflow waits for a fixed deploy"
        if report.final is not None:
            return f"; no more attempts ({report.final})"
        if report.next_attempt_in is None:
            return ""
        delay = report.next_attempt_in
        if self._time_skipping:
            return f"; next attempt in {_in(delay)} (server time)"
        return f"; next attempt at {_clock(report.at + delay)} (in {_in(delay)})"

    def _subject(self, report: FailureReport) -> str:
        if report.what == "call":
            return f"call {report.entry_id}"
        if report.what == "workflow task":
            return f"workflow task of {report.entry_id}"
        return f"workflow {report.entry_id}"

    def _first_line(self, report: FailureReport) -> str:
        attempt = f" (attempt {report.attempt})" if report.attempt is not None else ""
        return (
            f"{self._prefix(report)}{self._subject(report)} failed{attempt}: "
            f"{report.error_text()}{self._next(report)}"
        )

    def _repeat_line(self, seen: _Seen, *, closing: bool = False) -> str:
        report = seen.last
        attempt = f", attempt {report.attempt}" if report.attempt is not None else ""
        after = "" if closing and report.final is None else self._next(report)
        return (
            f"{self._prefix(report)}{self._subject(report)} failed {seen.count} times, "
            f"last at {_clock(report.at)}{attempt}: {report.error_text()}{after}"
        )
