"""Process commands: `spawn`, `send`, `result`, `ls`, `cancel`, `terminate`, `update`, `query`.

Each connects to the project's configured Temporal cluster (or `--address`) as a client; none
starts a server or workers. PIDs are `<worker entry ID>/<workflow ID>`, as `spawn` prints them;
where a PID is expected a bare workflow ID works too (it is looked up on the project's clients).
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from wflow.cli._common import (
    EXIT_FAILED,
    EXIT_USAGE,
    AddressOpt,
    ArgsJsonArg,
    EntryArg,
    JsonLinesOpt,
    PayloadJsonArg,
    PidArg,
    ProjectArg,
    check_workflow_entry,
    fail,
    operate,
    operate_on,
    option,
    parse_json,
    parse_json_args,
    to_json,
)
from wflow.model import SpawnOptions, WflowError, parse_duration

if TYPE_CHECKING:
    from wflow.registry import Registry
    from wflow.temporal import Connection, WorkflowSummary

__all__ = [
    "cancel",
    "list_workflows",
    "query",
    "register",
    "result",
    "send",
    "spawn",
    "terminate",
    "update",
]

T = TypeVar("T")

# JSON arguments may look like options (`-2`); unknown options are taken as arguments then.
_JSON_ARGS = {"ignore_unknown_options": True}


def _print(value: Any) -> None:
    typer.echo(to_json(value))


def _spawn_options(name: str | None, workflow_id: str | None, message: str | None) -> SpawnOptions:
    """Return the options `spawn`'s flags ask for; exit 2 on bad ones."""
    if name is not None and workflow_id is not None:
        fail(EXIT_USAGE, "error: give --name or --id, not both")
    options = SpawnOptions()
    try:
        if name is not None:
            options = options.with_name(name)
        if workflow_id is not None:
            options = options.merged({"workflow.id": workflow_id})
        if message is not None:
            topic, sep, payload_text = message.partition("=")
            payload = parse_json("--message payload", payload_text) if sep else None
            # Signal-with-start: the server refuses the default `fail` conflict policy for it;
            # a running workflow with that ID gets the message instead.
            options = options.with_message(topic, payload).merged(
                {"workflow.id_conflict_policy": "use_existing"}
            )
    except WflowError as error:
        fail(EXIT_USAGE, f"error: {error.message}")
    return options


def _workflow_type(registry: Registry, entry: str) -> str:
    """The Temporal workflow type `--entry` filters on: the entry's, else `entry` as given."""
    found = registry.get(entry) if entry in registry else None
    return found.workflow_type() if found is not None else entry


def _check_spawn_target(registry: Registry, *, entry: str, host: str | None) -> None:
    """Exit 2 unless `entry` is a workflow (`host`: a worker) or a process (a process.host)."""
    from wflow.registry import PROCESS_KINDS

    is_process = entry in registry and registry.get(entry).kind in PROCESS_KINDS
    if not is_process:
        check_workflow_entry(registry, entry)
    if host is None:
        return
    target = registry.get(entry)
    try:
        worker = registry.get(registry.resolve(host, target.namespace))
    except WflowError as error:
        fail(EXIT_USAGE, f"error: --host: {error.message}")
    wanted = "process.host" if is_process else "temporal.worker"
    if worker.kind != wanted:
        what = "process host" if is_process else "worker"
        fail(EXIT_USAGE, f"error: --host: {worker.id} is a {worker.kind} entry, not a {what}")


def spawn(
    project: ProjectArg,
    entry: EntryArg,
    args: ArgsJsonArg = None,
    host: Annotated[
        str | None,
        option("--host", help="temporal.worker entry to run on (default: the entry's worker)."),
    ] = None,
    name: Annotated[
        str | None,
        option(
            "--name",
            help="Deterministic workflow ID `<ENTRY>:<NAME>`; spawning it again while it runs "
            "prints the same PID.",
        ),
    ] = None,
    workflow_id: Annotated[
        str | None,
        option("--id", help="The workflow ID (default: random)."),
    ] = None,
    message: Annotated[
        str | None,
        option(
            "--message",
            metavar="TOPIC=JSON",
            help="Deliver this message with the start (signal-with-start); `TOPIC` alone sends "
            "null.",
        ),
    ] = None,
    address: AddressOpt = None,
) -> None:
    """Start workflow ENTRY on the configured cluster and print its PID.

    Needs workers to run it (`wflow worker PROJECT` or `wflow dev PROJECT`); does not wait.
    """
    values = parse_json_args(args or [], "ARG_JSON")
    options = _spawn_options(name, workflow_id, message)
    check = functools.partial(_check_spawn_target, entry=entry, host=host)

    async def start(connection: Connection) -> str:
        return await connection.spawn(entry, host, *values, options=options)

    typer.echo(operate(project, address, start, check=check))


