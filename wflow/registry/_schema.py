"""The entry models: one pydantic model per kind, discriminated on `kind` (SPEC §3)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, NamedTuple, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)
from typing_extensions import Self

from wflow.model import (
    DEFAULT_MAILBOX_BOUND,
    ErrorKind,
    WflowError,
    parse_byte_size,
)
from wflow.registry._production_schema import (
    ProductionClientFields,
    ScheduleFields,
    search_attribute_problem,
)
from wflow.registry._value_types import ByteSize, Duration, DurationOrNever
from wflow.registry._yaml import line_of

__all__ = [
    "ENTRY_TYPES",
    "FUNCTION_KINDS",
    "ID_PATTERN",
    "KINDS",
    "NAME_PATTERN",
    "PROCESS_KINDS",
    "WORKFLOW_KINDS",
    "AnyEntry",
    "ByteSize",
    "Duration",
    "Entry",
    "FunctionLuaEntry",
    "FunctionPyEntry",
    "HostSettings",
    "LibraryLuaEntry",
    "LuaEntry",
    "LuaLimits",
    "LuaProgramEntry",
    "ProcessHostEntry",
    "ProcessLuaEntry",
    "ProcessPyEntry",
    "ProcessServiceEntry",
    "PythonEntry",
    "Reference",
    "RestartPolicy",
    "ServiceLifecycle",
    "TemporalAuth",
    "TemporalClientEntry",
    "TemporalScheduleEntry",
    "TemporalTLS",
    "TemporalWorkerEntry",
    "WorkerLifecycle",
    "WorkerOptions",
    "WorkflowLuaEntry",
    "WorkflowPyEntry",
    "parse_byte_size",
    "split_id",
]

_IDENT = r"[A-Za-z_][A-Za-z0-9_-]*"
NAME_PATTERN = rf"^{_IDENT}(?:\.{_IDENT})*$"
"""What an entry name and a namespace look like: dotted identifiers (`app.workflows`)."""
ID_PATTERN = rf"^{_IDENT}(?:\.{_IDENT})*:{_IDENT}(?:\.{_IDENT})*$"
"""What an entry ID looks like: `namespace:name`."""

_NAME_RE = re.compile(NAME_PATTERN)
_MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")
_LUA_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FILE_URL = "file://"


def split_id(entry_id: str) -> tuple[str, str]:
    """Split `namespace:name` into its parts.

    Raises:
        WflowError: `INVALID` when `entry_id` is not a well-formed entry ID.
    """
    namespace, sep, name = entry_id.partition(":")
    if not sep or not _NAME_RE.match(namespace) or not _NAME_RE.match(name):
        raise WflowError(
            f"invalid entry ID {entry_id!r}: expected 'namespace:name' "
            "(letters, digits, '_', '-', dots between parts)",
            ErrorKind.INVALID,
        )
    return namespace, name


# --- value types --------------------------------------------------------------------------


# Duration and ByteSize live in _value_types (shared with _production_schema).


def _kind(kind: str) -> Any:
    return Field(default=kind, description=f"The entry kind: {kind}.")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Reference(NamedTuple):
    """A reference from an entry to another entry.

    Attributes:
        loc: Where the reference sits in the entry, as field names and list indexes.
        ref: The reference as written: a full ID or a bare name.
        kinds: The kinds the referenced entry may have.
    """

    loc: tuple[str | int, ...]
    ref: str
    kinds: tuple[str, ...]


# --- the base entry -----------------------------------------------------------------------

_ROLES = ("workflow", "activity")


def _meta_value(meta: Mapping[str, Any], role: str, key: str) -> tuple[tuple[str, ...], Any] | None:
    """Find `meta.temporal.<role>.<key>`, nested or as a flat dotted key."""
    flat = f"temporal.{role}.{key}"
    if flat in meta:
        return ("meta", flat), meta[flat]
    temporal = meta.get("temporal")
    if isinstance(temporal, Mapping):
        section = temporal.get(role)
        if isinstance(section, Mapping) and key in section:
            return ("meta", "temporal", role, key), section[key]
    return None


def _meta_worker(meta: Mapping[str, Any], role: str) -> tuple[tuple[str, ...], Any] | None:
    """Find `meta.temporal.<role>.worker`, nested or as a flat dotted key."""
    return _meta_value(meta, role, "worker")


class Entry(_Strict):
    """Fields every entry has. Subclasses add the kind-specific fields at the entry's root.

    After loading, an entry also knows where it came from: `namespace`, `id`, `file` and
    `line` (set by the loader, or by `place` when built in code).
    """

    KIND: ClassVar[str] = ""
    """The entry kind, as its `kind` field's default says (set for each concrete class)."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        # One place for each kind's name: the `kind` field (`_kind("workflow.lua")`).
        super().__pydantic_init_subclass__(**kwargs)
        default = cls.model_fields["kind"].default
        if isinstance(default, str):
            cls.KIND = default

    name: str = Field(
        description="The entry's name; its ID is `namespace:name`.",
        json_schema_extra={"pattern": NAME_PATTERN},
    )
    kind: str = Field(description="What the entry is.")
    meta: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Free-form metadata. `meta.temporal.workflow.worker` / "
            "`meta.temporal.activity.worker` name the temporal.worker entry this entry runs on."
        ),
    )

    _namespace: str = PrivateAttr(default="")
    _file: Path | None = PrivateAttr(default=None)
    _line: int | None = PrivateAttr(default=None)
    _node: Any = PrivateAttr(default=None)
    _base_dir: Path | None = PrivateAttr(default=None)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError(
                f"invalid name {value!r}: use letters, digits, '_' and '-', starting with a "
                "letter or '_' (dots may separate parts)"
            )
        return value

    @field_validator("meta")
    @classmethod
    def _check_meta(cls, value: dict[str, Any]) -> dict[str, Any]:
        temporal = value.get("temporal")
        if temporal is not None and not isinstance(temporal, Mapping):
            raise ValueError("meta.temporal must be a mapping")
        for role in _ROLES:
            if isinstance(temporal, Mapping):
                section = temporal.get(role)
                if section is not None and not isinstance(section, Mapping):
                    raise ValueError(f"meta.temporal.{role} must be a mapping")
            found = _meta_worker(value, role)
            if found is not None and not isinstance(found[1], str):
                raise ValueError(
                    f"meta.temporal.{role}.worker must be a string (a temporal.worker entry ID), "
                    f"got {found[1]!r}"
                )
        name = _meta_value(value, "workflow", "name")
        if name is not None and (
            not isinstance(name[1], str) or not name[1] or name[1] != name[1].strip()
        ):
            raise ValueError(
                "meta.temporal.workflow.name must be a non-empty string without surrounding "
                f"spaces (a Temporal workflow type name), got {name[1]!r}"
            )
        return value

    # --- where the entry came from ---

    def place(
        self,
        namespace: str,
        *,
        file: Path | None = None,
        line: int | None = None,
        base_dir: Path | None = None,
    ) -> Self:
        """Set the entry's namespace and origin; the loader does this for YAML entries.

        Args:
            namespace: The namespace of the entry's ID.
            file: The file the entry is defined in.
            line: The 1-based line of the entry in `file`.
            base_dir: The folder relative paths resolve against when there is no `file`.

        Returns:
            The entry itself.
        """
        if not _NAME_RE.match(namespace):
            raise WflowError(f"invalid namespace {namespace!r}", ErrorKind.INVALID)
        self._namespace = namespace
        self._file = file
        self._line = line
        if base_dir is not None:
            self._base_dir = base_dir
        return self

    @property
    def namespace(self) -> str:
        """The namespace of the entry's ID (empty until placed)."""
        return self._namespace

    @property
    def id(self) -> str:
        """The entry ID, `namespace:name`."""
        if not self._namespace:
            raise WflowError(
                f"entry {self.name!r} has no namespace yet (call place())", ErrorKind.INVALID
            )
        return f"{self._namespace}:{self.name}"

    @property
    def file(self) -> Path | None:
        """The file the entry is defined in, if any."""
        return self._file

    @property
    def line(self) -> int | None:
        """The 1-based line of the entry in `file`, if known."""
        return self._line

    @property
    def base_dir(self) -> Path:
        """The folder relative paths in this entry resolve against."""
        if self._file is not None:
            return self._file.parent
        if self._base_dir is not None:
            return self._base_dir
        return Path(os.getcwd())

    def field_line(self, loc: tuple[str | int, ...]) -> int | None:
        """Return the line of the field at `loc` (or its closest parent), else the entry's line."""
        if self._node is None:
            return self._line
        return line_of(self._node, loc, self._line)

    def code_file(self) -> Path | None:
        """The file holding the entry's code, when its code is a file of its own (else None).

        Loading reports a code file that does not exist; nothing reads it afterwards.
        """
        return None

    # --- references ---

    def worker_ref(self, role: Literal["workflow", "activity"]) -> str | None:
        """The worker reference in `meta.temporal.<role>.worker`, as written, or None."""
        found = _meta_worker(self.meta, role)
        return None if found is None or not isinstance(found[1], str) else found[1]

    def workflow_type(self) -> str:
        """The Temporal workflow type of this entry: `meta.temporal.workflow.name`, or its ID.

        Wippy's docs: a custom type name, so workflows started by other SDKs or the `temporal`
        CLI under that name run this entry. Spawns still name the entry by its ID.
        """
        found = _meta_value(self.meta, "workflow", "name")
        return found[1] if found is not None else self.id

    def registered_as_activity(self) -> bool:
        """Whether the entry has a `meta.temporal.activity` section (nested or flat keys).

        Every function is an activity; a process entry is one only with this section (Wippy:
        "process.lua entries can also be registered as activities").
        """
        temporal = self.meta.get("temporal")
        if isinstance(temporal, Mapping) and temporal.get("activity") is not None:
            return True
        return any(key.startswith("temporal.activity.") for key in self.meta)

    def runs_as_local_activity(self) -> bool:
        """Whether `meta.temporal.activity.local` is true: calls are Temporal local activities."""
        temporal = self.meta.get("temporal")
        section = temporal.get("activity") if isinstance(temporal, Mapping) else None
        value = section.get("local") if isinstance(section, Mapping) else None
        return self.meta.get("temporal.activity.local", value) is True

    def references(self) -> list[Reference]:
        """Every reference this entry makes to other entries."""
        refs: list[Reference] = []
        for role in _ROLES:
            found = _meta_worker(self.meta, role)
            if found is not None and isinstance(found[1], str):
                refs.append(Reference(found[0], found[1], ("temporal.worker",)))
        return refs


