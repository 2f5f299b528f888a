"""Running a project's workflows on a real server from a test: `WflowEnv` and `run`."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.client import WorkflowHistory as _History

from wflow.model import ErrorKind, WflowError
from wflow.registry import Registry, load_project
from wflow.temporal import CallStep, Session, call_steps
from wflow.testing._mocks import FunctionMock, MockCall, mocks_applied

__all__ = ["TQ_PREFIX_ENV", "Project", "RunRecord", "WflowEnv", "run"]

TQ_PREFIX_ENV = "WFLOW_TQ_PREFIX"
"""The environment variable a project's `temporal.client` reads its `tq_prefix` from.

`wflow init` writes `tq_prefix: "${env:WFLOW_TQ_PREFIX:-}"`; the pytest fixtures set it to a
fresh value per test, so two tests sharing a server never poll each other's task queues.
"""

Project = Registry | str | Path
"""A project: a loaded `Registry`, or the folder to load it from (`wflow.registry.load_project`)."""


@dataclasses.dataclass
class RunRecord:
    """A finished run: what it returned (or failed with) and its history.

    Attributes:
        workflow_id: The run's workflow ID.
        result: What the workflow returned (None when it failed).
        error: The `WflowError` it failed with, or None.
        history: Its history (`temporalio.client.WorkflowHistory`).
    """

    workflow_id: str
    result: Any
    error: WflowError | None
    history: _History

    @property
    def calls(self) -> list[CallStep]:
        """The run's intercepted calls in order, as `wflow history` shows them."""
        return call_steps(self.history)

    def save_history(self, path: str | Path) -> Path:
        """Write the run's history to `path` as JSON, for `wflow.testing.replay` later.

        The same JSON as `wflow history PID --raw` (Temporal's own history format). The file's
        stem is taken as the workflow ID when it is read back; parent folders are created.

        Example:
            ```python
            record = await wflow_env.execute(PROJECT, "app.workflows:order_processor", order)
            record.save_history(PROJECT / "histories" / "order_processor.json")
            ```

        Args:
            path: The file to write.

        Returns:
            The path written.
        """
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.history.to_json() + "\n", encoding="utf-8")
        return target