def send(
    project: ProjectArg,
    pid: PidArg,
    topic: Annotated[str, typer.Argument(metavar="TOPIC", help="The message's topic.")],
    payload: PayloadJsonArg = None,
    address: AddressOpt = None,
) -> None:
    """Send a message to workflow PID; prints nothing.

    Exits 1 with `RATE_LIMITED` when the workflow's mailbox is full (nothing is sent).
    """
    value = None if payload is None else parse_json("PAYLOAD_JSON", payload)

    async def deliver(connection: Connection, pid: str) -> None:
        await connection.send(pid, topic, value)

    operate_on(project, address, pid, deliver)


def result(project: ProjectArg, pid: PidArg, address: AddressOpt = None) -> None:
    """Wait for workflow PID to close and print its result as JSON.

    Exits 1 with the error's kind and message when it failed, was canceled or terminated.
    """

    def failed(pid: str, error: WflowError) -> NoReturn:
        # "no workflow PID" never gets here: `_operate_on` reports it, with a hint.
        lines = [f"error: workflow {pid} failed: {error}"]
        if error.details is not None:
            lines.append(f"details: {to_json(error.details)}")
        fail(EXIT_FAILED, *lines)

    async def wait(connection: Connection, pid: str) -> Any:
        return await connection.result(pid)

    _print(operate_on(project, address, pid, wait, failed=failed))


def _timestamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def list_workflows(
    project: ProjectArg,
    as_json: JsonLinesOpt = False,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="At most this many workflows.")
    ] = 100,
    entry: Annotated[
        list[str] | None,
        option("--entry", help="Only this workflow entry (repeat for several)."),
    ] = None,
    status: Annotated[
        list[str] | None,
        option(
            "--status",
            help="Only this status: running, completed, failed, canceled, terminated, "
            "timed_out, continued_as_new (repeat for several).",
        ),
    ] = None,
    since: Annotated[
        str | None,
        option("--since", help="Started at or after: an ISO time or a duration ago (2h)."),
    ] = None,
    until: Annotated[
        str | None,
        option("--until", help="Started before: an ISO time or a duration ago."),
    ] = None,
    attr: Annotated[
        list[str] | None,
        option(
            "--attr",
            metavar="NAME=VALUE",
            help="Custom search attribute equals VALUE (typed as the YAML declares NAME).",
        ),
    ] = None,
    query: Annotated[
        str | None,
        option("--query", help="A Temporal visibility query, ANDed with the other filters."),
    ] = None,
    address: AddressOpt = None,
) -> None:
    """List running processes, then workflows newest first: PID, ENTRY, STATUS, STARTED (UTC)."""
    from wflow.temporal._list_filters import list_query, parse_moment

    def filters(registry: Registry) -> None:
        try:
            text[0] = list_query(
                # A workflow entry's Temporal type may be its `meta.temporal.workflow.name`.
                entries=[_workflow_type(registry, e) for e in entry or ()],
                statuses=status or (),
                since=parse_moment(since) if since else None,
                until=parse_moment(until) if until else None,
                attrs=attr or (),
                declared=registry.search_attribute_types(),
                query=query,
            )
        except WflowError as error:
            fail(EXIT_USAGE, f"error: {error.message}")

    text: list[str | None] = [None]

    async def fetch(
        connection: Connection,
    ) -> tuple[list[WorkflowSummary], list[dict[str, Any]]]:
        return await connection.list(text[0], limit=limit), await connection.list_processes()

    summaries, processes = operate(project, address, fetch, check=filters)
    _print_listing(summaries, processes, as_json)


