"""Commands that run the project: `run`, `worker` and `dev`.

Each starts the project's workers in this process, on the configured Temporal server (the
embedded dev server when a local address has none) or on the time-skipping test server.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from temporalio.service import RPCError

from wflow.cli._common import (
    EXIT_FAILED,
    AddressOpt,
    ProjectArg,
    StateDirOpt,
    cancelled_by_signals,
    check_workflow_entry,
    configure_logging,
    echo_err,
    fail,
    load_registry,
    parse_json_args,
    report,
    reporting_errors,
    to_json,
)
from wflow.model import WflowError

if TYPE_CHECKING:
    from wflow.registry import Registry
    from wflow.temporal import Session

__all__ = ["dev", "register", "run", "worker"]


class _WorkflowFailed(Exception):
    def __init__(self, error: WflowError) -> None:
        super().__init__(str(error))
        self.error = error


def run(
    project: ProjectArg,
    entry: Annotated[
        str, typer.Argument(metavar="ENTRY", help="Workflow entry ID, e.g. app.workflows:main.")
    ],
    args: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="ARG_JSON",
            help="Arguments, each one JSON value.",
            show_default=False,
        ),
    ] = None,
    time_skipping: Annotated[
        bool,
        typer.Option(
            "--time-skipping",
            help="Run on the time-skipping test server: sleeps take no time, nothing persists.",
        ),
    ] = False,
    address: AddressOpt = None,
    state_dir: StateDirOpt = None,
    workflow_id: Annotated[
        str | None,
        typer.Option(
            "--workflow-id",
            help="Workflow ID (default: the entry ID and a random suffix).",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress lines on stderr.")
    ] = False,
) -> None:
    """Run a workflow to completion and print its result as JSON.

    Starts the project's workers in this process. Without --time-skipping it uses the
    configured Temporal server, starting the embedded dev server when a local address has none.
    Progress goes to stderr, the result to stdout. Exits 1 when the workflow fails.
    """
    values = parse_json_args(args or [])
    with reporting_errors():
        registry = load_registry(project)
    check_workflow_entry(registry, entry)
    configure_logging()
    progress = None if quiet else echo_err
    try:
        result = asyncio.run(
            _run(
                registry,
                entry,
                values,
                time_skipping=time_skipping,
                address=address,
                state_dir=state_dir,
                workflow_id=workflow_id,
                progress=progress,
            )
        )
    except _WorkflowFailed as failed:
        error = failed.error
        lines = [f"error: workflow {entry} failed: {error}"]
        if error.details is not None:
            lines.append(f"details: {to_json(error.details)}")
        fail(EXIT_FAILED, *lines)
    except WflowError as error:
        report(error)
    except RPCError as error:
        fail(EXIT_FAILED, f"error: the Temporal server stopped answering: {error}")
    except KeyboardInterrupt:
        fail(130, "interrupted (the workflow itself was not cancelled)")
    typer.echo(to_json(result))


async def _run(
    registry: Registry,
    entry_id: str,
    values: list[Any],
    *,
    time_skipping: bool,
    address: str | None,
    state_dir: Path | None,
    workflow_id: str | None,
    progress: Callable[[str], None] | None,
) -> Any:
    from wflow.temporal import Session

    with cancelled_by_signals() as interrupted:
        try:
            async with Session(
                registry,
                mode="time-skipping" if time_skipping else "auto",
                state_dir=state_dir,
                address=address,
                progress=progress,
            ) as session:
                if progress is not None:
                    progress(f"connected to {session.server_address}")
                try:
                    return await session.execute(entry_id, values, workflow_id=workflow_id)
                except WflowError as error:
                    raise _WorkflowFailed(error) from None
        except asyncio.CancelledError:
            if interrupted.is_set():
                raise KeyboardInterrupt from None
            raise


async def _serve(
    registry: Registry,
    *,
    address: str | None,
    state_dir: Path | None,
    on_ready: Callable[[Session], None],
) -> None:
    from wflow.temporal import Session

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()

    def on_signal() -> None:
        if stop.is_set():
            if task is not None:
                task.cancel()
            return
        echo_err("stopping (press Ctrl-C again to force)")
        stop.set()

    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, on_signal)
    try:
        async with Session(
            registry, mode="auto", state_dir=state_dir, address=address, progress=echo_err
        ) as session:
            on_ready(session)
            await session.run_workers_until(stop)
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


def _serve_command(project: Path, address: str | None, state_dir: Path | None, dev: bool) -> None:
    with reporting_errors():
        registry = load_registry(project)
    configure_logging()

    def on_ready(session: Session) -> None:
        echo_err(f"Temporal server: {session.server_address}")
        if dev:
            if session.ui_url:
                echo_err(f"Web UI: {session.ui_url}")
            else:
                echo_err("Web UI: served by the already running server, not by wflow")
        echo_err("workers running; press Ctrl-C to stop")

    try:
        asyncio.run(_serve(registry, address=address, state_dir=state_dir, on_ready=on_ready))
    except WflowError as error:
        report(error)
    except RPCError as error:
        fail(EXIT_FAILED, f"error: the Temporal server stopped answering: {error}")
    except (KeyboardInterrupt, asyncio.CancelledError):
        fail(130, "interrupted")
    echo_err("stopped")


def worker(project: ProjectArg, address: AddressOpt = None, state_dir: StateDirOpt = None) -> None:
    """Run the project's workers until SIGINT or SIGTERM, then shut down gracefully.

    Connects to the configured Temporal server; when its address is local and nothing answers
    there, starts the embedded dev server too.
    """
    _serve_command(project, address, state_dir, dev=False)


def dev(project: ProjectArg, address: AddressOpt = None, state_dir: StateDirOpt = None) -> None:
    """Run the embedded dev server (with its web UI) and the project's workers; Ctrl-C stops both.

    Workflows persist in the state directory's database across restarts.
    """
    _serve_command(project, address, state_dir, dev=True)


def register(app: typer.Typer) -> None:
    """Add `run`, `worker` and `dev` to `app`."""
    app.command()(run)
    app.command()(worker)
    app.command()(dev)