# --- Lua ------------------------------------------------------------------------------------


class LuaLimits(_Strict):
    """Resource limits of one Lua state."""

    max_memory: ByteSize | None = Field(
        default=None,
        description="Memory the Lua state may allocate: bytes, or a string like '64MiB'.",
    )
    max_instructions: int | None = Field(
        default=None,
        gt=0,
        description="Lua instructions allowed per uninterrupted slice of execution "
        "(between two intercepted calls).",
    )
    park_after: DurationOrNever | None = Field(
        default=None,
        description="How long a waiting workflow keeps its Lua state in memory before the "
        "state is parked (dropped, and rebuilt from the values the run was resumed with when "
        "the workflow goes on): a duration like '10s' (the default), '0s' to park at every "
        "wait, or 'never'.",
        json_schema_extra={"default": "10s"},
    )


class LuaEntry(Entry):
    """Fields of entries whose code is a Lua file."""

    source: str = Field(
        description="The Lua file, as `file://relative/path.lua` relative to this YAML file.",
        json_schema_extra={"pattern": "^file://.+"},
    )
    modules: list[str] = Field(
        default_factory=list, description="Modules the code may `require` (e.g. funcs, time)."
    )
    imports: dict[str, str] = Field(
        default_factory=dict,
        description="Local module name -> library.lua entry (full ID or bare name).",
    )

    @field_validator("source")
    @classmethod
    def _check_source(cls, value: str) -> str:
        if not value.startswith(_FILE_URL) or not value[len(_FILE_URL) :].strip():
            raise ValueError(f"invalid source {value!r}: expected 'file://relative/path.lua'")
        return value

    @field_validator("imports")
    @classmethod
    def _check_imports(cls, value: dict[str, str]) -> dict[str, str]:
        for local in value:
            if not _LUA_NAME_RE.match(local):
                raise ValueError(f"invalid import name {local!r}: must be a Lua identifier")
        return value

    def source_path(self) -> Path:
        """The Lua file, resolved against the folder of the entry's YAML file."""
        return self.base_dir / self.source[len(_FILE_URL) :]

    def code_file(self) -> Path | None:
        """The Lua file (`source_path`)."""
        return self.source_path()

    def references(self) -> list[Reference]:
        """Every reference this entry makes to other entries."""
        refs = super().references()
        for local, ref in self.imports.items():
            refs.append(Reference(("imports", local), ref, ("library.lua",)))
        return refs


