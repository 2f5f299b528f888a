"""History commands: `history` (a workflow's intercepted calls) and `replay` (check a change).

Both are clients of the project's cluster, like the process commands: neither starts a server
or workers. `replay` runs the project's current workflow code against recorded histories in
this process, as a worker would replay them, and says where a changed workflow diverges.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from wflow.cli._common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    AddressOpt,
    JsonLinesOpt,
    PidArg,
    ProjectArg,
    check_pid,
    configure_logging,
    fail,
    load_registry,
    operate,
    operate_on,
    option,
    reporting_errors,
    settings,
    to_json,
)
from wflow.model import ErrorKind, WflowError

if TYPE_CHECKING:
    from temporalio.client import WorkflowHistory

    from wflow.registry import Registry
    from wflow.temporal import Connection, ReplayOutcome

__all__ = ["history", "register", "replay", "reset"]

T = TypeVar("T")


def history(
    project: ProjectArg,
    pid: PidArg,
    as_json: Annotated[
        bool, typer.Option("--json", help="The steps as one JSON list instead of lines.")
    ] = False,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw",
            help="Temporal's history JSON (as `temporal workflow show --output json`), "
            "for `wflow replay --file`.",
        ),
    ] = False,
    address: AddressOpt = None,
) -> None:
    """Print the intercepted calls workflow PID made, in order, one numbered line each.

    Function calls with arguments and result or error, timers, messages received and sent,
    children, versions, updates, and how the run started and ended.
    """
    if as_json and raw:
        fail(EXIT_USAGE, "error: give --json or --raw, not both")

    async def fetch(connection: Connection, resolved: str) -> WorkflowHistory:
        return await connection.history(resolved)

    fetched = operate_on(project, address, pid, fetch)
    if raw:
        typer.echo(fetched.to_json())
        return
    from wflow.temporal import call_steps, describe_steps, steps_to_json

    steps = call_steps(fetched)
    if as_json:
        typer.echo(json.dumps(steps_to_json(steps), ensure_ascii=False, indent=2, default=str))
        return
    for line in describe_steps(steps):
        typer.echo(line)


def reset(
    project: ProjectArg,
    pid: PidArg,
    to_call: Annotated[
        int | None,
        option(
            "--to-call",
            metavar="N",
            min=1,
            help="Go back to just before step N of `wflow history PID` (a call, timer, ...).",
        ),
    ] = None,
    to_last_failure: Annotated[
        bool,
        typer.Option("--to-last-failure", help="Go back to just before the last failed call."),
    ] = False,
    reason: Annotated[str | None, option("--reason", help="Recorded with the reset.")] = None,
    address: AddressOpt = None,
) -> None:
    """Re-run workflow PID from one of its steps, with the code the workers run now.

    Temporal's reset: a new run keeps the history before the step, then the workers make the
    step and everything after it again (after fixing a function, say). Prints the new run's
    ID; `wflow result PROJECT PID` follows it.
    """
    if (to_call is None) == (not to_last_failure):
        fail(EXIT_USAGE, "error: give --to-call N or --to-last-failure (one of them)")

    def failed(pid: str, error: WflowError) -> NoReturn:
        code = EXIT_USAGE if error.kind in (ErrorKind.INVALID, ErrorKind.NOT_FOUND) else 1
        fail(code, f"error: cannot reset {pid}: {error.message}")

    async def run(connection: Connection, resolved: str) -> tuple[str, str]:
        return await connection.reset(
            resolved, to_call=to_call, to_last_failure=to_last_failure, reason=reason
        )

    step, run_id = operate_on(project, address, pid, run, failed=failed)
    typer.echo(f"reset to before {step}; new run {run_id}")


def _label(outcome: ReplayOutcome, label: str) -> str:
    what = f"{outcome.workflow_type}, {outcome.steps} steps" if outcome.workflow_type else ""
    return f"{label} ({what})" if what else label


def replay(
    project: ProjectArg,
    pids: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[PID]...",
            help="Workflows to replay: `<worker entry ID>/<workflow ID>`.",
            show_default=False,
        ),
    ] = None,
    query: Annotated[
        str | None,
        option(
            "--query",
            metavar="VISIBILITY_QUERY",
            help="Replay the project's workflows this list filter finds, e.g. "
            "\"ExecutionStatus = 'Running'\".",
        ),
    ] = None,
    files: Annotated[
        list[Path] | None,
        option(
            "--file",
            metavar="HISTORY.json",
            help="A history exported by `wflow history --raw` or `temporal workflow show "
            "--output json`; repeat for more.",
        ),
    ] = None,
    as_json: JsonLinesOpt = False,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="At most this many workflows for --query.")
    ] = 1000,
    address: AddressOpt = None,
) -> None:
    """Replay recorded histories against the project's current code: does the change fit?

    Prints `ok` per history, or where the code now diverges from it, in calls: `history has
    funcs.call app.api:charge_card at step 3; the code now calls app.api:refund
    (order.lua:14)`. Exits 0 when all replay, 1 when any diverges or fails.
    """
    pids = list(pids or [])
    files = list(files or [])
    if not pids and query is None and not files:
        fail(EXIT_USAGE, "error: give PIDs, --query VISIBILITY_QUERY or --file HISTORY.json")
    from wflow.temporal import read_history_file

    loaded: list[tuple[str, WorkflowHistory]] = []
    for path in files:
        try:
            loaded.append((str(path), read_history_file(path)))
        except WflowError as error:
            fail(EXIT_USAGE, f"error: {error.message}")

    async def replay_all(
        registry: Registry, connection: Connection | None
    ) -> list[tuple[str, ReplayOutcome]]:
        from wflow.temporal import replay_history

        histories = list(loaded)
        if connection is not None:
            histories += await _fetch_histories(connection, pids, query, limit)
        return [(label, await replay_history(registry, recorded)) for label, recorded in histories]

    def bad_query(error: WflowError) -> NoReturn:
        fail(EXIT_USAGE if error.kind is ErrorKind.INVALID else EXIT_FAILED, f"error: {error}")

    if pids or query is not None:

        def check(registry: Registry) -> None:
            for target in pids:
                check_pid(registry, target)

        outcomes = operate(
            project,
            address,
            lambda connection: replay_all(connection.registry, connection),
            check=check,
            failed=bad_query,
        )
    else:
        # Files only: no cluster is needed at all.
        with reporting_errors():
            registry = load_registry(project)
        configure_logging()
        settings.hard_exit = True  # the replayer's worker threads, as for a client
        outcomes = asyncio.run(replay_all(registry, None))
    raise typer.Exit(_print_outcomes(outcomes, as_json))


async def _fetch_histories(
    connection: Connection, pids: list[str], query: str | None, limit: int
) -> list[tuple[str, WorkflowHistory]]:
    """The histories of `pids` and of what `query` finds (each once), labelled by PID."""
    targets = list(pids)
    if query is not None:
        found = [summary.pid for summary in await connection.list(query, limit=limit)]
        if not found:
            typer.echo(f"no workflow of the project matches {query!r}", err=True)
        targets += [pid for pid in found if pid not in targets]
    histories: list[tuple[str, WorkflowHistory]] = []
    for target in targets:
        pid = await connection.resolve(target)
        histories.append((pid, await connection.history(pid)))
    return histories


def _print_outcomes(outcomes: list[tuple[str, ReplayOutcome]], as_json: bool) -> int:
    """Print a line per replayed history (and the count on stderr); return the exit code."""
    failed = [outcome for _, outcome in outcomes if not outcome.ok]
    for label, outcome in outcomes:
        if as_json:
            typer.echo(to_json({"history": label, **outcome.to_json()}))
        elif outcome.ok:
            typer.echo(f"ok        {_label(outcome, label)}")
        else:
            typer.echo(f"{outcome.status:<9} {_label(outcome, label)}: {outcome.message}")
    if not as_json:
        summary = f"{len(outcomes)} replayed, {len(failed)} diverged or failed"
        typer.echo(summary, err=True)
    return EXIT_FAILED if failed else EXIT_OK


def register(app: typer.Typer) -> None:
    """Add the history commands to `app`, in the order `wflow --help` lists them."""
    app.command(rich_help_panel="Histories")(history)
    app.command(rich_help_panel="Histories")(replay)
    app.command(rich_help_panel="Histories")(reset)
