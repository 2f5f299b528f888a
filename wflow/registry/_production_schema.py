"""Production settings: schedules, search attributes, payload codecs and telemetry.

The `temporal.schedule` entry kind and the parts of a `temporal.client` entry that production
needs (`search_attributes`, `codecs`, `telemetry`). Kept apart from the connection settings in
`_schema` so each concern reads on its own; `_schema` puts them into the entry models.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from typing_extensions import Self

from wflow.registry._value_types import Duration

__all__ = [
    "OVERLAP_POLICIES",
    "SEARCH_ATTRIBUTE_TYPES",
    "CodecSpec",
    "MetricsSettings",
    "ScheduleCalendar",
    "ScheduleFields",
    "ScheduleInterval",
    "TelemetrySettings",
    "TracingSettings",
    "search_attribute_problem",
]

SEARCH_ATTRIBUTE_TYPES: tuple[str, ...] = (
    "Keyword",
    "Text",
    "Int",
    "Double",
    "Bool",
    "Datetime",
    "KeywordList",
)
"""The types a custom search attribute may be declared with (Temporal's names)."""

OVERLAP_POLICIES: tuple[str, ...] = (
    "skip",
    "buffer_one",
    "buffer_all",
    "cancel_other",
    "terminate_other",
    "allow_all",
)
"""What a schedule does when a run is due while the previous one still runs."""

_SA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


_Dur = Duration


def search_attribute_problem(name: str, declared: str, value: Any) -> str | None:
    """Return why `value` cannot be the value of search attribute `name` of type `declared`.

    Args:
        name: The attribute's name.
        declared: Its declared type (one of `SEARCH_ATTRIBUTE_TYPES`).
        value: The value to check (JSON data).

    Returns:
        None when the value fits the type, else a message naming the attribute and its type.
    """
    fits = {
        "Keyword": isinstance(value, str),
        "Text": isinstance(value, str),
        "Int": isinstance(value, int) and not isinstance(value, bool),
        "Double": isinstance(value, (int, float)) and not isinstance(value, bool),
        "Bool": isinstance(value, bool),
        "Datetime": isinstance(value, str),
        "KeywordList": isinstance(value, list) and all(isinstance(v, str) for v in value),
    }.get(declared, False)
    if fits:
        return None
    return f"search attribute {name!r} is declared {declared}, got {value!r}"


# --- schedules ----------------------------------------------------------------------------------


def _interval(value: Any) -> Any:
    # `"10s"` is shorthand for `{every: "10s"}`.
    if isinstance(value, (str, int, float)):
        return {"every": value}
    return value


class ScheduleInterval(_Strict):
    """A schedule interval: runs at epoch + n * `every` + `offset`."""

    every: _Dur = Field(description="Period between runs, e.g. '10s', '1h'.")
    offset: _Dur | None = Field(default=None, description="Fixed offset within each period.")

    @field_validator("every")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("interval 'every' must be positive")
        return value


_RANGE = re.compile(r"^(\*|\d+)(?:-(\d+))?(?:/(\d+))?$")

# Field -> (lowest, highest) value Temporal accepts.
_CALENDAR_BOUNDS: dict[str, tuple[int, int]] = {
    "second": (0, 59),
    "minute": (0, 59),
    "hour": (0, 23),
    "day_of_month": (1, 31),
    "month": (1, 12),
    "year": (1970, 9999),
    "day_of_week": (0, 6),
}


def calendar_ranges(field: str, text: str) -> list[tuple[int, int, int]]:
    """Parse a calendar field (`"9"`, `"1-5"`, `"0-59/15"`, `"*"`, comma lists).

    Returns:
        (start, end, step) triples, inclusive.

    Raises:
        ValueError: Naming the field and the bad part.
    """
    low, high = _CALENDAR_BOUNDS[field]
    ranges: list[tuple[int, int, int]] = []
    for part in str(text).split(","):
        match = _RANGE.match(part.strip())
        if match is None:
            raise ValueError(
                f"calendar {field}: {part.strip()!r} is not a number, range 'a-b', step "
                "'a-b/n' or '*'"
            )
        first, last, step = match.groups()
        start, end = (low, high) if first == "*" else (int(first), int(last or first))
        for number in (start, end):
            if not low <= number <= high:
                raise ValueError(f"calendar {field}: {number} is outside {low}..{high}")
        if end < start:
            raise ValueError(f"calendar {field}: range {part.strip()!r} ends before it starts")
        ranges.append((start, end, int(step or 1)))
    return ranges


class ScheduleCalendar(_Strict):
    """Calendar times, each field a number, range (`1-5`), step (`0-59/15`), `*` or a list.

    Unset fields default as in Temporal: second, minute and hour 0; every day, month and year.
    """

    second: str | int | None = Field(default=None, description="0-59 (default 0).")
    minute: str | int | None = Field(default=None, description="0-59 (default 0).")
    hour: str | int | None = Field(default=None, description="0-23 (default 0).")
    day_of_month: str | int | None = Field(default=None, description="1-31 (default every).")
    month: str | int | None = Field(default=None, description="1-12 (default every).")
    year: str | int | None = Field(default=None, description="Year (default every).")
    day_of_week: str | int | None = Field(
        default=None, description="0-6, 0 is Sunday (default every)."
    )
    comment: str | None = Field(default=None, description="What this calendar is for.")

    @model_validator(mode="after")
    def _check_fields(self) -> Self:
        for field in _CALENDAR_BOUNDS:
            value = getattr(self, field)
            if value is not None:
                calendar_ranges(field, str(value))
        return self


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, (str, dict, int, float)) else value


