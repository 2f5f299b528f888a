"""Parks the Lua states of workflows that have waited longer than their `limits.park_after`.

One daemon thread per process looks at the parkable runs a few times per `park_after` and
parks those idle long enough (`LuaRun.park`, which gives up if the run is busy). Parking is
invisible to the workflow: the next step rebuilds the state from the run's journal
(`_run_journal.py`), so when exactly a state is parked never matters; the thread uses real
time because it decides only about memory.

A Lua state is a few thousand small `malloc` blocks. Freed, glibc keeps them for reuse
rather than returning them to the system, so a worker whose 1,000 sleeping workflows were
just parked would stay as large as before; after a sweep that parked something, the thread
asks glibc to return free memory (`malloc_trim`; a no-op elsewhere).
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import functools
import threading
import time
import weakref
from collections.abc import Callable
from typing import Protocol

__all__ = ["Parkable", "watch"]


class Parkable(Protocol):
    """What the parking thread needs of a run (`LuaRun`)."""

    park_after: float | None

    def idle_for(self, now: float) -> float:
        """Seconds since the run's last step (by `time.monotonic()`); 0 while it runs."""
        ...

    def park(self) -> bool:
        """Drop the run's Lua state if it is idle and can be rebuilt; whether it did."""
        ...


_runs: weakref.WeakSet[Parkable] = weakref.WeakSet()
_lock = threading.Lock()
_thread: threading.Thread | None = None
_stopping = threading.Event()


def watch(run: Parkable) -> None:
    """Park `run`'s state once it has been idle for its `park_after` (a weak reference)."""
    global _thread
    with _lock:
        _runs.add(run)
        if (_thread is None or not _thread.is_alive()) and not _stopping.is_set():
            _thread = threading.Thread(target=_sweep_forever, name="wflow-lua-parking", daemon=True)
            _thread.start()


def _sweep_forever() -> None:
    interval = 1.0
    while not _stopping.wait(interval):
        interval = sweep()


@atexit.register
def _stop() -> None:
    # Ended before the interpreter finalizes: a daemon thread that drops a Lua state while
    # modules are torn down could crash the process on its way out.
    _stopping.set()
    thread = _thread
    if thread is not None:
        thread.join(timeout=5)


def sweep(now: float | None = None) -> float:
    """Park every watched run idle for its `park_after`; return how long to wait until the next.

    Args:
        now: The `time.monotonic()` reading to judge idleness by (None: now).
    """
    moment = time.monotonic() if now is None else now
    with _lock:
        runs = list(_runs)  # the WeakSet changes as runs end, in any thread
    shortest = 1.0
    parked = 0
    for run in runs:
        after = run.park_after
        if after is None:
            continue
        shortest = min(shortest, after / 2)
        if run.idle_for(moment) >= after and run.park():
            parked += 1
    if parked:
        trim = _malloc_trim()
        if trim is not None:
            trim(0)
    return max(shortest, 0.05)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """Return glibc's `malloc_trim`, or None where the C library has none (musl, macOS)."""
    name = ctypes.util.find_library("c")
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim
