"""Parks the Lua states of workflows that have waited longer than their `limits.park_after`.

One daemon thread per process looks at the parkable runs a few times per `park_after` and
parks those idle long enough (`LuaRun.park`, which gives up if the run is busy). Parking is
invisible to the workflow: the next step rebuilds the state from the run's journal
(`_run_journal.py`), so when exactly a state is parked never matters; the thread uses real
time because it decides only about memory.
"""

from __future__ import annotations

import threading
import time
import weakref
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


def watch(run: Parkable) -> None:
    """Park `run`'s state once it has been idle for its `park_after` (a weak reference)."""
    global _thread
    with _lock:
        _runs.add(run)
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_sweep_forever, name="wflow-lua-parking", daemon=True)
            _thread.start()


def _sweep_forever() -> None:
    interval = 1.0
    while True:
        time.sleep(interval)
        interval = sweep()


def sweep(now: float | None = None) -> float:
    """Park every watched run idle for its `park_after`; return how long to wait until the next.

    Args:
        now: The `time.monotonic()` reading to judge idleness by (None: now).
    """
    moment = time.monotonic() if now is None else now
    with _lock:
        runs = list(_runs)
    shortest = 1.0
    for run in runs:
        after = run.park_after
        if after is None:
            continue
        shortest = min(shortest, after / 2)
        if run.idle_for(moment) >= after:
            run.park()
    return max(shortest, 0.05)