def _mailbox_bound() -> Any:
    return Field(
        default=DEFAULT_MAILBOX_BOUND,
        ge=1,
        description=(
            "Unreceived messages the workflow keeps; past it, senders outside workflows get "
            "RATE_LIMITED and nothing is sent."
        ),
    )


class LuaProgramEntry(LuaEntry):
    """Fields of Lua entries that run: a method and limits."""

    method: str = Field(
        default="main",
        description="The function to run; the file returns it or a table of functions.",
    )
    limits: LuaLimits | None = Field(default=None, description="Resource limits.")


class WorkflowLuaEntry(LuaProgramEntry):
    """A workflow written in Lua (`workflow.lua`)."""

    kind: Literal["workflow.lua"] = _kind("workflow.lua")
    mailbox_bound: int = _mailbox_bound()


class FunctionLuaEntry(LuaProgramEntry):
    """A function written in Lua (`function.lua`), called from workflows as an activity."""

    kind: Literal["function.lua"] = _kind("function.lua")


class LibraryLuaEntry(LuaEntry):
    """A Lua module other entries import (`library.lua`)."""

    kind: Literal["library.lua"] = _kind("library.lua")


def _check_process_activity(entry: Entry) -> None:
    """Check `meta.temporal.activity` of a process entry (a process registered as an activity).

    Raises:
        ValueError: The section has no `worker`, or asks for a local activity.
    """
    if not entry.registered_as_activity():
        return
    if entry.worker_ref("activity") is None:
        raise ValueError(
            "meta.temporal.activity of a process entry needs worker: the temporal.worker that "
            "runs the process as an activity (Wippy's docs require it)"
        )
    if entry.runs_as_local_activity():
        raise ValueError(
            "meta.temporal.activity.local: true is not supported for a process entry: a "
            "process registered as an activity is for long-running work, which a local "
            "activity (no heartbeats, retried within one workflow task) cannot carry; make it "
            "a function entry, or remove local"
        )