_CRON_SHORTHANDS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly", "@every")


class ScheduleFields(BaseModel):
    """The fields of a `temporal.schedule` entry (mixed into the entry model)."""

    workflow: str = Field(description="The workflow entry to start (ID or bare name).")
    args: list[Any] = Field(default_factory=list, description="Its arguments, JSON values.")
    worker: str | None = Field(
        default=None,
        description="The temporal.worker to run on (default: the workflow's worker).",
    )
    schedule_id: str | None = Field(
        default=None, description="The schedule's ID on the cluster (default: the entry ID)."
    )
    workflow_id: str | None = Field(
        default=None,
        description="Workflow ID prefix of the runs (Temporal appends the time); default: the "
        "schedule ID.",
    )
    cron: Annotated[list[str], BeforeValidator(_listed)] = Field(
        default_factory=list, description="Cron expressions ('*/5 * * * *', '@hourly')."
    )
    interval: Annotated[
        list[Annotated[ScheduleInterval, BeforeValidator(_interval)]], BeforeValidator(_listed)
    ] = Field(
        default_factory=list,
        description="Intervals: '10s' or {every: '1h', offset: '5m'}.",
    )
    calendar: Annotated[list[ScheduleCalendar], BeforeValidator(_listed)] = Field(
        default_factory=list, description="Calendar times."
    )
    time_zone: str | None = Field(
        default=None, description="IANA time zone of cron and calendar times (default UTC)."
    )
    jitter: _Dur | None = Field(
        default=None, description="Random delay up to this long added to each run."
    )
    overlap: Literal[
        "skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all"
    ] = Field(default="skip", description="When a run is due while the last one still runs.")
    catchup_window: _Dur | None = Field(
        default=None,
        description="How late a missed run (server down) may still start (server default: 1y).",
    )
    pause_on_failure: bool = Field(
        default=False, description="Pause the schedule when a run fails."
    )
    paused: bool = Field(default=False, description="Created paused (and kept so by sync).")
    note: str | None = Field(default=None, description="A note shown with the schedule.")
    memo: dict[str, Any] = Field(default_factory=dict, description="Memo of each run.")
    search_attributes: dict[str, Any] = Field(
        default_factory=dict,
        description="Search attributes of each run (declared on the temporal.client).",
    )

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: list[str]) -> list[str]:
        for expression in value:
            text = expression.strip()
            if text.startswith("@"):
                if text.split()[0] not in _CRON_SHORTHANDS:
                    raise ValueError(f"cron {expression!r}: unknown shorthand")
                continue
            fields = text.split()
            if not 5 <= len(fields) <= 7:
                raise ValueError(
                    f"cron {expression!r}: expected 5 fields (minute hour day month weekday), "
                    f"got {len(fields)}"
                )
        return value

    @field_validator("time_zone")
    @classmethod
    def _check_zone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (an IANA name like Europe/Berlin)"
            ) from None
        return value

    @model_validator(mode="after")
    def _check_spec(self) -> Self:
        if not (self.cron or self.interval or self.calendar):
            raise ValueError("a schedule needs at least one of cron, interval or calendar")
        return self


