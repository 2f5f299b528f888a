"""The `wflow` commands (typer)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from temporalio.service import RPCError

from wflow.model import ErrorKind, WflowError

if TYPE_CHECKING:
    from wflow.registry import Problem, Registry

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "app", "main"]

EXIT_OK = 0
"""The command succeeded."""
EXIT_FAILED = 1
"""The workflow failed, or the server could not be reached or started."""
EXIT_USAGE = 2
"""Bad usage or configuration: typer's own usage errors, invalid projects, bad arguments."""

app = typer.Typer(
    name="wflow",
    help="Durable workflows in Lua or decorated Python, on Temporal.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)

ProjectArg = Annotated[
    Path,
    typer.Argument(
        help="Project folder (its definition files are scanned recursively) or one file.",
        exists=True,
        metavar="PROJECT",
        show_default=False,
    ),
]
AddressOpt = Annotated[
    str | None,
    typer.Option(
        "--address",
        help="Temporal frontend host:port, overriding the project's temporal.client entries.",
        show_default=False,
    ),
]
StateDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        help="Where the embedded dev server keeps its database and log (default: PROJECT/.wflow).",
        show_default=False,
    ),
]


_options = {"verbose": False, "hard_exit": False}


@app.callback()
def _root(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Show warnings and logs of Temporal's SDK and worker (hidden by default).",
        ),
    ] = False,
) -> None:
    """Durable workflows in Lua or decorated Python, on Temporal."""
    _options["verbose"] = verbose


def _configure_logging() -> None:
    """Keep Temporal's own logs off the terminal unless `--verbose` was given.

    Without it, failures are reported once, as wflow errors, instead of also as the SDK's
    warnings with tracebacks.
    """
    import logging
    import warnings

    from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

    verbose = _options["verbose"]
    level = "WARN" if verbose else "ERROR"
    Runtime.set_default(
        Runtime(
            telemetry=TelemetryConfig(
                logging=LoggingConfig(filter=TelemetryFilter(core_level=level, other_level=level))
            )
        ),
        error_if_already_set=False,
    )
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        warnings.filterwarnings("ignore", category=UserWarning, module=r"temporalio\.")


def _err(line: str) -> None:
    typer.echo(line, err=True)


def _fail(code: int, *lines: str) -> NoReturn:
    for line in lines:
        _err(line)
    raise typer.Exit(code)


def _report(error: WflowError) -> NoReturn:
    """Print a configuration or set-up error without a traceback and exit."""
    problems: list[Problem] | None = getattr(error, "problems", None)
    if problems:
        for problem in problems:
            _err(str(problem))
        count = len(problems)
        _fail(EXIT_USAGE, f"error: {count} {'problem' if count == 1 else 'problems'} found")
    usage = error.kind in (ErrorKind.INVALID, ErrorKind.NOT_FOUND)
    _fail(EXIT_USAGE if usage else EXIT_FAILED, f"error: {error}")


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except WflowError as error:
        _report(error)


def _load(project: Path) -> Registry:
    from wflow.registry import load_project

    # Every command checks the entries' programs too (Lua syntax, modules, ...): a broken
    # project is reported before anything starts.
    return load_project(project, check_programs=True)


def _parse_args(texts: Iterable[str]) -> list[Any]:
    values: list[Any] = []
    for index, text in enumerate(texts, start=1):
        try:
            values.append(json.loads(text))
        except json.JSONDecodeError as exc:
            _fail(EXIT_USAGE, f"error: argument {index} is not valid JSON ({exc}): {text!r}")
    return values


def _check_workflow_entry(registry: Registry, entry_id: str) -> None:
    """Exit with a usage error unless `entry_id` names a workflow of the project."""
    workflows = sorted(entry.id for entry in registry.workflows())
    known = ", ".join(workflows) if workflows else "none"
    if entry_id not in registry:
        _fail(EXIT_USAGE, f"error: unknown entry {entry_id!r}; the project's workflows: {known}")
    from wflow.registry import WORKFLOW_KINDS

    entry = registry.get(entry_id)
    if entry.kind not in WORKFLOW_KINDS:
        _fail(
            EXIT_USAGE,
            f"error: {entry_id} is a {entry.kind} entry, not a workflow; "
            f"the project's workflows: {known}",
        )


def _to_json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return json.dumps(value, ensure_ascii=False, default=str)


@app.command()
def validate(project: ProjectArg) -> None:
    """Check a project: definition files, references, Lua sources.

    Prints each problem as `path:line: message`. Exits 0 when there is none, 2 otherwise.
    """
    from wflow.registry import ConfigError

    try:
        registry = _load(project)
    except ConfigError as error:
        for problem in error.problems:
            typer.echo(str(problem))
        count = len(error.problems)
        _fail(EXIT_USAGE, f"error: {count} {'problem' if count == 1 else 'problems'} found")
    except WflowError as error:
        _report(error)
    files = {entry.file for entry in registry if entry.file is not None}
    typer.echo(f"ok: {len(registry)} entries in {len(files)} files")


