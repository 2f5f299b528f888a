"""Running a workflow to its end on a runtime of the test's choosing, with no server."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from wflow.model import (
    ErrorKind,
    WflowError,
    WorkflowProgram,
    WorkflowRuntime,
    bind_runtime,
    engine_for,
)
from wflow.registry import Entry, Registry
from wflow.testing._fakes import FakeRuntime

__all__ = ["WorkflowUnderTest", "run_workflow", "workflow_program"]

WorkflowUnderTest = WorkflowProgram | Callable[..., Awaitable[Any]] | Entry | str
"""What `run_workflow` runs: a loaded program, an `async def` workflow function (decorated
with `@wflow.workflow` or not), a registry entry (Lua or Python), or an entry ID."""


class _FunctionProgram:
    """A Python workflow function as a program, the way the Python engine runs one."""

    def __init__(self, fn: Callable[..., Awaitable[Any]]) -> None:
        self._fn = fn

    async def run(self, runtime: WorkflowRuntime, args: Sequence[Any]) -> Any:
        bind_runtime(runtime)
        return await self._fn(*args)


def workflow_program(workflow: WorkflowUnderTest, registry: Registry | None = None) -> Any:
    """Return `workflow` as a loaded program (a `wflow.model.WorkflowProgram`).

    Args:
        workflow: A program (returned as is), an `async def` workflow function, a workflow
            entry (loaded by the engine of its kind, e.g. Lua's), or an entry ID.
        registry: The registry to look an entry ID up in, and handed to the engine (a Lua
            workflow resolves `require`d libraries through it).

    Returns:
        The program.

    Raises:
        WflowError: `INVALID` for an entry ID without a registry, or an entry its engine
            cannot load; `NOT_FOUND` for an unknown entry ID.
    """
    if isinstance(workflow, str):
        if registry is None:
            raise WflowError(
                f"run_workflow({workflow!r}) needs the registry to look the entry up in",
                ErrorKind.INVALID,
            )
        workflow = registry.get(workflow)
    if inspect.iscoroutinefunction(inspect.unwrap(workflow)):  # type: ignore[arg-type]
        return _FunctionProgram(workflow)  # type: ignore[arg-type]
    if hasattr(workflow, "kind"):
        entry: Any = workflow
        return engine_for(entry.kind).workflow_program(entry, registry)  # type: ignore[arg-type]
    if callable(getattr(workflow, "run", None)):
        return workflow
    raise WflowError(
        f"cannot run {workflow!r}: expected a workflow program, an async workflow function, "
        f"an entry or an entry ID",
        ErrorKind.INVALID,
    )


async def run_workflow(
    workflow: WorkflowUnderTest,
    args: Sequence[Any] = (),
    *,
    runtime: WorkflowRuntime | None = None,
    registry: Registry | None = None,
) -> Any:
    """Run a workflow to its end without Temporal and return its result.

    The run has an asyncio task of its own, so the runtime it binds does not leak into the
    caller's context. Lua and Python workflows run alike; a Lua one needs `lua_bridge` (it is
    imported only then).

    Example:
        ```python
        runtime = FakeRuntime({"app.api:charge_card": {"receipt": "r-1"}})
        result = await run_workflow(order_processor, [{"amount": 5}], runtime=runtime)
        assert runtime.calls[0][0] == "app.api:charge_card"
        ```

    Args:
        workflow: What to run (see `WorkflowUnderTest`).
        args: The workflow's arguments.
        runtime: The runtime to run on; a fresh `FakeRuntime` by default.
        registry: The registry for entry IDs and for the engine.

    Returns:
        The workflow's result.

    Raises:
        WflowError: The workflow failed (Lua: returned `nil, err`), or could not be loaded.
        FakeContinueAsNew: The workflow continued as new on a `FakeRuntime`.
    """
    program = workflow_program(workflow, registry)
    task = asyncio.get_running_loop().create_task(
        program.run(runtime if runtime is not None else FakeRuntime(), list(args))
    )
    return await task
