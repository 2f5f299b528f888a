"""`temporal.schedule` entries on the cluster: built, synced, listed and operated on.

A schedule entry becomes a Temporal schedule whose action starts the entry's workflow on its
worker's task queue. wflow marks the schedules it creates with a memo (`wflow.schedule`: the
entry ID, `wflow.task_queue`: the queue), so a sync can tell the project's schedules that the
YAML no longer declares from anyone else's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleBackfill,
    ScheduleCalendarSpec,
    ScheduleDescription,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from wflow.model import ErrorKind, WflowError
from wflow.registry import Registry, TemporalScheduleEntry, TemporalWorkerEntry
from wflow.registry._production_schema import calendar_ranges
from wflow.temporal._search_attributes import typed_search_attributes
from wflow.temporal._targets import host_worker, workflow_entry, workflow_metadata

__all__ = [
    "MANAGED_MEMO",
    "QUEUE_MEMO",
    "ScheduleSummary",
    "SyncReport",
    "backfill",
    "build_schedule",
    "client_of_schedule",
    "overlap_policy",
    "project_schedules",
    "schedule_handle",
    "sync_schedules",
]

MANAGED_MEMO = "wflow.schedule"
"""Schedule memo key: the `temporal.schedule` entry that declared the schedule."""
QUEUE_MEMO = "wflow.task_queue"
"""Schedule memo key: the task queue its runs start on."""

_OVERLAP = {
    "skip": ScheduleOverlapPolicy.SKIP,
    "buffer_one": ScheduleOverlapPolicy.BUFFER_ONE,
    "buffer_all": ScheduleOverlapPolicy.BUFFER_ALL,
    "cancel_other": ScheduleOverlapPolicy.CANCEL_OTHER,
    "terminate_other": ScheduleOverlapPolicy.TERMINATE_OTHER,
    "allow_all": ScheduleOverlapPolicy.ALLOW_ALL,
}


def overlap_policy(name: str) -> ScheduleOverlapPolicy:
    """Return Temporal's overlap policy for its YAML name (`skip`, `allow_all`, ...).

    Raises:
        WflowError: `INVALID` for an unknown name.
    """
    try:
        return _OVERLAP[name]
    except KeyError:
        raise WflowError(
            f"unknown overlap policy {name!r} (one of {', '.join(_OVERLAP)})", ErrorKind.INVALID
        ) from None


def _ranges(field: str, value: str | int | None, default: Sequence[ScheduleRange]) -> Any:
    if value is None:
        return default
    return [
        ScheduleRange(start, end, step) for start, end, step in calendar_ranges(field, str(value))
    ]


def _spec(entry: TemporalScheduleEntry) -> ScheduleSpec:
    base = ScheduleCalendarSpec()
    calendars = [
        ScheduleCalendarSpec(
            second=_ranges("second", cal.second, base.second),
            minute=_ranges("minute", cal.minute, base.minute),
            hour=_ranges("hour", cal.hour, base.hour),
            day_of_month=_ranges("day_of_month", cal.day_of_month, base.day_of_month),
            month=_ranges("month", cal.month, base.month),
            year=_ranges("year", cal.year, base.year),
            day_of_week=_ranges("day_of_week", cal.day_of_week, base.day_of_week),
            comment=cal.comment,
        )
        for cal in entry.calendar
    ]
    return ScheduleSpec(
        calendars=calendars,
        intervals=[ScheduleIntervalSpec(every=i.every, offset=i.offset) for i in entry.interval],
        cron_expressions=list(entry.cron),
        jitter=entry.jitter,
        time_zone_name=entry.time_zone,
    )


def _worker_of(registry: Registry, entry: TemporalScheduleEntry) -> TemporalWorkerEntry:
    target = workflow_entry(registry, entry.workflow, entry.namespace)
    return host_worker(registry, entry.worker, target, entry.namespace)


def build_schedule(registry: Registry, entry: TemporalScheduleEntry) -> Schedule:
    """Return the Temporal schedule `entry` declares.

    Its runs start the workflow entry (its workflow type) on the worker's task queue, with
    the entry's arguments, memo and search attributes (typed as the clients declare them).
    """
    target = workflow_entry(registry, entry.workflow, entry.namespace)
    worker = _worker_of(registry, entry)
    action = ScheduleActionStartWorkflow(
        target.workflow_type(),
        args=list(entry.args),
        id=entry.workflow_id or entry.cluster_id,
        task_queue=registry.task_queue_of(worker),
        memo=dict(entry.memo) or None,
        typed_search_attributes=typed_search_attributes(
            entry.search_attributes, registry.search_attribute_types()
        ),
        static_summary=f"{target.kind} {target.id} (schedule {entry.id})",
        static_details=workflow_metadata(target, registry)[1],
    )
    return Schedule(
        action=action,
        spec=_spec(entry),
        policy=SchedulePolicy(
            overlap=overlap_policy(entry.overlap),
            catchup_window=entry.catchup_window,
            pause_on_failure=entry.pause_on_failure,
        ),
        state=ScheduleState(note=entry.note, paused=entry.paused),
    )


@dataclasses.dataclass
class SyncReport:
    """What `sync_schedules` did.

    Attributes:
        created: Schedule IDs created.
        updated: Schedule IDs that existed and were updated to the YAML.
        undeclared: Schedule IDs wflow created for this project that no entry declares now.
        removed: Those of `undeclared` that were deleted (`remove=True`).
    """

    created: list[str] = dataclasses.field(default_factory=list)
    updated: list[str] = dataclasses.field(default_factory=list)
    undeclared: list[str] = dataclasses.field(default_factory=list)
    removed: list[str] = dataclasses.field(default_factory=list)

    def lines(self) -> list[str]:
        """One line per schedule, for people."""
        out = [f"schedule {sid}: created" for sid in self.created]
        out += [f"schedule {sid}: updated" for sid in self.updated]
        for sid in self.undeclared:
            if sid in self.removed:
                out.append(f"schedule {sid}: removed (no longer declared)")
            else:
                out.append(
                    f"schedule {sid}: not declared in the project any more; remove it with "
                    "`wflow schedule sync --remove` or `wflow schedule delete`"
                )
        return out


@dataclasses.dataclass(frozen=True)
class ScheduleSummary:
    """One of the project's schedules on a cluster.

    Attributes:
        schedule_id: Its ID on the cluster.
        entry: The `temporal.schedule` entry declaring it, or None when none does now.
        workflow: The workflow type its runs start.
        paused: Whether it is paused.
        next_runs: Its next action times.
        client: The client it was found with.
    """

    schedule_id: str
    entry: str | None
    workflow: str
    paused: bool
    next_runs: Sequence[datetime]
    client: Client = dataclasses.field(repr=False, compare=False)


def _clients_of(registry: Registry, clients: dict[str | None, Client]) -> list[Client]:
    seen: dict[int, Client] = {}
    for client in clients.values():
        seen.setdefault(id(client), client)
    return list(seen.values())


def client_of_schedule(
    registry: Registry, entry: TemporalScheduleEntry, clients: dict[str | None, Client]
) -> Client:
    """The client a schedule entry lives on: its worker's client."""
    client_entry = registry.client_of(_worker_of(registry, entry))
    key = client_entry.id if client_entry is not None else None
    client = clients.get(key) or clients.get(None)
    if client is None:
        raise WflowError(f"no connection for schedule {entry.id}", ErrorKind.UNAVAILABLE)
    return client