class ProcessLuaEntry(LuaProgramEntry):
    """A process written in Lua (`process.lua`): a non-durable actor on a `process.host`.

    With `meta.temporal.activity.worker` it is also an activity on that worker:
    `funcs.call(entry)` runs its method once, as a function runs.
    """

    kind: Literal["process.lua"] = _kind("process.lua")
    mailbox_bound: int = _mailbox_bound()

    @model_validator(mode="after")
    def _check_activity(self) -> Self:
        _check_process_activity(self)
        return self


# --- Python ---------------------------------------------------------------------------------


class PythonEntry(Entry):
    """Fields of entries whose code is a Python callable."""

    module: str = Field(
        description="Importable module name; the project folder is put on sys.path.",
        json_schema_extra={"pattern": _MODULE_RE.pattern},
    )
    method: str = Field(
        description="The callable's name in the module (dots reach into classes).",
        json_schema_extra={"pattern": _MODULE_RE.pattern},
    )

    _target: Callable[..., Any] | None = PrivateAttr(default=None)
    _decorated: bool = PrivateAttr(default=False)

    @field_validator("module", "method")
    @classmethod
    def _check_dotted(cls, value: str) -> str:
        if not _MODULE_RE.match(value):
            raise ValueError(f"invalid Python name {value!r}")
        return value

    @property
    def decorated(self) -> bool:
        """Whether the entry was registered by a decorator rather than written in YAML."""
        return self._decorated


class WorkflowPyEntry(PythonEntry):
    """A workflow written in Python (`workflow.py`)."""

    kind: Literal["workflow.py"] = _kind("workflow.py")
    sandboxed: bool = Field(
        default=True, description="Run the workflow in Temporal's import sandbox."
    )
    mailbox_bound: int = _mailbox_bound()


class FunctionPyEntry(PythonEntry):
    """A function written in Python (`function.py`), called from workflows as an activity."""

    kind: Literal["function.py"] = _kind("function.py")


class ProcessPyEntry(PythonEntry):
    """A process written in Python (`process.py`): a non-durable actor on a `process.host`.

    With `meta.temporal.activity.worker` it is also an activity on that worker:
    `funcs.call(entry)` runs its method once, as a function runs.
    """

    kind: Literal["process.py"] = _kind("process.py")
    mailbox_bound: int = _mailbox_bound()

    @model_validator(mode="after")
    def _check_activity(self) -> Self:
        _check_process_activity(self)
        return self


# --- Temporal ---------------------------------------------------------------------------------