def _print_listing(
    summaries: list[WorkflowSummary], processes: list[dict[str, Any]], as_json: bool
) -> None:
    """Print `wflow ls`: running processes first, then the workflows; a table or JSON lines."""
    if as_json:
        for process in processes:
            started = datetime.fromtimestamp(process["started"], timezone.utc)
            _print(
                {
                    "pid": process["pid"],
                    "entry": process["entry"],
                    "status": "PROCESS",
                    "start_time": _timestamp(started),
                    "service": process["service"],
                }
            )
        for summary in summaries:
            _print(
                {
                    "pid": summary.pid,
                    "entry": summary.entry,
                    "status": summary.status,
                    "start_time": _timestamp(summary.start_time),
                    "close_time": _timestamp(summary.close_time),
                }
            )
        return
    rows = [("PID", "ENTRY", "STATUS", "STARTED")]
    # Processes first: they run now, on a process.host (services named in STATUS).
    rows += [
        (
            p["pid"],
            p["entry"],
            f"PROCESS ({p['service']})" if p["service"] else "PROCESS",
            _timestamp(datetime.fromtimestamp(p["started"], timezone.utc)) or "-",
        )
        for p in processes
    ]
    rows += [(s.pid, s.entry, s.status, _timestamp(s.start_time) or "-") for s in summaries]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        typer.echo("  ".join([*cells, row[3]]))


def cancel(
    project: ProjectArg,
    pid: PidArg,
    reason: Annotated[
        str | None,
        typer.Option("--reason", help="Told to the workflow (its CANCEL event's reason)."),
    ] = None,
    address: AddressOpt = None,
) -> None:
    """Request cancellation of workflow PID (it may clean up); prints nothing."""

    async def request(connection: Connection, pid: str) -> None:
        await connection.cancel(pid, reason)

    operate_on(project, address, pid, request)


def terminate(
    project: ProjectArg,
    pid: PidArg,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Recorded with the termination.")
    ] = None,
    address: AddressOpt = None,
) -> None:
    """Terminate workflow PID at once (no clean-up); prints nothing."""

    async def stop(connection: Connection, pid: str) -> None:
        await connection.terminate(pid, reason)

    operate_on(project, address, pid, stop)


def update(
    project: ProjectArg,
    pid: PidArg,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The update's name.")],
    payload: PayloadJsonArg = None,
    address: AddressOpt = None,
) -> None:
    """Send update NAME to workflow PID, wait for the reply and print it as JSON.

    A rejected update (`nak`) exits 1 as `error: INVALID: rejected: ...`; one that failed
    (`error`) exits 1 with its kind and message.
    """
    value = None if payload is None else parse_json("PAYLOAD_JSON", payload)

    async def ask(connection: Connection, pid: str) -> Any:
        return await connection.update(pid, name, value)

    _print(operate_on(project, address, pid, ask))


def query(
    project: ProjectArg,
    pid: PidArg,
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="The query: `state` or `pid`.")
    ] = "state",
    timeout: Annotated[
        str | None,
        option(
            "--timeout",
            metavar="DURATION",
            help="Give up when no worker answered within DURATION (e.g. 5s; "
            "default: the server's own wait, about 30 s).",
        ),
    ] = None,
    address: AddressOpt = None,
) -> None:
    """Ask workflow PID a query (default `state`) and print the answer as JSON.

    Needs a worker of the workflow to be running.
    """
    try:
        wait = None if timeout is None else parse_duration(timeout)
    except WflowError as error:
        fail(EXIT_USAGE, f"error: --timeout: {error.message}")
    if wait is not None and wait <= timedelta(0):
        fail(EXIT_USAGE, f"error: --timeout: must be more than zero, got {timeout!r}")

    async def ask(connection: Connection, pid: str) -> Any:
        return await connection.query(pid, name, timeout=wait)

    _print(operate_on(project, address, pid, ask))


def register(app: typer.Typer) -> None:
    """Add the process commands to `app`, in the order `wflow --help` lists them."""
    app.command(rich_help_panel="Processes", context_settings=_JSON_ARGS)(spawn)
    app.command(rich_help_panel="Processes", context_settings=_JSON_ARGS)(send)
    app.command(rich_help_panel="Processes")(result)
    app.command("ls", rich_help_panel="Processes")(list_workflows)
    app.command(rich_help_panel="Processes")(cancel)
    app.command(rich_help_panel="Processes")(terminate)
    app.command(rich_help_panel="Processes", context_settings=_JSON_ARGS)(update)
    app.command(rich_help_panel="Processes")(query)
