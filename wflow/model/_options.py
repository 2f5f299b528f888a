"""Options of intercepted calls, validated once for both languages."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from wflow.model._duration import parse_duration
from wflow.model._errors import ErrorKind, WflowError

__all__ = ["DEFAULT_START_TO_CLOSE", "ActivityOptions", "RetryPolicy", "SpawnOptions"]

DEFAULT_START_TO_CLOSE = timedelta(minutes=10)
"""The start-to-close timeout of a function call when none is given (SPEC §2)."""

DurationLike = str | int | float | timedelta


def error_type_name(name: str) -> str:
    """Return the error type Temporal matches for `name`: a kind in any spelling is the kind.

    Wippy's docs write kinds in CamelCase (`"Invalid"`, `"PermissionDenied"`); wflow's failures
    carry the kind constant (`INVALID`) as their type. Other names stay as they are.
    """
    squashed = name.replace("_", "").upper()
    for kind in ErrorKind:
        if kind.value.replace("_", "") == squashed:
            return kind.value
    return name


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How a failed call is retried.

    Attributes:
        initial_interval: Delay before the first retry.
        backoff_coefficient: Factor applied to the delay after each retry.
        maximum_interval: Upper bound of the delay.
        maximum_attempts: Attempts in all, 0 meaning unlimited.
        non_retryable_error_types: Error kinds (or other error type names) never retried.
    """

    initial_interval: timedelta | None = None
    backoff_coefficient: float | None = None
    maximum_interval: timedelta | None = None
    maximum_attempts: int | None = None
    non_retryable_error_types: tuple[str, ...] = ()

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, number_unit: timedelta, where: str = "retry_policy"
    ) -> RetryPolicy:
        """Build a policy from a Lua table or dict, naming the bad key in errors."""
        known = {f.name for f in dataclasses.fields(cls)}
        for key in data:
            if key not in known:
                raise WflowError(
                    f"{where}: unknown key {key!r} (expected one of {', '.join(sorted(known))})",
                    ErrorKind.INVALID,
                )

        def duration(key: str) -> timedelta | None:
            raw = data.get(key)
            return None if raw is None else parse_duration(raw, number_unit=number_unit)

        attempts = data.get("maximum_attempts")
        if attempts is not None and (not isinstance(attempts, int) or attempts < 0):
            raise WflowError(
                f"{where}.maximum_attempts: expected a whole number >= 0, got {attempts!r}",
                ErrorKind.INVALID,
            )
        coefficient = data.get("backoff_coefficient")
        if coefficient is not None and (
            isinstance(coefficient, bool) or not isinstance(coefficient, (int, float))
        ):
            raise WflowError(
                f"{where}.backoff_coefficient: expected a number, got {coefficient!r}",
                ErrorKind.INVALID,
            )
        types = data.get("non_retryable_error_types") or ()
        if isinstance(types, str) or not isinstance(types, Sequence):
            raise WflowError(
                f"{where}.non_retryable_error_types: expected a list of names", ErrorKind.INVALID
            )
        return cls(
            initial_interval=duration("initial_interval"),
            backoff_coefficient=None if coefficient is None else float(coefficient),
            maximum_interval=duration("maximum_interval"),
            maximum_attempts=attempts,
            non_retryable_error_types=tuple(error_type_name(str(t)) for t in types),
        )