class TemporalAuth(_Strict):
    """How a client authenticates."""

    type: Literal["none", "api_key", "mtls"] = Field(default="none", description="Method.")
    api_key: str | None = Field(default=None, description="The API key itself.")
    api_key_file: str | None = Field(default=None, description="File holding the API key.")
    api_key_env: str | None = Field(
        default=None, description="Environment variable holding the API key."
    )
    cert_file: str | None = Field(default=None, description="Client certificate (mTLS).")
    key_file: str | None = Field(default=None, description="Client private key (mTLS).")
    cert_pem: str | None = Field(
        default=None, description="Client certificate as PEM text (mTLS; instead of cert_file)."
    )
    key_pem: str | None = Field(
        default=None, description="Client private key as PEM text (mTLS; instead of key_file)."
    )
    key_pem_env: str | None = Field(
        default=None,
        description="Deprecated: environment variable holding key_pem (use ${env:NAME}).",
    )

    @model_validator(mode="after")
    def _check_combination(self) -> Self:
        key_fields = [
            name for name in ("api_key", "api_key_file", "api_key_env") if getattr(self, name)
        ]
        cert_fields = [
            name
            for name in ("cert_file", "key_file", "cert_pem", "key_pem", "key_pem_env")
            if getattr(self, name)
        ]
        if self.type == "none":
            if key_fields or cert_fields:
                raise ValueError(
                    f"auth type is 'none' but {', '.join(key_fields + cert_fields)} "
                    "is set (set type: api_key or type: mtls)"
                )
        elif self.type == "api_key":
            if len(key_fields) != 1:
                found = ", ".join(key_fields) if key_fields else "none"
                raise ValueError(
                    "auth type 'api_key' needs exactly one of api_key, api_key_file, "
                    f"api_key_env (found: {found})"
                )
            if cert_fields:
                raise ValueError(f"auth type 'api_key' does not use {', '.join(cert_fields)}")
        else:
            missing = []
            if not (self.cert_file or self.cert_pem):
                missing.append("cert_file (or cert_pem)")
            if not (self.key_file or self.key_pem or self.key_pem_env):
                missing.append("key_file (or key_pem)")
            if missing:
                raise ValueError(f"auth type 'mtls' needs {' and '.join(missing)}")
            if key_fields:
                raise ValueError(f"auth type 'mtls' does not use {', '.join(key_fields)}")
        return self


class TemporalTLS(_Strict):
    """TLS settings of a client connection."""

    enabled: bool = Field(default=False, description="Connect with TLS.")
    ca_file: str | None = Field(
        default=None, description="CA certificate to verify the server with."
    )
    server_name: str | None = Field(default=None, description="Server name for SNI.")
    insecure_skip_verify: bool = Field(
        default=False,
        description="Only false: temporalio always verifies the server's certificate.",
    )

    @field_validator("insecure_skip_verify")
    @classmethod
    def _check_verify(cls, value: bool) -> bool:
        if value:
            raise ValueError(
                "insecure_skip_verify: true is not supported (temporalio always verifies the "
                "server); give the server's CA with tls.ca_file instead"
            )
        return value


class HealthCheck(_Strict):
    """Wippy's client health check: keep-alive pings on the connection."""

    enabled: bool = Field(default=False, description="Check the connection periodically.")
    interval: Duration | None = Field(
        default=None, description="How often (the keep-alive interval when enabled)."
    )


class TemporalClientEntry(Entry, ProductionClientFields):
    """A connection to a Temporal service (`temporal.client`).

    In Python, the YAML field `namespace` (the Temporal namespace) is the attribute
    `temporal_namespace`: `namespace` is the entry's own namespace, as on every entry.
    """

    model_config = ConfigDict(
        json_schema_extra={"description": "A connection to a Temporal service."}
    )

    kind: Literal["temporal.client"] = _kind("temporal.client")
    address: str = Field(default="127.0.0.1:7233", description="The frontend, host:port.")
    temporal_namespace: str = Field(
        default="default", alias="namespace", description="The Temporal namespace."
    )
    tq_prefix: str = Field(
        default="", description="Prefix added to the task queue of every worker on this client."
    )
    connection_timeout: Duration = Field(
        default=timedelta(seconds=10),
        description="How long to try to connect.",
        json_schema_extra={"default": "10s"},
    )
    keep_alive_time: Duration | None = Field(
        default=None,
        description="Interval of keep-alive pings on the connection.",
        json_schema_extra={"default": "30s"},
    )
    keep_alive_timeout: Duration | None = Field(
        default=None,
        description="How long a keep-alive ping may go unanswered.",
        json_schema_extra={"default": "15s"},
    )
    health_check: HealthCheck = Field(
        default_factory=HealthCheck,
        description="Periodic connection checks (keep-alive pings at `interval`).",
    )
    auth: TemporalAuth = Field(default_factory=TemporalAuth, description="Authentication.")
    tls: TemporalTLS = Field(default_factory=TemporalTLS, description="TLS.")
    lifecycle: dict[str, Any] = Field(default_factory=dict, description="Lifecycle settings.")

    @field_validator("address")
    @classmethod
    def _check_address(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"invalid address {value!r}: expected host:port")
        return value


class WorkerLifecycle(_Strict):
    """When a worker runs."""

    auto_start: bool = Field(default=True, description="Start the worker with the project.")


def _worker_option(temporalio_name: str, description: str, **bounds: Any) -> Any:
    """An optional worker option, tagged with the `temporalio.worker.Worker` argument it sets."""
    return Field(
        default=None,
        description=description,
        json_schema_extra={"x-temporalio": temporalio_name},
        **bounds,
    )


