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
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from wflow.model import ErrorKind, WflowError

if TYPE_CHECKING:
    from temporalio.service import RPCError

    from wflow.registry import Problem, Registry
    from wflow.temporal import Connection

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "AddressOpt",
    "ArgsJsonArg",
    "EntryArg",
    "JsonLinesOpt",
    "PayloadJsonArg",
    "PidArg",
    "ProjectArg",
    "Settings",
    "StateDirOpt",
    "cancelled_by_signals",
    "check_pid",
    "check_workflow_entry",
    "configure_logging",
    "echo_err",
    "fail",
    "load_registry",
    "operate",
    "operate_on",
    "option",
    "parse_json",
    "parse_json_args",
    "report",
    "reporting_errors",
    "rpc_error",
    "settings",
    "to_json",
]

T = TypeVar("T")

EXIT_OK = 0
"""The command succeeded."""
EXIT_FAILED = 1
"""The workflow failed, or the server could not be reached or started."""
EXIT_USAGE = 2
"""Bad usage or configuration: typer's own usage errors, invalid projects, bad arguments."""


def option(*flags: str, **settings: Any) -> Any:
    """A `typer.Option` that shows no default: wflow's options say theirs in their help.

    Args:
        *flags: The option's names (`--limit`, `-n`).
        **settings: `help`, `metavar`, `min`, ... as for `typer.Option`.
    """
    return typer.Option(*flags, show_default=False, **settings)


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
    option(
        "--address",
        help="Temporal frontend host:port, overriding the project's temporal.client entries.",
    ),
]
JsonLinesOpt = Annotated[
    bool, option("--json", help="Print one JSON object a line (for scripts) instead of text.")
]
StateDirOpt = Annotated[
    Path | None,
    option(
        "--state-dir",
        help="Where the embedded dev server keeps its database and log (default: PROJECT/.wflow).",
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


def rpc_error() -> type[RPCError]:
    """Return temporalio's `RPCError`, imported on first use (in `except` clauses).

    An `except` clause's class is looked up only when an exception reaches it, so commands
    that never talk to a server (`--help`, `validate`) do not import Temporal's client.
    """
    from temporalio.service import RPCError

    return RPCError


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


# -- client commands: connect as a client, run one operation, exit with the right code ---------


def check_pid(registry: Registry, pid: str) -> None:
    """Exit 2 when `pid` is a PID whose worker is not one of the project's workers.

    Text that is not of the PID form is a bare workflow ID, looked up once connected.
    """
    from wflow.model import parse_pid

    try:
        worker_id, _ = parse_pid(pid)
    except WflowError:
        return
    workers = sorted(worker.id for worker in registry.workers())
    hosts = {entry.id for entry in registry.of_kind("process.host")}
    if worker_id not in workers and worker_id not in hosts:  # a process PID names its host
        known = ", ".join(workers) if workers else "none"
        fail(
            EXIT_USAGE,
            f"error: invalid PID {pid!r}: {worker_id} is not a temporal.worker of the project "
            f"(its workers: {known})",
        )


def _addresses(registry: Registry, address: str | None) -> list[str]:
    from wflow.temporal import DEFAULT_ADDRESS

    if address is not None:
        return [address]
    return [client.address for client in registry.clients()] or [DEFAULT_ADDRESS]


def _unreachable(
    project: Path, registry: Registry, address: str | None, error: WflowError
) -> NoReturn:
    from wflow.temporal import is_local_address

    lines = [f"error: {error.message}"]
    details = error.details if isinstance(error.details, dict) else {}
    try:
        local = (
            is_local_address(details["address"])
            if "address" in details
            else any(is_local_address(a) for a in _addresses(registry, address))
        )
    except WflowError:
        local = False
    # Only a refused connection means "nothing runs there"; a TLS mismatch or a timeout at a
    # local address has a server (or something else) listening, and `wflow dev` would not help.
    if local and details.get("cause", "refused") == "refused":
        lines.append(
            f"hint: no server runs there; start one with `wflow dev {project}` "
            f"(or connect workers with `wflow worker {project}`)"
        )
    fail(EXIT_FAILED, *lines)


def operate(
    project: Path,
    address: str | None,
    operation: Callable[[Connection], Awaitable[T]],
    *,
    check: Callable[[Registry], None] | None = None,
    failed: Callable[[WflowError], NoReturn] | None = None,
) -> T:
    """Load `project`, connect, run `operation` and return its value; exit on errors.

    Configuration problems exit 2 (as do `check`'s). A server that does not answer exits 1
    with a hint. A `WflowError` of the operation goes to `failed`, else exits 1 as
    `error: KIND: message`.
    """
    with reporting_errors():
        registry = load_registry(project)
    if check is not None:
        check(registry)
    configure_logging()
    settings.hard_exit = True  # see wflow.cli.main

    async def main() -> T:
        from wflow.temporal import connect

        with cancelled_by_signals() as interrupted:
            try:
                try:
                    connection = await connect(registry, address=address)
                except WflowError as error:
                    if error.kind is ErrorKind.UNAVAILABLE:
                        _unreachable(project, registry, address, error)
                    raise
                try:
                    return await operation(connection)
                except WflowError as error:
                    if failed is not None:
                        failed(error)
                    fail(EXIT_FAILED, f"error: {error}")
            except asyncio.CancelledError:
                if interrupted.is_set():
                    raise KeyboardInterrupt from None
                raise

    try:
        return asyncio.run(main())
    except WflowError as error:  # connecting: bad TLS files, unset API key variables, ...
        usage = error.kind in (ErrorKind.INVALID, ErrorKind.NOT_FOUND)
        fail(EXIT_USAGE if usage else EXIT_FAILED, f"error: {error}")
    except rpc_error() as error:
        fail(EXIT_FAILED, f"error: the Temporal server stopped answering: {error}")
    except KeyboardInterrupt:
        fail(130, "interrupted")


def _ls_hint(project: Path) -> str:
    return f"hint: run `wflow ls {project}` for the project's workflows and their PIDs"


def _worker_hint(project: Path) -> str:
    return (
        f"hint: start the project's workers with `wflow worker {project}` "
        f"(or `wflow dev {project}`), then ask again"
    )


def _not_found_lines(project: Path, target: str, error: WflowError) -> list[str]:
    """The message for a bare workflow ID that names no single workflow of the project."""
    lines = [f"error: {error}"]
    if error.kind is ErrorKind.NOT_FOUND:
        lines.append(
            f"hint: it is not a PID either (invalid PID {target!r}: expected "
            "`<worker entry ID>/<workflow ID>`); " + _ls_hint(project).removeprefix("hint: ")
        )
    return lines


def operate_on(
    project: Path,
    address: str | None,
    target: str,
    operation: Callable[[Connection, str], Awaitable[T]],
    *,
    failed: Callable[[str, WflowError], NoReturn] | None = None,
) -> T:
    """`operate` on one workflow: `target` is a PID or a bare workflow ID.

    A bare ID is resolved to its PID first, so `operation` and `failed` see the PID and the
    command behaves exactly as if the PID had been given. A bare ID that names no workflow of
    the project, or two, exits 2 like a malformed PID.
    """

    async def on_workflow(connection: Connection) -> T:
        try:
            pid = await connection.resolve(target)
        except WflowError as error:
            if error.kind is ErrorKind.UNAVAILABLE:
                raise
            fail(EXIT_USAGE, *_not_found_lines(project, target, error))
        try:
            return await operation(connection, pid)
        except WflowError as error:
            if error.kind is ErrorKind.NOT_FOUND and error.message == f"no workflow {pid}":
                fail(EXIT_FAILED, f"error: {error}", _ls_hint(project))
            if error.kind is ErrorKind.UNAVAILABLE and "no worker answered" in error.message:
                fail(EXIT_FAILED, f"error: {error}", _worker_hint(project))
            if failed is not None:
                failed(pid, error)
            raise

    return operate(
        project, address, on_workflow, check=lambda registry: check_pid(registry, target)
    )