class WflowEnv:
    """Runs a project's workflows on one server for one test, with mocks and isolation.

    What the `wflow_env` / `wflow_dev_env` fixtures give a test. Every session it opens uses
    the given client, builds the project's workers in this process with the environment's
    mocks in place of their functions, and (when `tq_prefix` is set) loads the project with
    `WFLOW_TQ_PREFIX` set to it, so the project's task queues are the test's own.

    Example:
        ```python
        async def test_refund(wflow_env: WflowEnv) -> None:
            charge = wflow_env.mock_function("app.api:charge_card", returns="ch_1")
            result = await wflow_env.run(PROJECT, "app.workflows:order_processor", order)
            assert charge.call_args == [[order]]
        ```

    Args:
        client: A client connected to the server (say `WorkflowEnvironment.client`).
        tq_prefix: The task-queue prefix for projects loaded from a folder; None leaves
            `WFLOW_TQ_PREFIX` as it is.

    Attributes:
        client: The client.
        mocks: The mocks applied to every run, by `mock_function` or by hand.
        mock_calls: Every call to any of `mocks`, in the order they happened.
    """

    def __init__(self, client: Client, *, tq_prefix: str | None = None) -> None:
        """Wrap `client`; see the class."""
        self.client = client
        self.tq_prefix = tq_prefix
        self.mocks: list[FunctionMock] = []
        self.mock_calls: list[MockCall] = []

    def mock_function(
        self,
        entry_id: str,
        *,
        returns: Any = None,
        raises: BaseException | None = None,
        side_effect: Any = None,
    ) -> FunctionMock:
        """Mock function entry `entry_id` in every later run (see `wflow.testing.mock_function`).

        Its calls are recorded on the mock and, in order with the other mocks', in
        `mock_calls`.
        """
        given: dict[str, Any] = {"raises": raises, "side_effect": side_effect}
        if raises is None and side_effect is None:
            given["returns"] = returns
        # One log for all the environment's mocks: the order of calls across them.
        mock = FunctionMock(entry_id, log=self.mock_calls, **given)
        self.mocks.append(mock)
        return mock

    def load(self, project: Project) -> Registry:
        """Load `project` (a folder) with this environment's task-queue prefix."""
        if isinstance(project, Registry):
            return project
        with _env_var(TQ_PREFIX_ENV, self.tq_prefix):
            return load_project(Path(project))

    @contextlib.asynccontextmanager
    async def session(
        self, project: Project, *, mocks: Iterable[FunctionMock] = ()
    ) -> AsyncIterator[Session]:
        """Open a `wflow.temporal.Session` on this server with the project's workers running.

        For what `run` does not cover: start a workflow, send it messages, query it, wait.

        Example:
            ```python
            async with wflow_env.session(PROJECT) as session:
                handle = await session.start("app.workflows:approval", [request])
                await handle.signal(...)
                result = await session.result(handle)
            ```

        Args:
            project: The project.
            mocks: More mocks for this session, on top of `self.mocks`.

        Yields:
            The session.
        """
        registry = self.load(project)
        applied = [*self.mocks, *mocks]
        _check_mocks(registry, applied)
        async with contextlib.AsyncExitStack() as stack:
            with mocks_applied(applied):
                session = await stack.enter_async_context(Session(registry, client=self.client))
            yield session

    async def execute(
        self,
        project: Project,
        entry_id: str,
        *args: Any,
        mocks: Iterable[FunctionMock] = (),
        workflow_id: str | None = None,
        max_attempts: int | None = None,
    ) -> RunRecord:
        """Run workflow `entry_id` to its end; return its result or failure and its history.

        A failure of the workflow is returned (`RunRecord.error`), not raised.

        Args:
            project: The project.
            entry_id: The workflow entry (Lua or Python).
            *args: Its arguments.
            mocks: More mocks for this run.
            workflow_id: The workflow ID (default: the entry ID and a random suffix).
            max_attempts: Cap each function call at that many attempts.

        Returns:
            The run's record.
        """
        async with self.session(project, mocks=mocks) as session:
            handle = await session.start(
                entry_id, list(args), workflow_id=workflow_id, max_attempts=max_attempts
            )
            result: Any = None
            error: WflowError | None = None
            try:
                result = await session.result(handle)
            except WflowError as exc:
                error = exc
            history = await handle.fetch_history()
        return RunRecord(handle.id, result, error, history)

    async def run(
        self,
        project: Project,
        entry_id: str,
        *args: Any,
        mocks: Iterable[FunctionMock] = (),
        max_attempts: int | None = None,
    ) -> Any:
        """Run workflow `entry_id` of `project` with `args`; return its result.

        Lua and Python workflow entries alike; the project's workers run in this process, its
        mocked functions replaced by the mocks.

        Example:
            ```python
            result = await wflow_env.run("my_project", "app.workflows:greet", "Ada")
            ```

        Args:
            project: The project.
            entry_id: The workflow entry.
            *args: Its arguments.
            mocks: More mocks for this run.
            max_attempts: Cap each function call at that many attempts.

        Returns:
            The workflow's result.

        Raises:
            WflowError: The workflow failed, with the kind it failed with.
        """
        record = await self.execute(
            project, entry_id, *args, mocks=mocks, max_attempts=max_attempts
        )
        if record.error is not None:
            raise record.error
        return record.result


async def run(
    project: Project,
    entry_id: str,
    *args: Any,
    mocks: Iterable[FunctionMock] = (),
    client: Client | None = None,
) -> Any:
    """Run a workflow of `project` on a server and return its result (for scripts and doctests).

    Without `client`, starts a time-skipping server for this one run (about a second); in
    tests prefer the `wflow_env` fixture, which shares one per module.

    Example:
        ```python
        result = asyncio.run(run("my_project", "app.workflows:greet", "Ada"))
        ```

    Args:
        project: The project.
        entry_id: The workflow entry.
        *args: Its arguments.
        mocks: Mocks for its functions.
        client: A client connected to the server to use.

    Returns:
        The workflow's result.

    Raises:
        WflowError: The workflow failed, with the kind it failed with.
    """
    if client is not None:
        return await WflowEnv(client).run(project, entry_id, *args, mocks=mocks)
    from wflow.testing._test_servers import time_skipping_server

    async with time_skipping_server() as env:
        return await WflowEnv(env.client).run(project, entry_id, *args, mocks=mocks)


def new_tq_prefix() -> str:
    """Return a fresh task-queue prefix (`t` and ten hex digits and a dash)."""
    return f"t{uuid.uuid4().hex[:10]}-"


def _check_mocks(registry: Registry, mocks: Sequence[FunctionMock]) -> None:
    # A typo'd entry ID would leave the real function running: say so before starting.
    for mock in mocks:
        entry = registry.get(mock.entry_id) if mock.entry_id in registry else None
        if entry is None or not entry.kind.startswith("function."):
            raise WflowError(
                f"mock_function({mock.entry_id!r}): the project has no function entry "
                f"{mock.entry_id!r}",
                ErrorKind.NOT_FOUND,
            )


@contextlib.contextmanager
def _env_var(name: str, value: str | None) -> Any:
    if value is None:
        yield
        return
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before
