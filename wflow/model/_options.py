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
_PARENT_CLOSE_POLICIES = ("terminate", "abandon", "request_cancel")

SPAWN_KEY_PREFIXES = ("temporal.workflow.", "workflow.")
"""How spawn option keys may be written: Wippy's docs' `temporal.workflow.id`, wflow's older
`workflow.id`, or bare (`id`, as Python keyword arguments)."""


@dataclasses.dataclass(frozen=True)
class SpawnOptions:
    """Options of starting a workflow (`process.with_options{...}` in Lua).

    One value for both languages and every starter (a workflow's child start, a client start
    from a function, process or program); `wflow.temporal` maps it to Temporal's arguments
    and refuses, naming the key, what the starter at hand cannot honour.

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
        messages: `(topic, payload)` pairs delivered with the start, in order (Lua's
            `:with_message`, several allowed); also delivered when the spawn returns a
            running workflow (`use_existing`, a name already running).
        monitored: Whether the spawner receives an `EXIT` event when the process ends
            (`spawn_monitored`); set with `monitored_copy`, not an option key.
        task_queue: Task queue to start on instead of the worker's.
        run_timeout: Limit of one run.
        task_timeout: Limit of one workflow task.
        execution_error_when_already_started: Fail (`ALREADY_EXISTS`) when the ID is running,
            whatever the conflict policy says.
        search_attributes: Indexed attributes the workflow starts with.
        start_delay: Wait before the first workflow task (client starts only).
        parent_close_policy: `terminate`, `abandon` or `request_cancel`: what happens to a
            child when its parent closes (children only; wflow's default is `abandon`).
        wait_for_cancellation: Whether canceling a child waits until it has ended (children
            only; None: it waits, temporalio's default).
        priority: Temporal's priority key (1 is highest).
        namespace: The Temporal namespace to start in (client starts only; a child runs in
            its parent's).
        summary: Text Temporal's UI shows for the workflow (default: its entry).
        details: Markdown Temporal's UI shows for the workflow (default: code and worker).
        enable_eager_start: Ask the server to hand the first task to this worker at once
            (client starts only).
        versioning_override: `auto_upgrade`, or `{deployment_name=..., build_id=...}` to pin
            the workflow to that worker deployment version.
        context: Values the workflow reads with `ctx.get` / `ctx.all` (and its functions),
            sent in the `wflow-context` header (`process.with_context`).
    """

    workflow_id: str | None = None
    name: str | None = None
    execution_timeout: timedelta | None = None
    id_conflict_policy: str | None = None
    id_reuse_policy: str | None = None
    retry_policy: RetryPolicy | None = None
    cron_schedule: str | None = None
    memo: Mapping[str, Any] | None = None
    messages: tuple[tuple[str, Any], ...] = ()
    monitored: bool = False
    task_queue: str | None = None
    run_timeout: timedelta | None = None
    task_timeout: timedelta | None = None
    execution_error_when_already_started: bool = False
    search_attributes: Mapping[str, Any] | None = None
    start_delay: timedelta | None = None
    parent_close_policy: str | None = None
    wait_for_cancellation: bool | None = None
    priority: int | None = None
    namespace: str | None = None
    summary: str | None = None
    details: str | None = None
    enable_eager_start: bool = False
    versioning_override: str | Mapping[str, str] | None = None
    context: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    _KEYS = (
        "id",
        "task_queue",
        "execution_timeout",
        "run_timeout",
        "task_timeout",
        "id_conflict_policy",
        "id_reuse_policy",
        "execution_error_when_already_started",
        "retry_policy",
        "cron_schedule",
        "memo",
        "search_attributes",
        "enable_eager_start",
        "start_delay",
        "parent_close_policy",
        "wait_for_cancellation",
        "namespace",
        "priority",
        "summary",
        "details",
        "versioning_override",
    )

    @property
    def message(self) -> tuple[str, Any] | None:
        """The first startup message, or None (`messages` holds them all)."""
        return self.messages[0] if self.messages else None

    def merged(
        self, data: Mapping[str, Any], *, number_unit: timedelta = timedelta(seconds=1)
    ) -> SpawnOptions:
        """Return a copy with `data` applied.

        Keys are written as Wippy's docs do (`temporal.workflow.id`), with wflow's older
        `workflow.` prefix, or bare (`id`, or `workflow_id`).

        Raises:
            WflowError: `INVALID` naming the first unknown key or bad value.
        """
        changes: dict[str, Any] = {}
        for raw_key, value in data.items():
            key = raw_key
            if isinstance(raw_key, str):
                for prefix in SPAWN_KEY_PREFIXES:
                    if raw_key.startswith(prefix):
                        key = raw_key.removeprefix(prefix)
                        break
            if key == "workflow_id":
                key = "id"
            if key not in self._KEYS:
                allowed = ", ".join(f"temporal.workflow.{k}" for k in self._KEYS)
                raise WflowError(
                    f"unknown process option {raw_key!r} (expected one of {allowed})",
                    ErrorKind.INVALID,
                )
            where = raw_key if isinstance(raw_key, str) else key
            changes.update(_spawn_option(key, where, value, number_unit))
        return dataclasses.replace(self, **changes)

    def with_name(self, name: str) -> SpawnOptions:
        """Return a copy with a deterministic workflow ID derived from `name`."""
        if not isinstance(name, str) or not name:
            raise WflowError("process name must be a non-empty string", ErrorKind.INVALID)
        return dataclasses.replace(self, name=name)

    def with_message(self, topic: str, payload: Any = None) -> SpawnOptions:
        """Return a copy that also delivers `(topic, payload)` with the start, after the others."""
        if not isinstance(topic, str) or not topic:
            raise WflowError("message topic must be a non-empty string", ErrorKind.INVALID)
        return dataclasses.replace(self, messages=(*self.messages, (topic, payload)))

    def with_context(self, values: Mapping[str, Any]) -> SpawnOptions:
        """Return a copy whose workflow context is extended by `values` (string keys).

        Raises:
            WflowError: `INVALID` for a key that is not a non-empty string.
        """
        if not isinstance(values, Mapping):
            raise WflowError("with_context: expected a table of values", ErrorKind.INVALID)
        for key in values:
            if not isinstance(key, str) or not key:
                raise WflowError(
                    f"with_context: keys must be non-empty strings, got {key!r}",
                    ErrorKind.INVALID,
                )
        return dataclasses.replace(self, context={**self.context, **values})

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
        """Return the conflict policy; unset, `use_existing` for a name or an explicit ID.

        Wippy's docs: `use_existing` is the "default with explicit ID".
        """
        if self.id_conflict_policy is None and (
            self.name is not None or self.workflow_id is not None
        ):
            return "use_existing"
        return self.id_conflict_policy

    def workflow_keys_set(self) -> list[str]:
        """Return the option keys set that only a workflow start honours (not a process's)."""
        default = SpawnOptions()
        keys = []
        for key in self._KEYS:
            field = "workflow_id" if key == "id" else key
            if getattr(self, field) != getattr(default, field):
                keys.append(f"temporal.workflow.{key}")
        if self.context:
            keys.append("with_context")
        return keys

    def reuses_running(self) -> bool:
        """Return whether a spawn whose ID is running returns that workflow's PID."""
        return (
            self.conflict_policy() == "use_existing"
            and not self.execution_error_when_already_started
        )


