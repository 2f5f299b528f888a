"""Commands that run the project: `run`, `worker` and `dev`.

Each starts the project's workers in this process, on the configured Temporal server (the
embedded dev server when a local address has none) or on the time-skipping test server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shlex
import signal
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wflow.cli._common import (
    EXIT_FAILED,
    AddressOpt,
    ArgsJsonArg,
    EntryArg,
    ProjectArg,
    StateDirOpt,
    cancelled_by_signals,
    check_workflow_entry,
    configure_logging,
    echo_err,
    fail,
    load_registry,
    option,
    parse_json_args,
    report,
    reporting_errors,
    rpc_error,
    settings,
    to_json,
)
from wflow.model import WflowError

if TYPE_CHECKING:
    from wflow.registry import Registry
    from wflow.temporal import Session
    from wflow.temporal._failure_reports import FailureLog, FailureReport

__all__ = ["dev", "register", "run", "worker"]


class _WorkflowFailed(Exception):
    def __init__(self, error: WflowError) -> None:
        super().__init__(str(error))
        self.error = error


class _WorkflowStuck(Exception):
    """The run's workflow task failed: the workflow waits for a fixed deploy."""

    def __init__(self, report: FailureReport) -> None:
        super().__init__(report.error_text())
        self.report = report


@dataclasses.dataclass
class _RunState:
    """What `wflow run` knows about its workflow, for the messages after it ends."""

    project: Path
    time_skipping: bool
    workflow_id: str
    pid: str
    started: bool = False
    log: FailureLog | None = None

    def commands(self) -> dict[str, str]:
        """The follow-up commands, with this run's project and PID filled in."""
        project, pid = shlex.quote(str(self.project)), shlex.quote(self.pid)
        return {
            "follow it": f"wflow result {project} {pid}",
            "keep it running": f"wflow dev {project}",
            "stop it": f"wflow terminate {project} {pid}",
        }


def _interrupted_lines(state: _RunState) -> list[str]:
    if not state.started:
        return ["interrupted before the workflow started"]
    if state.time_skipping:
        return [
            "interrupted; the workflow ran on the time-skipping test server, "
            "which is gone with it (nothing persists)"
        ]
    commands = state.commands()
    width = max(len(name) for name in commands) + 1
    return [
        "interrupted; the workflow keeps running (it was not cancelled)",
        f"  {'PID:':<{width}}  {state.pid}",
        *(f"  {name + ':':<{width}}  {command}" for name, command in commands.items()),
    ]


def _stuck_lines(state: _RunState, entry_id: str, report: FailureReport) -> list[str]:
    lines = [
        f"error: workflow {entry_id} is stuck: its workflow task failed: {report.error_text()}"
    ]
    if state.time_skipping:
        lines.append("fix the code and run it again (nothing persists on the time-skipping server)")
        return lines
    commands = state.commands()
    lines += [
        "the workflow was not terminated: Temporal retries the task until a fixed deploy "
        "resumes it",
        f"  PID:                        {state.pid}",
        f"  fix the code, then resume:  {commands['keep it running']}",
        f"  or stop it:                 {commands['stop it']}",
    ]
    return lines


def _where_line(state: _RunState, error: WflowError) -> str | None:
    """Where the failure the workflow ended with was raised, as the workers reported it."""
    log = state.log
    if log is None:
        return None
    call = log.last(state.workflow_id, "call")
    if call is not None and call.message in error.message and call.location:
        attempt = f", attempt {call.attempt}" if call.attempt is not None else ""
        return f"where: {call.location} (call {call.entry_id}{attempt})"
    failed = log.last(state.workflow_id, "workflow")
    if failed is not None and failed.location:
        return f"where: {failed.location} (workflow {failed.entry_id})"
    return None


def run(
    project: ProjectArg,
    entry: EntryArg,
    args: ArgsJsonArg = None,
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
        option("--workflow-id", help="Workflow ID (default: the entry ID and a random suffix)."),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="No progress lines on stderr (failures are still shown)."
        ),
    ] = False,
    max_attempts: Annotated[
        int | None,
        option(
            "--max-attempts",
            min=1,
            help="Try each function call of this run at most N times "
            "(default: the retry policy's, unlimited unless set).",
            metavar="N",
        ),
    ] = None,
) -> None:
    """Run a workflow to completion and print its result as JSON.

    Starts the project's workers in this process. Without --time-skipping it uses the
    configured Temporal server, starting the embedded dev server when a local address has none.
    Progress and each failed function attempt or workflow task (with the file and line that
    raised it) go to stderr, the result to stdout.

    Exits 1 when the workflow fails, and as soon as its workflow task fails: the workflow then
    waits, not terminated, for a fixed deploy (`wflow dev PROJECT`), or `wflow terminate`.
    Ctrl-C exits 130 and prints the workflow's PID and the commands to follow it.
    """
    values = parse_json_args(args or [])
    with reporting_errors():
        registry = load_registry(project)
    check_workflow_entry(registry, entry)
    configure_logging()
    # Temporal's runtime threads are about to start: leave without interpreter finalization,
    # which they can crash (PyGILState_Release abort or a segfault after the output).
    settings.hard_exit = True
    progress = None if quiet else echo_err
    state = _run_state(registry, project, entry, workflow_id, time_skipping)
    try:
        result = asyncio.run(
            _run(
                registry,
                entry,
                values,
                state=state,
                address=address,
                state_dir=state_dir,
                progress=progress,
                max_attempts=max_attempts,
            )
        )
    except _WorkflowFailed as failed:
        error = failed.error
        lines = [f"error: workflow {entry} failed: {error}"]
        where = _where_line(state, error)
        if where is not None:
            lines.append(where)
        if error.details is not None:
            lines.append(f"details: {to_json(error.details)}")
        fail(EXIT_FAILED, *lines)
    except _WorkflowStuck as stuck:
        fail(EXIT_FAILED, *_stuck_lines(state, entry, stuck.report))
    except WflowError as error:
        report(error)
    except rpc_error() as error:
        fail(EXIT_FAILED, f"error: the Temporal server stopped answering: {error}")
    except KeyboardInterrupt:
        fail(130, *_interrupted_lines(state))
    typer.echo(to_json(result))