@dataclasses.dataclass(frozen=True)
class ActivityOptions:
    """Options of a function call (`funcs.new():with_options{...}` in Lua).

    Attributes:
        start_to_close_timeout: Limit of one attempt; 10 minutes by default.
        schedule_to_close_timeout: Limit of all attempts together.
        heartbeat_timeout: Longest silence between heartbeats.
        task_queue: Task queue to run on; the calling workflow's by default.
        retry_policy: Retry policy; Temporal's default when None.
        context: Values passed to the function with the call (`with_context`).
        activity_id: The activity ID of the call (Temporal's, unique in the workflow).
        schedule_to_start_timeout: Limit of the wait in the task queue.
        wait_for_cancellation: A canceled call waits until the function acknowledged it.
        summary: A short text Temporal shows for the call (UI, `temporal workflow describe`).
        priority: Temporal's priority key (1 is highest; None: the server's default).
        disable_eager_execution: Never run the call eagerly on the calling worker.
    """

    start_to_close_timeout: timedelta | None = None
    schedule_to_close_timeout: timedelta | None = None
    heartbeat_timeout: timedelta | None = None
    task_queue: str | None = None
    retry_policy: RetryPolicy | None = None
    context: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    activity_id: str | None = None
    schedule_to_start_timeout: timedelta | None = None
    wait_for_cancellation: bool = False
    summary: str | None = None
    priority: int | None = None
    disable_eager_execution: bool = False

    _KEYS = (
        "start_to_close_timeout",
        "schedule_to_close_timeout",
        "schedule_to_start_timeout",
        "heartbeat_timeout",
        "task_queue",
        "retry_policy",
        "id",
        "wait_for_cancellation",
        "summary",
        "priority",
        "disable_eager_execution",
    )

    def effective_start_to_close(self) -> timedelta | None:
        """Start-to-close timeout to send: the default applies only without any other limit."""
        if self.start_to_close_timeout is None and self.schedule_to_close_timeout is None:
            return DEFAULT_START_TO_CLOSE
        return self.start_to_close_timeout

    def merged(
        self, data: Mapping[str, Any], *, number_unit: timedelta = timedelta(seconds=1)
    ) -> ActivityOptions:
        """Return a copy with `data` applied.

        Keys may be written with or without the `activity.` prefix (`activity.task_queue` as
        in Lua's `with_options{}`, or `task_queue` as in Python keyword arguments).

        Raises:
            WflowError: `INVALID` naming the first unknown key or bad value.
        """
        changes: dict[str, Any] = {}
        for raw_key, value in data.items():
            key = raw_key.removeprefix("activity.") if isinstance(raw_key, str) else raw_key
            # Wippy's funcs page writes `with_options{timeout = ms}`: the start-to-close limit.
            key = "start_to_close_timeout" if key == "timeout" else key
            if key not in self._KEYS:
                allowed = ", ".join(f"activity.{k}" for k in self._KEYS)
                raise WflowError(
                    f"unknown call option {raw_key!r} (expected one of {allowed})",
                    ErrorKind.INVALID,
                )
            if value is None:
                changes[_FIELD.get(key, key)] = None if key not in _FLAGS else False
            elif key in _FLAGS:
                if not isinstance(value, bool):
                    raise WflowError(
                        f"activity.{key}: expected true or false, got {value!r}", ErrorKind.INVALID
                    )
                changes[key] = value
            elif key in ("id", "summary"):
                if not isinstance(value, str) or not value:
                    raise WflowError(
                        f"activity.{key}: expected a non-empty string, got {value!r}",
                        ErrorKind.INVALID,
                    )
                changes[_FIELD.get(key, key)] = value
            elif key == "priority":
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise WflowError(
                        f"activity.priority: expected a whole number >= 1, got {value!r}",
                        ErrorKind.INVALID,
                    )
                changes[key] = value
            elif key == "task_queue":
                if not isinstance(value, str) or not value:
                    raise WflowError(
                        f"activity.task_queue: expected a non-empty string, got {value!r}",
                        ErrorKind.INVALID,
                    )
                changes[key] = value
            elif key == "retry_policy":
                if isinstance(value, RetryPolicy):
                    changes[key] = value
                elif isinstance(value, Mapping):
                    changes[key] = RetryPolicy.from_mapping(
                        value, number_unit=number_unit, where="activity.retry_policy"
                    )
                else:
                    raise WflowError(
                        "activity.retry_policy: expected a table of retry settings",
                        ErrorKind.INVALID,
                    )
            else:
                try:
                    changes[key] = parse_duration(value, number_unit=number_unit)
                except WflowError as exc:
                    raise WflowError(f"activity.{key}: {exc.message}", ErrorKind.INVALID) from None
        return dataclasses.replace(self, **changes)

    def with_context(self, values: Mapping[str, Any]) -> ActivityOptions:
        """Return a copy whose call context is extended by `values`."""
        return dataclasses.replace(self, context={**self.context, **values})


# Option keys whose field has another name, and the true/false options.
_FIELD = {"id": "activity_id"}
_FLAGS = ("wait_for_cancellation", "disable_eager_execution")

_CONFLICT_POLICIES = ("fail", "use_existing", "terminate_existing")
_REUSE_POLICIES = (
    "allow_duplicate",
    "allow_duplicate_failed_only",
    "reject_duplicate",
    "terminate_if_running",
)