async def project_schedules(
    registry: Registry, clients: dict[str | None, Client]
) -> list[ScheduleSummary]:
    """The schedules wflow created for this project (marked, on the project's task queues)."""
    queues = {registry.task_queue_of(worker) for worker in registry.workers()}
    declared = {entry.cluster_id: entry.id for entry in registry.schedules()}
    found: list[ScheduleSummary] = []
    for client in _clients_of(registry, clients):
        async for listed in await client.list_schedules():
            memo = await listed.memo()
            if MANAGED_MEMO not in memo or memo.get(QUEUE_MEMO) not in queues:
                continue
            schedule = listed.schedule
            found.append(
                ScheduleSummary(
                    schedule_id=listed.id,
                    entry=declared.get(listed.id),
                    workflow=getattr(schedule.action, "workflow", "?") if schedule else "?",
                    paused=bool(schedule and schedule.state.paused),
                    next_runs=list(listed.info.next_action_times) if listed.info else [],
                    client=client,
                )
            )
    found.sort(key=lambda s: s.schedule_id)
    return found


async def sync_schedules(
    registry: Registry, clients: dict[str | None, Client], *, remove: bool = False
) -> SyncReport:
    """Create or update every declared schedule; report (or remove) undeclared ones.

    An update replaces the schedule's spec, action and policies with the YAML's, but keeps its
    paused state and note when the YAML does not ask for a pause: an operator's
    `wflow schedule pause` survives a worker restart.

    Args:
        registry: The project.
        clients: Connected clients by `temporal.client` entry ID (None: the default).
        remove: Delete the project's schedules that no entry declares any more.
    """
    report = SyncReport()
    for entry in registry.schedules():
        client = client_of_schedule(registry, entry, clients)
        desired = build_schedule(registry, entry)
        assert isinstance(desired.action, ScheduleActionStartWorkflow)
        memo = {MANAGED_MEMO: entry.id, QUEUE_MEMO: desired.action.task_queue}
        try:
            await client.create_schedule(entry.cluster_id, desired, memo=memo)
            report.created.append(entry.cluster_id)
            continue
        except ScheduleAlreadyRunningError:
            pass

        def keep_state(current: ScheduleUpdateInput, desired: Schedule = desired) -> ScheduleUpdate:
            state = current.description.schedule.state
            if not desired.state.paused:
                desired.state.paused = state.paused
                desired.state.note = desired.state.note or state.note
            return ScheduleUpdate(schedule=desired)

        await client.get_schedule_handle(entry.cluster_id).update(keep_state)
        report.updated.append(entry.cluster_id)
    for summary in await project_schedules(registry, clients):
        if summary.entry is not None:
            continue
        report.undeclared.append(summary.schedule_id)
        if remove:
            await summary.client.get_schedule_handle(summary.schedule_id).delete()
            report.removed.append(summary.schedule_id)
    return report