@app.command()
def schema(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of stdout."),
    ] = None,
) -> None:
    """Print the JSON Schema of definition files (`_index.yaml`)."""
    from wflow.registry import definition_file_schema

    text = json.dumps(definition_file_schema(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


class _WorkflowFailed(Exception):
    def __init__(self, error: WflowError) -> None:
        super().__init__(str(error))
        self.error = error


@app.command()
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
    values = _parse_args(args or [])
    with _errors():
        registry = _load(project)
    _check_workflow_entry(registry, entry)
    _configure_logging()
    progress = None if quiet else _err
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
            lines.append(f"details: {_to_json(error.details)}")
        _fail(EXIT_FAILED, *lines)
    except WflowError as error:
        _report(error)
    except RPCError as error:
        _fail(EXIT_FAILED, f"error: the Temporal server stopped answering: {error}")
    except KeyboardInterrupt:
        _fail(130, "interrupted (the workflow itself was not cancelled)")
    typer.echo(_to_json(result))


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

    with _cancelled_by_signals() as interrupted:
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


@contextlib.contextmanager
def _cancelled_by_signals() -> Iterator[asyncio.Event]:
    """Cancel the current task on SIGINT or SIGTERM, so that `async with` blocks clean up.

    Yields an event that is set when a signal arrived.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    interrupted = asyncio.Event()

    def on_signal() -> None:
        interrupted.set()
        if task is not None:
            task.cancel()

    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, on_signal)
    try:
        yield interrupted
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


async def _serve(
    registry: Registry,
    *,
    address: str | None,
    state_dir: Path | None,
    on_ready: Callable[[Any], None],
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
        _err("stopping (press Ctrl-C again to force)")
        stop.set()

    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, on_signal)
    try:
        async with Session(
            registry, mode="auto", state_dir=state_dir, address=address, progress=_err
        ) as session:
            on_ready(session)
            await session.run_workers_until(stop)
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


def _serve_command(project: Path, address: str | None, state_dir: Path | None, dev: bool) -> None:
    with _errors():
        registry = _load(project)
    _configure_logging()

    def on_ready(session: Any) -> None:
        _err(f"Temporal server: {session.server_address}")
        if dev:
            if session.ui_url:
                _err(f"Web UI: {session.ui_url}")
            else:
                _err("Web UI: served by the already running server, not by wflow")
        _err("workers running; press Ctrl-C to stop")

    try:
        asyncio.run(_serve(registry, address=address, state_dir=state_dir, on_ready=on_ready))
    except WflowError as error:
        _report(error)
    except RPCError as error:
        _fail(EXIT_FAILED, f"error: the Temporal server stopped answering: {error}")
    except (KeyboardInterrupt, asyncio.CancelledError):
        _fail(130, "interrupted")
    _err("stopped")


@app.command()
def worker(project: ProjectArg, address: AddressOpt = None, state_dir: StateDirOpt = None) -> None:
    """Run the project's workers until SIGINT or SIGTERM, then shut down gracefully.

    Connects to the configured Temporal server; when its address is local and nothing answers
    there, starts the embedded dev server too.
    """
    _serve_command(project, address, state_dir, dev=False)


@app.command()
def dev(project: ProjectArg, address: AddressOpt = None, state_dir: StateDirOpt = None) -> None:
    """Run the embedded dev server (with its web UI) and the project's workers; Ctrl-C stops both.

    Workflows persist in the state directory's database across restarts.
    """
    _serve_command(project, address, state_dir, dev=True)


def main(argv: list[str] | None = None) -> None:
    """Run the `wflow` command line (the console script's entry point).

    Args:
        argv: Arguments without the program name; `sys.argv[1:]` by default.
    """
    try:
        app(args=sys.argv[1:] if argv is None else argv, prog_name="wflow")
    except SystemExit as exit_:
        if not _options["hard_exit"]:
            raise
        _exit_now(exit_.code)


def _exit_now(code: object) -> NoReturn:
    """Exit without interpreter finalization, which a Temporal client's threads can crash.

    The SDK's Rust threads may still hold Python thread states when the interpreter finalizes
    and then abort the process (`PyGILState_Release: thread state ... must be current`,
    temporalio/sdk-python#300), turning a finished command into exit code -6. Output is
    flushed first.
    """
    import logging
    import os

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    if code is None:
        status = EXIT_OK
    elif isinstance(code, int):
        status = code
    else:
        with contextlib.suppress(Exception):
            sys.stderr.write(f"{code}\n")
            sys.stderr.flush()
        status = EXIT_FAILED
    os._exit(status)
