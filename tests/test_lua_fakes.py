"""Shared fakes for the Lua bridge tests: an in-memory WorkflowRuntime and registry entries.

No tests here; the other `test_lua_*.py` files import from this module.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from wflow.model import ActivityOptions, WflowError, WorkflowInfo

FIXTURES = Path(__file__).parent / "fixtures" / "lua"
START = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)


@dataclasses.dataclass
class FakeLimits:
    max_memory: int | str | None = None
    max_instructions: int | None = None


@dataclasses.dataclass
class FakeEntry:
    id: str
    path: Path
    kind: str = "workflow.lua"
    method: str = "main"
    modules: list[str] = dataclasses.field(
        default_factory=lambda: ["funcs", "time", "uuid", "json", "errors", "workflow", "channel"]
    )
    imports: dict[str, str] = dataclasses.field(default_factory=dict)
    limits: Any = None
    file: str = "/project/_index.yaml"
    line: int | None = 7

    @property
    def namespace(self) -> str:
        return self.id.split(":", 1)[0]

    @property
    def source(self) -> str:
        return f"file://{self.path.name}"

    def source_path(self) -> Path:
        return self.path


class FakeRegistry:
    def __init__(self, *entries: FakeEntry) -> None:
        self.entries = {e.id: e for e in entries}

    def get(self, entry_id: str) -> FakeEntry:
        return self.entries[entry_id]

    def resolve(self, ref: str, namespace: str) -> str:
        full = ref if ":" in ref else f"{namespace}:{ref}"
        if full not in self.entries:
            raise KeyError(full)
        return full


def lua_entry(tmp_path: Path, source: str, name: str = "wf", **kwargs: Any) -> FakeEntry:
    path = tmp_path / f"{name}.lua"
    path.write_text(source, encoding="utf-8")
    return FakeEntry(id=f"app:{name}", path=path, **kwargs)


async def run_workflow(
    tmp_path: Path,
    source: str,
    args: Sequence[Any] = (),
    runtime: FakeRuntime | None = None,
    **kwargs: Any,
) -> Any:
    from lua_bridge import LuaEngine

    entry = lua_entry(tmp_path, source, **kwargs)
    program = LuaEngine().workflow_program(entry, None)
    return await program.run(runtime or FakeRuntime(), args)


def run_sync(tmp_path: Path, source: str, args: Sequence[Any] = (), **kwargs: Any) -> Any:
    return asyncio.run(run_workflow(tmp_path, source, args, **kwargs))


class FakeHandle:
    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.canceled = False

    def done(self) -> bool:
        return self.task.done()

    async def result(self) -> Any:
        return await asyncio.shield(self.task)

    def cancel(self) -> None:
        self.canceled = True
        self.task.cancel()


Result = Any | Callable[..., Any]


class FakeRuntime:
    """Records intercepted calls; returns canned results; virtual clock advanced by sleeps."""

    def __init__(
        self,
        results: dict[str, Result] | None = None,
        *,
        now: datetime = START,
        seed: int = 42,
        delays: dict[str, float] | None = None,
    ) -> None:
        self.results = results or {}
        self.delays = delays or {}
        self.clock = now
        self.seed = seed
        self.calls: list[tuple[str, list[Any], ActivityOptions]] = []
        self.sleeps: list[timedelta] = []
        self._uuids = 0

    def info(self) -> WorkflowInfo:
        return WorkflowInfo("wf-1", "run-1", "app:wf", "orders", "default", 1, 3, "app:wf")

    def now(self) -> datetime:
        return self.clock

    def uuid4(self) -> uuid.UUID:
        self._uuids += 1
        return uuid.UUID(int=(self.seed << 64) | self._uuids, version=4)

    def uuid7(self) -> uuid.UUID:
        self._uuids += 1
        value = (self.seed << 64) | self._uuids
        value = (value & ~(0xF << 76)) | (0x7 << 76)
        value = (value & ~(0x3 << 62)) | (0x2 << 62)
        return uuid.UUID(int=value)

    def random_seed(self) -> int:
        return self.seed

    async def sleep(self, duration: timedelta) -> None:
        self.sleeps.append(duration)
        await asyncio.sleep(duration.total_seconds() / 1e6)
        self.clock = max(self.clock, self.clock + duration)

    async def call(self, target: str, args: Sequence[Any], options: ActivityOptions) -> Any:
        self.calls.append((target, list(args), options))
        delay = self.delays.get(target, 0.0)
        if delay:
            await asyncio.sleep(delay)
        else:
            await asyncio.sleep(0)
        if target not in self.results:
            raise WflowError(f"no such function {target}", "NOT_FOUND")
        result = self.results[target]
        if callable(result):
            result = result(*args)
        if isinstance(result, WflowError):
            raise result
        return result

    def start_call(self, target: str, args: Sequence[Any], options: ActivityOptions) -> FakeHandle:
        task = asyncio.get_running_loop().create_task(self.call(target, args, options))
        return FakeHandle(task)
