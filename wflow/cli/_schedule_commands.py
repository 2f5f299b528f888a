"""`wflow schedule ...`: the project's `temporal.schedule` entries on the cluster.

`sync` creates or updates them (a worker does too when it starts), `ls` and `describe` show
them, `trigger`, `pause`, `unpause`, `backfill` and `delete` act on one. A schedule is named by
its entry ID (`app.schedules:nightly`), its bare entry name, or its schedule ID.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from wflow.cli._common import (
    EXIT_FAILED,
    EXIT_USAGE,
    AddressOpt,
    JsonLinesOpt,
    ProjectArg,
    fail,
    operate,
    option,
    to_json,
)
from wflow.model import ErrorKind, WflowError

if TYPE_CHECKING:
    from temporalio.client import ScheduleDescription, ScheduleHandle

    from wflow.temporal import Connection

__all__ = ["register"]

ScheduleArg = Annotated[
    str,
    typer.Argument(
        metavar="SCHEDULE",
        help="The schedule: its entry ID, bare entry name, or schedule ID.",
        show_default=False,
    ),
]
OverlapOpt = Annotated[
    str | None,
    option(
        "--overlap",
        help="Overlap policy for these runs: skip, buffer_one, buffer_all, cancel_other, "
        "terminate_other, allow_all (default: the schedule's).",
    ),
]

schedule_app = typer.Typer(
    name="schedule",
    help="The project's schedules (`temporal.schedule` entries) on the cluster.",
    no_args_is_help=True,
)


def _time(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _on_schedule(
    project: Any,
    address: str | None,
    name: str,
    action: Any,
) -> Any:
    async def run(connection: Connection) -> Any:
        from wflow.temporal._schedules import schedule_handle

        handle, description = await schedule_handle(connection.registry, connection.clients, name)
        return await action(handle, description)

    def failed(error: WflowError) -> NoReturn:
        # An unknown schedule is a usage error, like an unknown entry.
        usage = error.kind in (ErrorKind.NOT_FOUND, ErrorKind.INVALID)
        fail(EXIT_USAGE if usage else EXIT_FAILED, f"error: {error}")

    return operate(project, address, run, failed=failed)


def _check_overlap(overlap: str | None) -> None:
    from wflow.registry._production_schema import OVERLAP_POLICIES

    if overlap is not None and overlap not in OVERLAP_POLICIES:
        fail(
            EXIT_USAGE,
            f"error: --overlap {overlap!r}: expected one of {', '.join(OVERLAP_POLICIES)}",
        )


@schedule_app.command("sync")
def sync(
    project: ProjectArg,
    remove: Annotated[
        bool,
        typer.Option("--remove", help="Delete the project's schedules no entry declares now."),
    ] = False,
    address: AddressOpt = None,
) -> None:
    """Create or update the project's schedules on the cluster; report undeclared ones."""

    async def run(connection: Connection) -> list[str]:
        from wflow.temporal._schedules import sync_schedules

        report = await sync_schedules(connection.registry, connection.clients, remove=remove)
        return report.lines()

    for line in operate(project, address, run) or ["no schedules"]:
        typer.echo(line)


@schedule_app.command("ls")
def list_schedules(
    project: ProjectArg,
    as_json: JsonLinesOpt = False,
    address: AddressOpt = None,
) -> None:
    """List the project's schedules: ID, ENTRY, WORKFLOW, STATE, NEXT RUN (UTC)."""

    async def run(connection: Connection) -> list[Any]:
        from wflow.temporal._schedules import project_schedules

        return await project_schedules(connection.registry, connection.clients)

    summaries = operate(project, address, run)
    if as_json:
        for s in summaries:
            typer.echo(
                to_json(
                    {
                        "schedule_id": s.schedule_id,
                        "entry": s.entry,
                        "workflow": s.workflow,
                        "paused": s.paused,
                        "next_runs": [_time(t) for t in s.next_runs],
                    }
                )
            )
        return
    rows = [("ID", "ENTRY", "WORKFLOW", "STATE", "NEXT RUN")]
    rows += [
        (
            s.schedule_id,
            s.entry or "(undeclared)",
            s.workflow,
            "paused" if s.paused else "active",
            _time(s.next_runs[0]) if s.next_runs else "-",
        )
        for s in summaries
    ]
    widths = [max(len(row[c]) for row in rows) for c in range(4)]
    for row in rows:
        typer.echo(
            "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[4]])
        )