class WorkerOptions(_Strict):
    """Tuning of a Temporal worker (Go SDK names, snake_case)."""

    max_concurrent_activity_execution_size: int | None = _worker_option(
        "max_concurrent_activities", "Activities run at the same time.", gt=0
    )
    max_concurrent_local_activity_execution_size: int | None = _worker_option(
        "max_concurrent_local_activities", "Local activities run at the same time.", gt=0
    )
    max_concurrent_workflow_task_execution_size: int | None = _worker_option(
        "max_concurrent_workflow_tasks", "Workflow tasks run at the same time.", gt=0
    )
    max_concurrent_activity_task_pollers: int | None = _worker_option(
        "max_concurrent_activity_task_polls", "Activity task pollers.", gt=0
    )
    max_concurrent_workflow_task_pollers: int | None = _worker_option(
        "max_concurrent_workflow_task_polls", "Workflow task pollers.", gt=0
    )
    max_cached_workflows: int | None = _worker_option(
        "max_cached_workflows", "Workflows kept in the sticky cache.", ge=0
    )
    worker_activities_per_second: float | None = _worker_option(
        "max_activities_per_second",
        "Activities this worker starts per second (0: unlimited).",
        ge=0,
    )
    task_queue_activities_per_second: float | None = _worker_option(
        "max_task_queue_activities_per_second",
        "Activities started per second on the whole task queue (0: unlimited).",
        ge=0,
    )
    worker_local_activities_per_second: float | None = _worker_option(
        "", "Local activities per second: only 0 (unlimited); temporalio has no such limit.", ge=0
    )
    max_concurrent_session_execution_size: int | None = _worker_option(
        "", "Go SDK sessions; accepted for Wippy configs, temporalio has no sessions.", gt=0
    )
    max_concurrent_eager_activity_execution_size: int | None = _worker_option(
        "max_eager_activity_reservations_per_workflow_task",
        "Eager activities reserved per workflow task (0: eager execution off).",
        ge=0,
    )
    deadlock_detection_timeout: Duration | None = _worker_option(
        "", "Only 0s (temporalio's fixed 2s detection); other values are refused."
    )
    enable_logging_in_replay: bool | None = _worker_option(
        "", "Only false: wflow's workflow logs are skipped during replay."
    )
    enable_session_worker: bool | None = _worker_option(
        "", "Only false: temporalio has no Go-style sessions."
    )
    disable_workflow_worker: bool | None = _worker_option(
        "", "Run no workflows on this worker (functions only)."
    )
    local_activity_worker_only: bool | None = _worker_option(
        "no_remote_activities", "Run no activities from the task queue (local ones only)."
    )
    disable_eager_activities: bool | None = _worker_option(
        "disable_eager_activity_execution", "Never run activities eagerly."
    )
    disable_registration_aliasing: bool | None = _worker_option(
        "", "Accepted: wflow registers every entry under its ID only, never an alias."
    )
    deployment_name: str | None = _worker_option(
        "", "Worker deployment name (with build_id: Temporal worker versioning)."
    )
    build_id: str | None = _worker_option("build_id", "Build ID of this worker's code.")
    build_id_env: str | None = _worker_option(
        "", "Deprecated: environment variable holding the build ID (use ${env:NAME})."
    )
    use_versioning: bool | None = _worker_option(
        "use_worker_versioning", "Opt in to Temporal worker versioning."
    )
    default_versioning_behavior: Literal["pinned", "auto_upgrade"] | None = _worker_option(
        "", "How new runs pick a build: pinned or auto_upgrade (needs deployment_name)."
    )
    sticky_schedule_to_start_timeout: Duration | None = _worker_option(
        "sticky_queue_schedule_to_start_timeout", "Sticky queue schedule-to-start timeout."
    )
    worker_stop_timeout: Duration | None = _worker_option(
        "graceful_shutdown_timeout", "Grace period for running activities at shutdown."
    )
    max_heartbeat_throttle_interval: Duration | None = _worker_option(
        "max_heartbeat_throttle_interval",
        "Longest interval between heartbeats sent to the server.",
    )
    default_heartbeat_throttle_interval: Duration | None = _worker_option(
        "default_heartbeat_throttle_interval",
        "Heartbeat interval when the activity has no timeout.",
    )
    identity: str | None = _worker_option("identity", "The worker's identity.")

    @model_validator(mode="after")
    def _check_supported(self) -> Self:
        # Wippy's Go-SDK options temporalio cannot honour: accepted at their neutral value,
        # refused otherwise, never silently ignored.
        refused = {
            "worker_local_activities_per_second": bool(self.worker_local_activities_per_second),
            "deadlock_detection_timeout": bool(self.deadlock_detection_timeout),
            "enable_logging_in_replay": self.enable_logging_in_replay is True,
            "enable_session_worker": self.enable_session_worker is True,
            "max_concurrent_session_execution_size": (
                self.max_concurrent_session_execution_size is not None
                and self.enable_session_worker is True
            ),
        }
        for name, bad in refused.items():
            if bad:
                raise ValueError(
                    f"{name}: not supported on wflow's Python workers (temporalio has no "
                    "equivalent); leave it out or at its default (0 / false)"
                )
        if self.default_versioning_behavior is not None and not self.deployment_name:
            raise ValueError("default_versioning_behavior needs deployment_name")
        return self

    def to_temporalio_kwargs(self) -> dict[str, Any]:
        """The options that are set, as keyword arguments of `temporalio.worker.Worker`.

        Rates of 0 mean unlimited (Wippy's convention), so they are left to temporalio's
        default; options tagged with no temporalio argument are handled here or refused by
        the validator.
        """
        kwargs: dict[str, Any] = {}
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            extra = field.json_schema_extra
            assert isinstance(extra, dict)
            target = str(extra["x-temporalio"])
            if value is None or not target:
                continue
            if name.endswith("_per_second") and value == 0:
                continue
            kwargs[target] = value
        build_id = self.build_id or (
            os.environ.get(self.build_id_env) if self.build_id_env else None
        )
        if build_id:
            kwargs["build_id"] = build_id
        if self.deployment_name:
            kwargs.pop("build_id", None)
            kwargs.pop("use_worker_versioning", None)
            kwargs["deployment_config"] = _deployment_config(
                self.deployment_name,
                build_id or "",
                bool(self.use_versioning),
                self.default_versioning_behavior,
            )
        return kwargs