# --- client: codecs and telemetry ---------------------------------------------------------------


class CodecSpec(_Strict):
    """One payload codec of a client's chain; the first in the list is applied first."""

    type: Literal["compression", "encryption", "custom"] = Field(
        description="compression (zlib), encryption (AES-256-GCM) or custom (a class)."
    )
    key_env: str | None = Field(
        default=None,
        description="encryption: environment variable holding the 32-byte key "
        "(base64 or 64 hex digits).",
    )
    key_id: str = Field(
        default="default", description="encryption: key name written with each payload."
    )
    level: int = Field(default=6, ge=1, le=9, description="compression: zlib level.")
    min_size: int = Field(
        default=0, ge=0, description="compression: payloads smaller than this stay as they are."
    )
    class_: str | None = Field(
        default=None,
        alias="class",
        description="custom: `module:Class`, a temporalio PayloadCodec made without arguments.",
    )

    @model_validator(mode="after")
    def _check_kind(self) -> Self:
        if self.type == "encryption" and not self.key_env:
            raise ValueError("an encryption codec needs key_env (the variable holding the key)")
        if self.type == "custom":
            if not self.class_ or ":" not in self.class_:
                raise ValueError("a custom codec needs class: 'module:Class'")
        elif self.class_ is not None:
            raise ValueError(f"class is only for custom codecs, not {self.type}")
        return self


class TracingSettings(_Strict):
    """OpenTelemetry tracing of workflows and function calls."""

    enabled: bool = Field(default=True, description="Trace (when the section is present).")
    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/gRPC collector, e.g. 'http://127.0.0.1:4317'; none keeps the "
        "process's own tracer provider.",
    )
    service_name: str = Field(default="wflow", description="service.name of the spans.")
    sampling: float = Field(
        default=1.0, ge=0.0, le=1.0, description="Fraction of traces kept (parent-based)."
    )


class MetricsSettings(_Strict):
    """Temporal SDK metrics of this process's clients and workers."""

    prometheus: str | None = Field(
        default=None, description="Serve Prometheus metrics at this host:port."
    )
    otlp_endpoint: str | None = Field(
        default=None, description="Push metrics to this OTLP/gRPC collector instead."
    )
    prefix: str = Field(default="temporal_", description="Prefix of every metric name.")

    @model_validator(mode="after")
    def _one_sink(self) -> Self:
        if (self.prometheus is None) == (self.otlp_endpoint is None):
            raise ValueError("metrics needs exactly one of prometheus or otlp_endpoint")
        return self


class TelemetrySettings(_Strict):
    """Tracing and metrics; off unless set."""

    tracing: TracingSettings | None = Field(default=None, description="OpenTelemetry tracing.")
    metrics: MetricsSettings | None = Field(default=None, description="Runtime metrics.")


class ProductionClientFields(BaseModel):
    """The production fields of a `temporal.client` entry (mixed into the entry model)."""

    SEARCH_ATTRIBUTE_NOTE: ClassVar[str] = "declared custom search attributes"

    search_attributes: dict[str, str] = Field(
        default_factory=dict,
        description="Custom search attributes, name -> type (Keyword, Text, Int, Double, Bool, "
        "Datetime, KeywordList); registered on the embedded dev server.",
    )
    codecs: list[CodecSpec] = Field(
        default_factory=list,
        description="Payload codec chain applied to every payload (compression, encryption, "
        "custom).",
    )
    telemetry: TelemetrySettings | None = Field(
        default=None, description="Tracing and metrics (off by default)."
    )

    @field_validator("search_attributes")
    @classmethod
    def _check_search_attributes(cls, value: Mapping[str, str]) -> dict[str, str]:
        for name, kind in value.items():
            if not _SA_NAME.match(name):
                raise ValueError(f"search attribute name {name!r}: letters, digits and '_'")
            if kind not in SEARCH_ATTRIBUTE_TYPES:
                raise ValueError(
                    f"search attribute {name!r}: unknown type {kind!r} "
                    f"(one of {', '.join(SEARCH_ATTRIBUTE_TYPES)})"
                )
        return dict(value)