def _description_json(description: ScheduleDescription) -> dict[str, Any]:
    schedule, info = description.schedule, description.info
    spec = schedule.spec
    action = schedule.action
    return {
        "schedule_id": description.id,
        "workflow": getattr(action, "workflow", None),
        "task_queue": getattr(action, "task_queue", None),
        "workflow_id": getattr(action, "id", None),
        "cron": list(spec.cron_expressions),
        "intervals": [str(i.every) for i in spec.intervals],
        "calendars": len(spec.calendars),
        "time_zone": spec.time_zone_name,
        "jitter": str(spec.jitter) if spec.jitter else None,
        "overlap": schedule.policy.overlap.name.lower(),
        "catchup_window": str(schedule.policy.catchup_window),
        "paused": schedule.state.paused,
        "note": schedule.state.note,
        "actions": info.num_actions,
        "recent_runs": [
            {
                "scheduled_at": _time(a.scheduled_at),
                "workflow_id": getattr(a.action, "workflow_id", None),
            }
            for a in info.recent_actions
        ],
        "running": [getattr(a, "workflow_id", None) for a in info.running_actions],
        "next_runs": [_time(t) for t in info.next_action_times[:5]],
    }


@schedule_app.command("describe")
def describe(project: ProjectArg, schedule: ScheduleArg, address: AddressOpt = None) -> None:
    """Print one schedule as JSON: spec, policy, state, recent and next runs."""

    async def action(handle: ScheduleHandle, description: ScheduleDescription) -> Any:
        return _description_json(description)

    typer.echo(to_json(_on_schedule(project, address, schedule, action)))


@schedule_app.command("trigger")
def trigger(
    project: ProjectArg,
    schedule: ScheduleArg,
    overlap: OverlapOpt = None,
    address: AddressOpt = None,
) -> None:
    """Start a run of the schedule now."""
    _check_overlap(overlap)

    async def action(handle: ScheduleHandle, description: ScheduleDescription) -> None:
        from wflow.temporal._schedules import overlap_policy

        await handle.trigger(overlap=overlap_policy(overlap) if overlap else None)

    _on_schedule(project, address, schedule, action)


@schedule_app.command("pause")
def pause(
    project: ProjectArg,
    schedule: ScheduleArg,
    note: Annotated[str | None, typer.Option("--note", help="Why it is paused.")] = None,
    address: AddressOpt = None,
) -> None:
    """Pause the schedule (no runs start until it is unpaused)."""

    async def action(handle: ScheduleHandle, description: ScheduleDescription) -> None:
        await handle.pause(note=note)

    _on_schedule(project, address, schedule, action)


@schedule_app.command("unpause")
def unpause(
    project: ProjectArg,
    schedule: ScheduleArg,
    note: Annotated[str | None, typer.Option("--note", help="Why it is unpaused.")] = None,
    address: AddressOpt = None,
) -> None:
    """Unpause the schedule."""

    async def action(handle: ScheduleHandle, description: ScheduleDescription) -> None:
        await handle.unpause(note=note)

    _on_schedule(project, address, schedule, action)


def _parse_time(name: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(EXIT_USAGE, f"error: {name} {text!r}: expected an ISO time like 2026-01-31T09:00Z")
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@schedule_app.command("backfill")
def backfill(
    project: ProjectArg,
    schedule: ScheduleArg,
    start: Annotated[str, typer.Option("--start", help="From this time (ISO, UTC default).")],
    end: Annotated[str, typer.Option("--end", help="Up to this time (ISO, exclusive).")],
    overlap: OverlapOpt = None,
    address: AddressOpt = None,
) -> None:
    """Run the schedule's actions for the times between --start and --end, now."""
    _check_overlap(overlap)
    start_at, end_at = _parse_time("--start", start), _parse_time("--end", end)
    if end_at <= start_at:
        fail(EXIT_USAGE, "error: --end must be after --start")

    async def action(handle: ScheduleHandle, description: ScheduleDescription) -> None:
        from wflow.temporal._schedules import backfill as run_backfill

        await run_backfill(handle, start_at, end_at, overlap)

    _on_schedule(project, address, schedule, action)


@schedule_app.command("delete")
def delete(project: ProjectArg, schedule: ScheduleArg, address: AddressOpt = None) -> None:
    """Delete the schedule from the cluster (runs it started keep running)."""

    async def action(handle: ScheduleHandle, description: ScheduleDescription) -> None:
        await handle.delete()

    _on_schedule(project, address, schedule, action)


def register(app: typer.Typer) -> None:
    """Add the `schedule` command group to `app`."""
    app.add_typer(schedule_app, rich_help_panel="Production")