def _run_state(
    registry: Registry, project: Path, entry_id: str, workflow_id: str | None, time_skipping: bool
) -> _RunState:
    from wflow.model import format_pid
    from wflow.temporal._targets import default_workflow_id

    # The ID is chosen here, not by the session, so an interrupted run can name its PID.
    workflow_id = workflow_id or default_workflow_id(entry_id, uuid.uuid4())
    worker = registry.worker_of(entry_id, "workflow")
    return _RunState(
        project=project,
        time_skipping=time_skipping,
        workflow_id=workflow_id,
        pid=format_pid(worker.id, workflow_id),
    )


async def _run(
    registry: Registry,
    entry_id: str,
    values: list[Any],
    *,
    state: _RunState,
    address: str | None,
    state_dir: Path | None,
    progress: Callable[[str], None] | None,
    max_attempts: int | None,
) -> Any:
    from wflow.temporal import Session
    from wflow.temporal._failure_reports import FailureLog

    loop = asyncio.get_running_loop()
    stuck: asyncio.Future[FailureReport] = loop.create_future()

    def on_failure(report: FailureReport) -> None:
        # Called from worker threads too: hand the first stuck task over to the loop.
        if report.what == "workflow task" and report.workflow_id == state.workflow_id:
            loop.call_soon_threadsafe(_settle, stuck, report)

    log = FailureLog(
        echo_err,
        time_skipping=state.time_skipping,
        main_workflow_id=state.workflow_id,
        show_workflow_failures=False,  # the run prints its workflow's failure itself
    )
    log.add_listener(on_failure)
    state.log = log
    with cancelled_by_signals() as interrupted:
        try:
            async with Session(
                registry,
                mode="time-skipping" if state.time_skipping else "auto",
                state_dir=state_dir,
                address=address,
                progress=progress,
                failures=log,
            ) as session:
                if progress is not None:
                    progress(f"connected to {session.server_address}")
                return await _start_and_wait(
                    session, entry_id, values, state, stuck, max_attempts, progress
                )
        except asyncio.CancelledError:
            if interrupted.is_set():
                raise KeyboardInterrupt from None
            raise
        finally:
            log.close()


def _settle(future: asyncio.Future[FailureReport], report: FailureReport) -> None:
    if not future.done():
        future.set_result(report)


async def _start_and_wait(
    session: Session,
    entry_id: str,
    values: list[Any],
    state: _RunState,
    stuck: asyncio.Future[FailureReport],
    max_attempts: int | None,
    progress: Callable[[str], None] | None,
) -> Any:
    handle = await session.start(
        entry_id, values, workflow_id=state.workflow_id, max_attempts=max_attempts
    )
    state.started = True
    if progress is not None:
        progress(f"started {entry_id} as {handle.id}")
    result = asyncio.ensure_future(session.result(handle))
    try:
        done, _ = await asyncio.wait({result, stuck}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        result.cancel()
        raise
    if result in done:
        try:
            return result.result()
        except WflowError as error:
            raise _WorkflowFailed(error) from None
    result.cancel()
    # Waiting on would only watch this process's worker fail the same task again and again:
    # a fixed deploy is another process (wflow dev / wflow worker), so the run ends here.
    raise _WorkflowStuck(stuck.result())


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
    from wflow.temporal._failure_reports import FailureLog

    # Every failed function attempt and workflow task of this process's workers, as it
    # happens (workflows' IDs in brackets: a worker serves many).
    failures = FailureLog(echo_err)
    try:
        async with Session(
            registry,
            mode="auto",
            state_dir=state_dir,
            address=address,
            progress=echo_err,
            failures=failures,
            sync_schedules=True,
            services=echo_err,
        ) as session:
            on_ready(session)
            await session.run_workers_until(stop)
    finally:
        failures.close()
        for sig in signals:
            loop.remove_signal_handler(sig)


def _serve_command(project: Path, address: str | None, state_dir: Path | None, dev: bool) -> None:
    with reporting_errors():
        registry = load_registry(project)
    configure_logging()
    settings.hard_exit = True  # Temporal's runtime threads, as for `run`

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
    except rpc_error() as error:
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
