"""Registry stand-ins for the Lua bridge tests: entries written to a temporary directory.

The in-memory runtime and process client they run on are public: `wflow.testing`'s
`FakeRuntime` and `FakeProcessClient`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.helpers.paths import FIXTURES as REPO_FIXTURES
from wflow.model import WorkflowRuntime
from wflow.testing import run_workflow as run_on

__all__ = [
    "FIXTURES",
    "FakeEntry",
    "FakeLimits",
    "FakeRegistry",
    "lua_entry",
    "run_sync",
    "run_workflow",
]

FIXTURES = REPO_FIXTURES / "lua"


@dataclasses.dataclass
class FakeLimits:
    max_memory: int | str | None = None
    max_instructions: int | None = None
    park_after: Any = None


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
    """Write `source` to `<tmp_path>/<name>.lua` and return a workflow entry `app:<name>`."""
    path = tmp_path / f"{name}.lua"
    path.write_text(source, encoding="utf-8")
    return FakeEntry(id=f"app:{name}", path=path, **kwargs)


async def run_workflow(
    tmp_path: Path,
    source: str,
    args: Sequence[Any] = (),
    runtime: WorkflowRuntime | None = None,
    **kwargs: Any,
) -> Any:
    """Run Lua `source` as a workflow entry on `runtime` (a fresh `FakeRuntime` by default)."""
    entry = lua_entry(tmp_path, source, **kwargs)
    return await run_on(entry, args, runtime=runtime)  # type: ignore[arg-type]


def run_sync(tmp_path: Path, source: str, args: Sequence[Any] = (), **kwargs: Any) -> Any:
    return asyncio.run(run_workflow(tmp_path, source, args, **kwargs))