def _deployment_config(name: str, build_id: str, use_versioning: bool, behavior: str | None) -> Any:
    # Imported here: the registry is imported by processes that never start a worker.
    from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
    from temporalio.worker import WorkerDeploymentConfig

    behaviors = {
        None: VersioningBehavior.UNSPECIFIED,
        "pinned": VersioningBehavior.PINNED,
        "auto_upgrade": VersioningBehavior.AUTO_UPGRADE,
    }
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(deployment_name=name, build_id=build_id),
        use_worker_versioning=use_versioning,
        default_versioning_behavior=behaviors[behavior],
    )


class TemporalWorkerEntry(Entry):
    """A Temporal worker polling one task queue (`temporal.worker`)."""

    kind: Literal["temporal.worker"] = _kind("temporal.worker")
    client: str | None = Field(
        default=None, description="The temporal.client entry to connect with (ID or bare name)."
    )
    task_queue: str = Field(min_length=1, description="The task queue to poll.")
    lifecycle: WorkerLifecycle = Field(
        default_factory=WorkerLifecycle, description="When the worker runs."
    )
    worker_options: WorkerOptions = Field(
        default_factory=WorkerOptions, description="Worker tuning."
    )

    def references(self) -> list[Reference]:
        """Every reference this entry makes to other entries."""
        refs = super().references()
        if self.client is not None:
            refs.append(Reference(("client",), self.client, ("temporal.client",)))
        return refs


# --- schedules (fields in _production_schema) ---------------------------------------------


class TemporalScheduleEntry(Entry, ScheduleFields):
    """A Temporal schedule that starts a workflow entry (`temporal.schedule`).

    Created or updated on the cluster when a worker starts (`wflow worker`, `wflow dev`) or by
    `wflow schedule sync`.
    """

    kind: Literal["temporal.schedule"] = _kind("temporal.schedule")

    @property
    def cluster_id(self) -> str:
        """The schedule's ID on the cluster: `schedule_id`, else the entry ID."""
        return self.schedule_id or self.id

    def references(self) -> list[Reference]:
        """Every reference this entry makes to other entries."""
        refs = super().references()
        refs.append(Reference(("workflow",), self.workflow, WORKFLOW_KINDS))
        if self.worker is not None:
            refs.append(Reference(("worker",), self.worker, ("temporal.worker",)))
        return refs

    def search_attribute_problems(self, declared: Mapping[str, str]) -> list[str]:
        """What is wrong with `search_attributes` given the declared ones (name -> type)."""
        problems = []
        for name, value in self.search_attributes.items():
            if name not in declared:
                known = ", ".join(sorted(declared)) or "none"
                problems.append(
                    f"search attribute {name!r} is not declared on the temporal.client "
                    f"(declared: {known})"
                )
                continue
            problem = search_attribute_problem(name, declared[name], value)
            if problem is not None:
                problems.append(problem)
        return problems


