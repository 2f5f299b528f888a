"""The registry: every entry of a project by ID, with reference resolution and worker rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeVar, Union

from wflow.model import ErrorKind, WflowError
from wflow.registry._decorated import unwrap_target
from wflow.registry._problems import ConfigError, Problem, sort_problems
from wflow.registry._python import ImportProblem, find_target, import_target
from wflow.registry._reference_checks import registry_problems
from wflow.registry._schema import (
    FUNCTION_KINDS,
    PROCESS_KINDS,
    Entry,
    FunctionLuaEntry,
    FunctionPyEntry,
    LibraryLuaEntry,
    PythonEntry,
    TemporalClientEntry,
    TemporalScheduleEntry,
    TemporalWorkerEntry,
    WorkflowLuaEntry,
    WorkflowPyEntry,
    split_id,
)
from wflow.registry._suggestions import suggest_entry, suggest_name

__all__ = ["FunctionEntry", "Registry", "Role", "WorkflowEntry"]

Role = Literal["workflow", "activity"]
WorkflowEntry = Union[WorkflowLuaEntry, WorkflowPyEntry]  # noqa: UP007
"""A workflow entry of either language."""
FunctionEntry = Union[FunctionLuaEntry, FunctionPyEntry]  # noqa: UP007
"""A function entry of either language."""

_E = TypeVar("_E", bound=Entry)


def _where(entry: Entry) -> str:
    if entry.file is not None:
        return f"{entry.file}:{entry.line}" if entry.line is not None else str(entry.file)
    return "code"


class Registry:
    """Every entry of a project, by ID.

    Built by `load_project` from definition files and decorators, or in code:
    `Registry([WorkflowLuaEntry(name="w", source="file://w.lua").place("app")])`.

    Attributes:
        root: The project folder, or None for a registry built in code.
    """

    def __init__(self, entries: Iterable[Entry] = (), *, root: str | Path | None = None) -> None:
        """Build a registry and check it.

        Args:
            entries: Placed entries (see `Entry.place`).
            root: The project folder; relative paths of entries without a file resolve
                against it.

        Raises:
            ConfigError: Duplicate IDs, unplaced entries or bad references.
        """
        self.root: Path | None = None if root is None else Path(root)
        self._entries: dict[str, Entry] = {}
        problems = self._add(entries)
        problems += self.check()
        if problems:
            raise ConfigError(sort_problems(problems))

    @classmethod
    def collect(
        cls, entries: Iterable[Entry], *, root: str | Path | None = None
    ) -> tuple[Registry, list[Problem]]:
        """Build a registry without raising: later duplicates are left out and reported.

        Returns:
            The registry and the problems found (duplicates and references).
        """
        registry = cls.__new__(cls)
        registry.root = None if root is None else Path(root)
        registry._entries = {}
        problems = registry._add(entries)
        problems += registry.check()
        return registry, problems

    def _add(self, entries: Iterable[Entry]) -> list[Problem]:
        problems: list[Problem] = []
        for entry in entries:
            if not entry.namespace:
                problems.append(
                    Problem(None, None, "entry has no namespace (call place())", entry.name)
                )
                continue
            if self.root is not None and entry.file is None and entry._base_dir is None:
                entry._base_dir = self.root
            existing = self._entries.get(entry.id)
            if existing is not None:
                problems.append(
                    Problem(
                        entry.file,
                        entry.line,
                        f"duplicate entry ID '{entry.id}': already defined at {_where(existing)}",
                        entry.id,
                    )
                )
                continue
            self._entries[entry.id] = entry
        return problems

    # --- checks ---

    def check(self) -> list[Problem]:
        """Check every reference between entries; return the problems found."""
        return registry_problems(self)

    def suggest(self, entry_id: str, kinds: Sequence[str] | None = None) -> str:
        """Return ` (did you mean 'a', 'b'?)` naming entries close to `entry_id`, or `""`.

        The registry's own messages (`get`, `resolve`) end with it; checks elsewhere use it
        so that every "no entry" message suggests alike.

        Args:
            entry_id: A full entry ID that does not exist.
            kinds: If given, suggest only entries of these kinds.
        """
        return suggest_entry(self._entries, entry_id, kinds)

    @staticmethod
    def suggest_name(name: str, known: Iterable[str]) -> str:
        """Return ` (did you mean 'a'?)` naming the words of `known` closest to `name`, or `""`.

        The same wording as `suggest`, for names that are not entry IDs (a module's
        functions, say).
        """
        return suggest_name(name, known)

    # --- lookup ---

    @property
    def entries(self) -> Mapping[str, Entry]:
        """Every entry by ID, in definition order (read-only)."""
        return MappingProxyType(self._entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, entry_id: str) -> Entry:
        """The entry with this ID.

        Raises:
            WflowError: `NOT_FOUND`, naming close matches.
        """
        entry = self._entries.get(entry_id)
        if entry is None:
            raise WflowError(f"no entry '{entry_id}'{self.suggest(entry_id)}", ErrorKind.NOT_FOUND)
        return entry

    def resolve(self, ref: str, namespace: str, kinds: Sequence[str] | None = None) -> str:
        """Resolve a reference (full ID, or bare name in `namespace`) to an existing entry's ID.

        Args:
            ref: `namespace:name` or `name`.
            namespace: The namespace a bare name resolves in (the referring entry's).
            kinds: If given, the kinds the entry may have.

        Raises:
            WflowError: `NOT_FOUND` when no such entry exists, `INVALID` when it has another
                kind or the reference is malformed.
        """
        full = ref if ":" in ref else f"{namespace}:{ref}"
        split_id(full)
        entry = self._entries.get(full)
        if entry is None:
            raise WflowError(f"no entry '{full}'{self.suggest(full, kinds)}", ErrorKind.NOT_FOUND)
        if kinds is not None and entry.kind not in kinds:
            raise WflowError(
                f"'{full}' is a {entry.kind} entry, expected {' or '.join(kinds)}",
                ErrorKind.INVALID,
            )
        return full

    def of_kind(self, *kinds: str) -> list[Entry]:
        """Every entry of the given kinds, in definition order."""
        return [entry for entry in self._entries.values() if entry.kind in kinds]

    def _of_type(self, model: type[_E] | tuple[type[_E], ...]) -> list[_E]:
        return [entry for entry in self._entries.values() if isinstance(entry, model)]

    def workflows(self) -> list[WorkflowEntry]:
        """Every workflow entry (`workflow.lua`, `workflow.py`)."""
        return [
            entry
            for entry in self._entries.values()
            if isinstance(entry, (WorkflowLuaEntry, WorkflowPyEntry))
        ]

    def workflow_of_type(self, workflow_type: str) -> WorkflowEntry | None:
        """Return the workflow entry whose Temporal workflow type is `workflow_type`, or None.

        The type is the entry ID unless `meta.temporal.workflow.name` gives another.
        """
        for entry in self.workflows():
            if entry.workflow_type() == workflow_type:
                return entry
        return None

    def functions(self) -> list[FunctionEntry]:
        """Every function entry (`function.lua`, `function.py`)."""
        return [
            entry
            for entry in self._entries.values()
            if isinstance(entry, (FunctionLuaEntry, FunctionPyEntry))
        ]

    def processes_as_activities(self) -> list[Entry]:
        """Every process entry registered as an activity (`meta.temporal.activity`)."""
        return [
            entry
            for entry in self._entries.values()
            if entry.kind in PROCESS_KINDS and entry.registered_as_activity()
        ]

    def activity_entry(self, ref: str, namespace: str) -> Entry:
        """The entry a function call (`funcs.call(ref)`) runs as an activity.

        That is a function entry, or a process entry registered as an activity (Wippy's
        "process.lua entries can also be registered as activities").

        Raises:
            WflowError: `NOT_FOUND` for no such entry; `INVALID` for another kind, or a process
                without `meta.temporal.activity` (the message says how to fix it).
        """
        try:
            return self.get(self.resolve(ref, namespace, FUNCTION_KINDS))
        except WflowError as exc:
            if exc.kind is not ErrorKind.INVALID:
                raise
            try:
                entry = self.get(self.resolve(ref, namespace))
            except WflowError:
                raise exc from None
            if entry.kind not in PROCESS_KINDS:
                raise
            if entry.registered_as_activity():
                return entry
            raise WflowError(
                f"'{entry.id}' is a {entry.kind} entry that is not registered as an activity: "
                "give it meta.temporal.activity.worker to call it as a function, or start it "
                "with process.spawn",
                ErrorKind.INVALID,
            ) from None

    def libraries(self) -> list[LibraryLuaEntry]:
        """Every `library.lua` entry."""
        return self._of_type(LibraryLuaEntry)

    def workers(self) -> list[TemporalWorkerEntry]:
        """Every `temporal.worker` entry."""
        return self._of_type(TemporalWorkerEntry)

    def schedules(self) -> list[TemporalScheduleEntry]:
        """Every `temporal.schedule` entry."""
        return self._of_type(TemporalScheduleEntry)

    def search_attribute_types(self) -> dict[str, str]:
        """Custom search attributes the project's clients declare: name -> type."""
        declared: dict[str, str] = {}
        for client in self.clients():
            declared.update(client.search_attributes)
        return declared

    def clients(self) -> list[TemporalClientEntry]:
        """Every `temporal.client` entry."""
        return self._of_type(TemporalClientEntry)

    # --- workers ---

    def worker_of(self, entry: str | Entry, role: Role) -> TemporalWorkerEntry:
        """The worker an entry runs on as a workflow or as an activity.

        `meta.temporal.<role>.worker` names it; without that meta, a project with exactly one
        `temporal.worker` runs every entry on it (SPEC §3).

        Args:
            entry: The entry or its ID.
            role: `"workflow"` or `"activity"`.

        Raises:
            WflowError: `NOT_FOUND` for an unknown entry or worker, `INVALID` when no worker
                can be chosen.
        """
        if role not in ("workflow", "activity"):
            raise WflowError(
                f"invalid role {role!r}: expected 'workflow' or 'activity'", ErrorKind.INVALID
            )
        found = self.get(entry) if isinstance(entry, str) else entry
        ref = found.worker_ref(role)
        if ref is not None:
            worker = self.get(self.resolve(ref, found.namespace, ("temporal.worker",)))
            assert isinstance(worker, TemporalWorkerEntry)
            return worker
        workers = self.workers()
        if len(workers) == 1:
            return workers[0]
        if not workers:
            raise WflowError(
                f"'{found.id}' cannot run as a {role}: the project has no temporal.worker entry",
                ErrorKind.INVALID,
            )
        names = ", ".join(worker.id for worker in workers)
        raise WflowError(
            f"'{found.id}' has no meta.temporal.{role}.worker and the project has "
            f"{len(workers)} temporal.worker entries ({names}); name one in its meta",
            ErrorKind.INVALID,
        )

    def _worker(self, worker: str | TemporalWorkerEntry) -> TemporalWorkerEntry:
        if isinstance(worker, TemporalWorkerEntry):
            return worker
        found = self.get(worker)
        if not isinstance(found, TemporalWorkerEntry):
            raise WflowError(
                f"'{worker}' is a {found.kind} entry, expected temporal.worker", ErrorKind.INVALID
            )
        return found

    def client_of(self, worker: str | TemporalWorkerEntry) -> TemporalClientEntry | None:
        """The client a worker connects with, or None when its `client` is not set."""
        found = self._worker(worker)
        if found.client is None:
            return None
        client = self.get(self.resolve(found.client, found.namespace, ("temporal.client",)))
        assert isinstance(client, TemporalClientEntry)
        return client

    def task_queue_of(self, worker: str | TemporalWorkerEntry) -> str:
        """The task queue a worker polls: its client's `tq_prefix` + its `task_queue`."""
        found = self._worker(worker)
        client = self.client_of(found)
        prefix = client.tq_prefix if client is not None else ""
        return prefix + found.task_queue

    def workflows_on(self, worker: str | TemporalWorkerEntry) -> list[WorkflowEntry]:
        """The workflows that run on a worker (see `worker_of`)."""
        found = self._worker(worker)
        return [entry for entry in self.workflows() if self._assigned(entry, "workflow", found.id)]

    def functions_on(self, worker: str | TemporalWorkerEntry) -> list[FunctionEntry]:
        """The functions that run on a worker as activities.

        A function with `meta.temporal.activity.worker` runs on that worker only; a function
        without it runs on every worker, since an activity runs on its caller's task queue.
        """
        found = self._worker(worker)
        return [
            entry
            for entry in self.functions()
            if entry.worker_ref("activity") is None or self._assigned(entry, "activity", found.id)
        ]

    def process_activities_on(self, worker: str | TemporalWorkerEntry) -> list[Entry]:
        """The process entries registered as activities on a worker (their meta names it)."""
        found = self._worker(worker)
        return [
            entry
            for entry in self.processes_as_activities()
            if self._assigned(entry, "activity", found.id)
        ]

    def _assigned(self, entry: Entry, role: Role, worker_id: str) -> bool:
        try:
            return self.worker_of(entry, role).id == worker_id
        except WflowError:
            return False

    # --- Python entries ---

    def python_target(self, entry: str | Entry, *, fresh: bool = False) -> Callable[..., Any]:
        """The Python callable of a `workflow.py` / `function.py` entry (imported if needed).

        A decorator's wrapper is unwrapped: this is the user's own function.

        Args:
            entry: The entry or its ID.
            fresh: Import the module again with the importer in effect now, instead of
                returning the callable found when the project loaded. Inside a workflow that
                importer is Temporal's sandbox, which loads the module anew under its
                restrictions. Errors of the import then propagate as raised.

        Raises:
            WflowError: `INVALID` for another kind or (unless `fresh`) when the callable
                cannot be imported.
        """
        found = self.get(entry) if isinstance(entry, str) else entry
        if not isinstance(found, PythonEntry):
            raise WflowError(
                f"'{found.id}' is a {found.kind} entry, not a Python entry", ErrorKind.INVALID
            )
        if fresh:
            return unwrap_target(find_target(found.module, found.method))
        try:
            return import_target(found, self.root)
        except ImportProblem as error:
            raise WflowError(str(error.problem), ErrorKind.INVALID) from error

    def __repr__(self) -> str:
        return f"Registry(root={self.root!r}, entries={len(self._entries)})"
