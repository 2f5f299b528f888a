"""`python -m bench.parking [ROUNDS]`: what parking costs and saves, without a server.

Lua workflows run on `wflow.testing.FakeRuntime` around `WorkflowDriver` in this process:

- **memory**: resident memory per sleeping run (`bench/project/sleeper.lua`, 500 runs), with
  `park_after` `never` and with `1s` read after the parking thread had its look;
- **journal CPU**: CPU per three-call run (`three_calls.lua`) with `never` (no journal) and
  `1h` (journal kept, never parked), alternating rounds;
- **rebuild**: wall time to rebuild a parked run that waits after 0, 10, 100 and 1,000 calls.

Not a test: figures to compare, printed as a markdown table.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from bench._variants import ORDER
from bench._worker import PROJECT
from lua_bridge import LuaEngine
from lua_bridge._limits import LuaLimits
from lua_bridge._lua_run import LuaRun
from lua_bridge._workflow_driver import WorkflowDriver
from wflow.testing import FakeRuntime

if TYPE_CHECKING:
    from wflow.registry import Entry

__all__ = ["main"]


class _Waiting(FakeRuntime):
    """A runtime whose timers never fire and whose inbox stays empty: runs wait for good."""

    async def sleep(self, duration: timedelta) -> None:
        await asyncio.get_running_loop().create_future()


class _Entry:
    """A `workflow.lua` entry as the engine reads it."""

    def __init__(self, path: Path) -> None:
        self.id = f"bench:{path.stem}"
        self.path = path
        self.kind = "workflow.lua"
        self.method = "main"
        self.modules = ["funcs", "time"]
        self.imports: dict[str, str] = {}
        self.limits = None
        self.file = str(path.parent / "_index.yaml")
        self.line = 1
        self.namespace = "bench"
        self.source = f"file://{path.name}"

    def source_path(self) -> Path:
        return self.path


def _rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * 4096


def _driver(source: Path, park_after: float | None, runtime: FakeRuntime) -> tuple[Any, ...]:
    program = LuaEngine().workflow_program(cast("Entry", _Entry(source)))
    limits = LuaLimits(program.limits.max_memory, program.limits.max_instructions, park_after)
    driver = WorkflowDriver(runtime, program._chunks, limits)
    return driver, program.entry_id, program.method


async def _memory(park_after: float | None, n: int) -> float:
    sleeper = Path(PROJECT) / "sleeper.lua"
    tasks = []
    for _ in range(10):  # warm-up: imports, bytecode, the parking thread
        driver, key, method = _driver(sleeper, park_after, _Waiting())
        tasks.append(asyncio.ensure_future(driver.run(key, method, [ORDER])))
    await asyncio.sleep(2.5)
    gc.collect()
    before = _rss()
    for _ in range(n):
        driver, key, method = _driver(sleeper, park_after, _Waiting())
        tasks.append(asyncio.ensure_future(driver.run(key, method, [ORDER])))
    await asyncio.sleep(2.5)  # past `1s` and the parking thread's next look
    gc.collect()
    per = (_rss() - before) / n
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return per


async def _cpu_per_run(park_after: float | None, runs: int) -> float:
    three = Path(PROJECT) / "three_calls.lua"
    started = time.process_time()
    for _ in range(runs):
        driver, key, method = _driver(three, park_after, FakeRuntime({"bench:step": ORDER}))
        await driver.run(key, method, [ORDER])
    return (time.process_time() - started) / runs


_WAITER = """\
local funcs = require("funcs")
return function(order, n)
  for _ = 1, n do order = funcs.call("bench:step", order) end
  return process.inbox():receive()
end
"""


async def _rebuild_ms(calls: int, folder: Path) -> float:
    source = folder / "waiter.lua"
    source.write_text(_WAITER, encoding="utf-8")
    runtime = FakeRuntime({"bench:step": ORDER})
    driver, key, method = _driver(source, 3600.0, runtime)
    task = asyncio.ensure_future(driver.run(key, method, [ORDER, calls]))
    run: LuaRun = driver.run_state
    while len(runtime.calls) < calls:
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.05)  # the last call's answer taken, waiting on the inbox
    times = []
    for _ in range(5):
        assert run.park()
        started = time.perf_counter()
        with run._lock:
            run._live()
        times.append(time.perf_counter() - started)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return statistics.median(times) * 1000


def _memory_in_fresh_process(park_after: str) -> float:
    # A process of its own each: freed states' memory would otherwise be reused by the next.
    out = subprocess.run(
        [sys.executable, "-m", "bench.parking", "--memory", park_after],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip())


async def _main(rounds: int) -> None:
    live = _memory_in_fresh_process("never")
    parked = _memory_in_fresh_process("1")
    off: list[float] = []
    on: list[float] = []
    for _ in range(rounds):
        off.append(await _cpu_per_run(None, 300))
        on.append(await _cpu_per_run(3600.0, 300))
    with tempfile.TemporaryDirectory() as folder:
        rebuilds = {n: await _rebuild_ms(n, Path(folder)) for n in (0, 10, 100, 1000)}
    print("| figure | value |")
    print("|---|---:|")
    print(f"| resident memory per sleeping run, never parked | {live / 1024:.1f} KiB |")
    print(f"| resident memory per sleeping run, parked | {parked / 1024:.1f} KiB |")
    print(
        f"| CPU per three-call run, no journal (best / median of {rounds}) | "
        f"{min(off) * 1e6:.0f} / {statistics.median(off) * 1e6:.0f} µs |"
    )
    print(
        f"| CPU per three-call run, journal kept (best / median of {rounds}) | "
        f"{min(on) * 1e6:.0f} / {statistics.median(on) * 1e6:.0f} µs |"
    )
    for n, ms in rebuilds.items():
        print(f"| rebuilding a parked run waiting after {n:,} calls | {ms:.2f} ms |")


def main() -> None:
    """Run the measurements and print the table."""
    if sys.argv[1:2] == ["--memory"]:
        park_after = None if sys.argv[2] == "never" else float(sys.argv[2])
        print(asyncio.run(_memory(park_after, 500)))
        return
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    asyncio.run(_main(rounds))


if __name__ == "__main__":
    main()