@dataclasses.dataclass(frozen=True)
class SpawnOptions:
    """Options of starting a workflow (`process.with_options{...}` in Lua).

    Attributes:
        workflow_id: The workflow ID; random (or derived from `name`) when None.
        name: A name that makes the workflow ID deterministic (`<entry ID>:<name>`); a second
            spawn with the same name returns the running workflow's PID.
        execution_timeout: Limit of the whole workflow, across retries and continue-as-new.
        id_conflict_policy: `fail`, `use_existing` or `terminate_existing` when a workflow
            with that ID is running.
        id_reuse_policy: `allow_duplicate`, `allow_duplicate_failed_only`,
            `reject_duplicate` or `terminate_if_running` for a closed one.
        retry_policy: Retry policy of the whole workflow.
        cron_schedule: A cron schedule.
        memo: Non-indexed values attached to the workflow.
        message: A `(topic, payload)` delivered with the start (signal-with-start).
        monitored: Whether the spawner receives an `EXIT` event when the process ends
            (`spawn_monitored`); set with `monitored_copy`, not an option key.
    """

    workflow_id: str | None = None
    name: str | None = None
    execution_timeout: timedelta | None = None
    id_conflict_policy: str | None = None
    id_reuse_policy: str | None = None
    retry_policy: RetryPolicy | None = None
    cron_schedule: str | None = None
    memo: Mapping[str, Any] | None = None
    message: tuple[str, Any] | None = None
    monitored: bool = False

    _KEYS = (
        "id",
        "execution_timeout",
        "id_conflict_policy",
        "id_reuse_policy",
        "retry_policy",
        "cron_schedule",
        "memo",
    )

    def merged(
        self, data: Mapping[str, Any], *, number_unit: timedelta = timedelta(seconds=1)
    ) -> SpawnOptions:
        """Return a copy with `data` applied (keys with or without the `workflow.` prefix).

        Raises:
            WflowError: `INVALID` naming the first unknown key or bad value.
        """
        changes: dict[str, Any] = {}
        for raw_key, value in data.items():
            key = raw_key.removeprefix("workflow.") if isinstance(raw_key, str) else raw_key
            if key == "workflow_id":
                key = "id"
            if key not in self._KEYS:
                allowed = ", ".join(f"workflow.{k}" for k in self._KEYS)
                raise WflowError(
                    f"unknown process option {raw_key!r} (expected one of {allowed})",
                    ErrorKind.INVALID,
                )
            changes.update(_spawn_option(key, value, number_unit))
        return dataclasses.replace(self, **changes)

    def with_name(self, name: str) -> SpawnOptions:
        """Return a copy with a deterministic workflow ID derived from `name`."""
        if not isinstance(name, str) or not name:
            raise WflowError("process name must be a non-empty string", ErrorKind.INVALID)
        return dataclasses.replace(self, name=name)

    def with_message(self, topic: str, payload: Any = None) -> SpawnOptions:
        """Return a copy that delivers `(topic, payload)` with the start."""
        if not isinstance(topic, str) or not topic:
            raise WflowError("message topic must be a non-empty string", ErrorKind.INVALID)
        return dataclasses.replace(self, message=(topic, payload))

    def monitored_copy(self) -> SpawnOptions:
        """Return a copy whose spawn posts an `EXIT` event to the spawner when it ends."""
        return dataclasses.replace(self, monitored=True)

    def workflow_id_for(self, entry_id: str) -> str | None:
        """Return the workflow ID these options fix for `entry_id`, or None for a random one."""
        if self.workflow_id is not None:
            return self.workflow_id
        if self.name is not None:
            return f"{entry_id}:{self.name}"
        return None

    def conflict_policy(self) -> str | None:
        """Return the conflict policy, `use_existing` for named spawns unless set."""
        if self.id_conflict_policy is None and self.name is not None:
            return "use_existing"
        return self.id_conflict_policy


def _spawn_option(key: str, value: Any, number_unit: timedelta) -> dict[str, Any]:
    where = f"workflow.{key}"
    if value is None:
        return {"workflow_id" if key == "id" else key: None}
    if key == "id":
        if not isinstance(value, str) or not value:
            raise WflowError(f"{where}: expected a non-empty string", ErrorKind.INVALID)
        return {"workflow_id": value}
    if key == "execution_timeout":
        try:
            return {key: parse_duration(value, number_unit=number_unit)}
        except WflowError as exc:
            raise WflowError(f"{where}: {exc.message}", ErrorKind.INVALID) from None
    if key in ("id_conflict_policy", "id_reuse_policy"):
        allowed = _CONFLICT_POLICIES if key == "id_conflict_policy" else _REUSE_POLICIES
        normalized = str(value).lower()
        if normalized not in allowed:
            raise WflowError(
                f"{where}: {value!r} is not one of {', '.join(allowed)}", ErrorKind.INVALID
            )
        return {key: normalized}
    if key == "retry_policy":
        if isinstance(value, RetryPolicy):
            return {key: value}
        if not isinstance(value, Mapping):
            raise WflowError(f"{where}: expected a table of retry settings", ErrorKind.INVALID)
        return {key: RetryPolicy.from_mapping(value, number_unit=number_unit, where=where)}
    if key == "cron_schedule":
        if not isinstance(value, str) or (
            len(value.split()) not in (5, 6, 7) and not value.startswith("@")
        ):
            raise WflowError(f"{where}: expected a cron expression", ErrorKind.INVALID)
        return {key: value}
    if not isinstance(value, Mapping):
        raise WflowError(f"{where}: expected a table", ErrorKind.INVALID)
    return {key: dict(value)}
