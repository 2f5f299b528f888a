"""What every `wflow` command shares: exit codes, arguments, error reporting, project loading.

The command groups (`_validate_commands`, `_run_commands`, `_process_commands`) use only the
public names of this module; `_app` puts the commands together.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import signal
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from wflow.model import ErrorKind, WflowError

if TYPE_CHECKING:
    from wflow.registry import Problem, Registry

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "AddressOpt",
    "ArgsJsonArg",
    "EntryArg",
    "PayloadJsonArg",
    "PidArg",
    "ProjectArg",
    "Settings",
    "StateDirOpt",
    "cancelled_by_signals",
    "check_workflow_entry",
    "configure_logging",
    "echo_err",
    "fail",
    "load_registry",
    "parse_json",
    "parse_json_args",
    "report",
    "reporting_errors",
    "settings",
    "to_json",
]

EXIT_OK = 0
"""The command succeeded."""
EXIT_FAILED = 1
"""The workflow failed, or the server could not be reached or started."""
EXIT_USAGE = 2
"""Bad usage or configuration: typer's own usage errors, invalid projects, bad arguments."""

ProjectArg = Annotated[
    Path,
    typer.Argument(
        help="Project folder (its definition files are scanned recursively) or one file.",
        exists=True,
        metavar="PROJECT",
        show_default=False,
    ),
]
EntryArg = Annotated[
    str, typer.Argument(metavar="ENTRY", help="Workflow entry ID, e.g. app.workflows:main.")
]
ArgsJsonArg = Annotated[
    list[str] | None,
    typer.Argument(metavar="ARG_JSON", help="Arguments, each one JSON value.", show_default=False),
]
PayloadJsonArg = Annotated[
    str | None,
    typer.Argument(metavar="PAYLOAD_JSON", help="The payload (default null).", show_default=False),
]
PidArg = Annotated[
    str,
    typer.Argument(
        metavar="PID",
        help="Workflow PID as `spawn` prints it (`<worker entry ID>/<workflow ID>`), or a bare "
        "workflow ID.",
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


@dataclasses.dataclass
class Settings:
    """What the command line decided for this process.

    Attributes:
        verbose: `--verbose` was given: show Temporal's own logs and warnings.
        hard_exit: Exit without interpreter finalization (set by commands that used a
            Temporal client; see `wflow.cli.main`).
    """

    verbose: bool = False
    hard_exit: bool = False


settings = Settings()
"""This process's settings (one command runs per process)."""


def configure_logging() -> None:
    """Keep Temporal's own logs off the terminal unless `--verbose` was given.

    Without it, failures are reported once, as wflow errors, instead of also as the SDK's
    warnings with tracebacks.
    """
    import logging
    import warnings

    from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

    verbose = settings.verbose
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


def echo_err(line: str) -> None:
    """Print one line to stderr (progress, errors, hints)."""
    typer.echo(line, err=True)


def fail(code: int, *lines: str) -> NoReturn:
    """Print `lines` to stderr and exit with `code`."""
    for line in lines:
        echo_err(line)
    raise typer.Exit(code)


def report(error: WflowError) -> NoReturn:
    """Print a configuration or set-up error without a traceback and exit.

    A `ConfigError` prints each problem and exits 2; `INVALID` and `NOT_FOUND` exit 2 (usage),
    any other kind 1.
    """
    problems: list[Problem] | None = getattr(error, "problems", None)
    if problems:
        for problem in problems:
            echo_err(str(problem))
        count = len(problems)
        fail(EXIT_USAGE, f"error: {count} {'problem' if count == 1 else 'problems'} found")
    usage = error.kind in (ErrorKind.INVALID, ErrorKind.NOT_FOUND)
    fail(EXIT_USAGE if usage else EXIT_FAILED, f"error: {error}")


@contextlib.contextmanager
def reporting_errors() -> Iterator[None]:
    """Turn a `WflowError` raised in the block into `report`'s message and exit code."""
    try:
        yield
    except WflowError as error:
        report(error)


def load_registry(project: Path) -> Registry:
    """Load `project` with every check, including each entry's engine's (Lua syntax, ...).

    Raises:
        ConfigError: The project has problems.
    """
    from wflow.registry import load_project

    # Every command checks the entries' programs too: a broken project is reported before
    # anything starts.
    return load_project(project, check_programs=True)


def parse_json(name: str, text: str) -> Any:
    """Parse `text` as JSON or exit 2 naming the argument `name`."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(EXIT_USAGE, f"error: {name} is not valid JSON ({exc}): {text!r}")


def parse_json_args(texts: Iterable[str], name: str = "argument") -> list[Any]:
    """Parse each text as one JSON value; exit 2 naming the first bad one (`argument 2`)."""
    return [parse_json(f"{name} {index}", text) for index, text in enumerate(texts, start=1)]


def check_workflow_entry(registry: Registry, entry_id: str) -> None:
    """Exit with a usage error unless `entry_id` names a workflow of the project."""
    workflows = sorted(entry.id for entry in registry.workflows())
    known = ", ".join(workflows) if workflows else "none"
    if entry_id not in registry:
        fail(EXIT_USAGE, f"error: unknown entry {entry_id!r}; the project's workflows: {known}")
    from wflow.registry import WORKFLOW_KINDS

    entry = registry.get(entry_id)
    if entry.kind not in WORKFLOW_KINDS:
        fail(
            EXIT_USAGE,
            f"error: {entry_id} is a {entry.kind} entry, not a workflow; "
            f"the project's workflows: {known}",
        )


def to_json(value: Any) -> str:
    """Return `value` as one line of JSON (what is not JSON becomes its `str`)."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return json.dumps(value, ensure_ascii=False, default=str)


@contextlib.contextmanager
def cancelled_by_signals() -> Iterator[asyncio.Event]:
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