_SPAWN_FLAGS = (
    "execution_error_when_already_started",
    "wait_for_cancellation",
    "enable_eager_start",
)
_SPAWN_DURATIONS = ("execution_timeout", "run_timeout", "task_timeout", "start_delay")
_SPAWN_STRINGS = ("task_queue", "namespace", "summary", "details")


def _spawn_option(key: str, where: str, value: Any, number_unit: timedelta) -> dict[str, Any]:
    field = "workflow_id" if key == "id" else key
    if value is None:
        unset = key in _SPAWN_FLAGS and key != "wait_for_cancellation"
        return {field: False if unset else None}
    if key in _SPAWN_FLAGS:
        if not isinstance(value, bool):
            raise WflowError(f"{where}: expected true or false, got {value!r}", ErrorKind.INVALID)
        return {key: value}
    if key == "id" or key in _SPAWN_STRINGS:
        if not isinstance(value, str) or not value:
            raise WflowError(
                f"{where}: expected a non-empty string, got {value!r}", ErrorKind.INVALID
            )
        return {field: value}
    if key in _SPAWN_DURATIONS:
        try:
            return {key: parse_duration(value, number_unit=number_unit)}
        except WflowError as exc:
            raise WflowError(f"{where}: {exc.message}", ErrorKind.INVALID) from None
    if key in ("id_conflict_policy", "id_reuse_policy", "parent_close_policy"):
        allowed = {
            "id_conflict_policy": _CONFLICT_POLICIES,
            "id_reuse_policy": _REUSE_POLICIES,
            "parent_close_policy": _PARENT_CLOSE_POLICIES,
        }[key]
        normalized = str(value).lower()
        if normalized not in allowed:
            raise WflowError(
                f"{where}: {value!r} is not one of {', '.join(allowed)}", ErrorKind.INVALID
            )
        return {key: normalized}
    if key == "priority":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise WflowError(
                f"{where}: expected a whole number >= 1, got {value!r}", ErrorKind.INVALID
            )
        return {key: value}
    if key == "versioning_override":
        return {key: _versioning_override(where, value)}
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


def _versioning_override(where: str, value: Any) -> str | dict[str, str]:
    if value == "auto_upgrade":
        return "auto_upgrade"
    pinned = isinstance(value, Mapping) and set(value) == {"deployment_name", "build_id"}
    if pinned and all(isinstance(v, str) and v for v in value.values()):
        return {k: str(v) for k, v in value.items()}
    raise WflowError(
        f'{where}: expected "auto_upgrade" or {{deployment_name = "...", build_id = "..."}} '
        f"(pinned), got {value!r}",
        ErrorKind.INVALID,
    )