async def schedule_handle(
    registry: Registry, clients: dict[str | None, Client], name: str
) -> tuple[ScheduleHandle, ScheduleDescription]:
    """Find a schedule by its entry ID, its schedule ID, or a bare entry name.

    Raises:
        WflowError: `NOT_FOUND` when no client has it.
    """
    for entry in registry.schedules():
        if name in (entry.id, entry.cluster_id, entry.name):
            handle = client_of_schedule(registry, entry, clients).get_schedule_handle(
                entry.cluster_id
            )
            return handle, await _describe(handle, name)
    for client in _clients_of(registry, clients):
        handle = client.get_schedule_handle(name)
        try:
            return handle, await handle.describe()
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
    declared = ", ".join(sorted(e.id for e in registry.schedules())) or "none"
    raise WflowError(
        f"no schedule {name!r} (the project's schedule entries: {declared})", ErrorKind.NOT_FOUND
    )


async def _describe(handle: ScheduleHandle, name: str) -> ScheduleDescription:
    try:
        return await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise WflowError(
                f"schedule {name!r} is declared but not on the cluster yet; create it with "
                "`wflow schedule sync` (or start a worker)",
                ErrorKind.NOT_FOUND,
            ) from None
        raise


async def backfill(
    handle: ScheduleHandle, start: datetime, end: datetime, overlap: str | None = None
) -> None:
    """Run the schedule's actions for the times between `start` and `end`, now."""
    await handle.backfill(
        ScheduleBackfill(
            start_at=start,
            end_at=end,
            overlap=overlap_policy(overlap) if overlap is not None else None,
        )
    )
