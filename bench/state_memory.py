"""`python -m bench.state_memory [N] [THREADS]`: where one Lua workflow state's memory goes.

No server: builds the Lua state a workflow run gets (`LuaRun`, every host function bound),
N times, and prints per state the Lua memory of each core bridge file (lupa's
`get_memory_used()` after each file, and what each file loaded on first use adds), the
Python objects (`tracemalloc`) and the resident memory growth (`/proc/self/statm`).
THREADS > 1 builds the states on a thread pool, as temporalio runs activations: run it with
`MALLOC_ARENA_MAX=1` and without to see whether glibc's per-thread arenas change the figure
(docs/performance.md: they do not).
"""

from __future__ import annotations

import gc
import os
import sys
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lua_bridge import _lua_state
from lua_bridge._limits import LuaLimits
from lua_bridge._lua_run import LocalClock, LuaRun
from lua_bridge._protocol import Operation

__all__ = ["main"]


def _rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _refuse(op: Operation) -> Callable[..., Any]:
    return lambda *args: None


def _run() -> LuaRun:
    return LuaRun(
        side="workflow", clock=LocalClock(), chunks={}, limits=LuaLimits(), fallback=_refuse
    )


def _per_file() -> list[tuple[str, int]]:
    """Lua bytes each core file adds to one state (then each file loaded on first use)."""
    steps: list[tuple[str, int]] = []
    run_core_file = _lua_state._run_core_file

    def measured(lua: Any, name: str, b: Any, cfg: Any) -> None:
        # Within one state: lupa's count starts below zero (it wraps), so only differences
        # inside a state mean anything.
        lua.gccollect()
        before = lua.get_memory_used()
        run_core_file(lua, name, b, cfg)
        lua.gccollect()  # what the state keeps, not the garbage of loading it
        steps.append((name, lua.get_memory_used() - before))

    _lua_state._run_core_file = measured  # type: ignore[assignment]
    try:
        _run().close()
    finally:
        _lua_state._run_core_file = run_core_file  # type: ignore[assignment]
    # The files loaded on first use (LAZY_CORE_FILES), each in a state of its own, by one of
    # the B fields lua/sandbox.lua lists for it (the host loads them into the state that asks).
    for file, field in _LAZY_PROBES.items():
        run = _run()
        run.lua.gccollect()
        before = run.lua.get_memory_used()
        run.bridge_field(field)
        run.lua.gccollect()
        steps.append((f"{file}.lua (on first use)", run.lua.get_memory_used() - before))
        run.close()
    return steps


_LAZY_PROBES = {
    "error_object": "new_error",
    "time_object": "new_time",
    "duration_object": "new_duration",
    "location_object": "UTC",
    "message_object": "new_message",
    "pattern_budget": "check_pattern",
    "codec": "encode",
}


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 500
    threads = int(argv[1]) if len(argv) > 1 else 1
    print(
        f"{n} Lua workflow states, built on {threads} thread(s); "
        f"MALLOC_ARENA_MAX={os.environ.get('MALLOC_ARENA_MAX', 'unset')}"
    )
    with ThreadPoolExecutor(threads) as pool:
        keep = list(pool.map(lambda _: _run(), range(20)))  # warm-up: imports, bytecode
        gc.collect()
        rss_before = _rss()
        keep += list(pool.map(lambda _: _run(), range(n)))
        gc.collect()
        rss = (_rss() - rss_before) / n
        # Python objects in a second batch: tracemalloc's own bookkeeping would count as RSS.
        tracemalloc.start()
        python_before = tracemalloc.get_traced_memory()[0]
        keep += list(pool.map(lambda _: _run(), range(n)))
        gc.collect()
        python = (tracemalloc.get_traced_memory()[0] - python_before) / n
        tracemalloc.stop()
    for step, used in _per_file():
        print(f"  Lua, {step}: {used / 1024:.1f} KiB")
    print(f"Lua (get_memory_used): {keep[-1].lua.get_memory_used() / 1024:.1f} KiB per state")
    print(f"Python (tracemalloc):  {python / 1024:.1f} KiB per state")
    print(f"resident growth:       {rss / 1024:.1f} KiB per state")
    for run in keep:
        run.close()


if __name__ == "__main__":
    main(sys.argv[1:])