# --- process hosts and supervised services -------------------------------------------------


class RestartPolicy(_Strict):
    """How a supervised process is restarted after it fails."""

    initial_delay: Duration | None = Field(default=None, description="Delay before the first.")
    max_delay: Duration | None = Field(default=None, description="Upper bound of the delay.")
    backoff_factor: float | None = Field(
        default=None, gt=0, description="Factor applied to the delay after each restart."
    )
    jitter: float | None = Field(
        default=None, ge=0, le=1, description="Random fraction added to each delay (0..1)."
    )
    max_attempts: int | None = Field(
        default=None,
        ge=0,
        description=(
            "Restarts in all (default 10, so a service that cannot start gives up); "
            "0 means unlimited."
        ),
    )


class ServiceLifecycle(_Strict):
    """When a supervised process runs and how it restarts."""

    auto_start: bool = Field(default=True, description="Start with the project.")
    restart: RestartPolicy | None = Field(default=None, description="Restart policy.")
    depends_on: list[str] = Field(default_factory=list, description="Entries started first.")


class HostSettings(_Strict):
    """Settings of a `process.host`."""

    max_processes: int = Field(
        default=10_000, ge=1, description="Processes the host runs at once; more spawns fail."
    )
    on_service_exhausted: Literal["stay_down", "stop_host"] = Field(
        default="stay_down",
        description="What a service that used up its restarts does: stay down or stop its host.",
    )


class ProcessHostEntry(Entry):
    """A host of processes (`process.host`), run inside `wflow worker` / `wflow dev` / `run`."""

    kind: Literal["process.host"] = _kind("process.host")
    host: HostSettings = Field(default_factory=HostSettings, description="Host settings.")
    lifecycle: ServiceLifecycle = Field(
        default_factory=ServiceLifecycle, description="When the host runs."
    )


class ProcessServiceEntry(Entry):
    """A supervised process (`process.service`): started, watched and restarted by its host."""

    kind: Literal["process.service"] = _kind("process.service")
    process: str = Field(description="The process entry to run (ID or bare name).")
    host: str = Field(description="The process.host entry to run it on (ID or bare name).")
    input: list[Any] = Field(default_factory=list, description="Arguments of the process.")
    lifecycle: ServiceLifecycle = Field(
        default_factory=ServiceLifecycle, description="When it runs and how it restarts."
    )

    def references(self) -> list[Reference]:
        """Every reference this entry makes to other entries."""
        refs = super().references()
        refs.append(Reference(("process",), self.process, PROCESS_KINDS))
        refs.append(Reference(("host",), self.host, ("process.host",)))
        for index, dep in enumerate(self.lifecycle.depends_on):
            refs.append(Reference(("lifecycle", "depends_on", index), dep, KINDS))
        return refs


# --- all kinds ------------------------------------------------------------------------------

ENTRY_TYPES: dict[str, type[Entry]] = {
    model.KIND: model
    for model in (
        WorkflowLuaEntry,
        FunctionLuaEntry,
        LibraryLuaEntry,
        WorkflowPyEntry,
        FunctionPyEntry,
        ProcessPyEntry,
        TemporalClientEntry,
        TemporalWorkerEntry,
        TemporalScheduleEntry,
        ProcessLuaEntry,
        ProcessHostEntry,
        ProcessServiceEntry,
    )
}
"""The model of each kind."""

KINDS: tuple[str, ...] = tuple(ENTRY_TYPES)
WORKFLOW_KINDS: tuple[str, ...] = ("workflow.lua", "workflow.py")
"""Kinds a workflow can be written as."""
FUNCTION_KINDS: tuple[str, ...] = ("function.lua", "function.py")
"""Kinds a function (an activity) can be written as."""
PROCESS_KINDS: tuple[str, ...] = ("process.lua", "process.py")
"""Kinds a process (a non-durable actor on a `process.host`) can be written as."""
"""Every kind an entry may have."""

AnyEntry = Annotated[
    Union[  # noqa: UP007 - a discriminated union needs the typing form here
        WorkflowLuaEntry,
        FunctionLuaEntry,
        LibraryLuaEntry,
        WorkflowPyEntry,
        FunctionPyEntry,
        ProcessPyEntry,
        TemporalClientEntry,
        TemporalWorkerEntry,
        TemporalScheduleEntry,
        ProcessLuaEntry,
        ProcessHostEntry,
        ProcessServiceEntry,
    ],
    Field(discriminator="kind"),
]
"""Any entry, discriminated on `kind`."""
