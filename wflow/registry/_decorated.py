"""The process-global table of entries registered by `@wflow.workflow` / `@wflow.function`."""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from wflow.model import DEFAULT_MAILBOX_BOUND, WflowError
from wflow.registry._problems import ConfigError, Problem
from wflow.registry._schema import (
    FunctionPyEntry,
    ProcessPyEntry,
    PythonEntry,
    WorkflowPyEntry,
    split_id,
)

__all__ = [
    "DecoratedEntry",
    "decorated_entries",
    "decorated_entry_of",
    "isolated_decorations",
    "register_decorated",
    "unwrap_target",
]

PythonKind = Literal["workflow.py", "function.py", "process.py"]


@dataclasses.dataclass(frozen=True)
class DecoratedEntry:
    """One decorated Python function.

    Attributes:
        kind: `workflow.py`, `function.py` or `process.py`.
        entry_id: The entry ID given to the decorator.
        fn: The decorated function (as passed to `register_decorated`).
        sandboxed: Whether a workflow runs in Temporal's import sandbox.
        worker: The worker reference given to the decorator, if any.
        mailbox_bound: For workflows: unreceived messages kept before senders are refused.
    """

    kind: PythonKind
    entry_id: str
    fn: Callable[..., Any]
    sandboxed: bool = True
    worker: str | None = None
    mailbox_bound: int = DEFAULT_MAILBOX_BOUND

    @property
    def origin(self) -> str:
        """`module.qualname` of the function."""
        return _origin(self.fn)

    def location(self) -> tuple[Path | None, int | None]:
        """The source file and line of the function, if known."""
        return _location(self.fn)

    def to_entry(self) -> PythonEntry:
        """The registry entry for this function, placed in its namespace."""
        namespace, name = split_id(self.entry_id)
        fn = unwrap_target(self.fn)
        meta: dict[str, Any] = {}
        if self.worker is not None:
            role = "workflow" if self.kind == "workflow.py" else "activity"
            meta = {"temporal": {role: {"worker": self.worker}}}
        module = str(getattr(fn, "__module__", "") or "__main__")
        method = str(getattr(fn, "__qualname__", getattr(fn, "__name__", "")))
        entry: PythonEntry
        if self.kind == "workflow.py":
            entry = WorkflowPyEntry.model_construct(
                name=name,
                module=module,
                method=method,
                sandboxed=self.sandboxed,
                mailbox_bound=self.mailbox_bound,
                meta=meta,
            )
        elif self.kind == "process.py":
            entry = ProcessPyEntry.model_construct(
                name=name, module=module, method=method, mailbox_bound=self.mailbox_bound
            )
        else:
            entry = FunctionPyEntry.model_construct(
                name=name, module=module, method=method, meta=meta
            )
        file, line = self.location()
        entry.place(namespace, file=file, line=line)
        entry._target = fn
        entry._decorated = True
        return entry


_lock = threading.Lock()
_table: dict[str, DecoratedEntry] = {}


def _origin(fn: Callable[..., Any]) -> str:
    fn = unwrap_target(fn)
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
    return f"{module}.{qualname}"


def _location(fn: Callable[..., Any]) -> tuple[Path | None, int | None]:
    fn = unwrap_target(fn)
    try:
        source = inspect.getsourcefile(fn)
    except TypeError:
        source = None
    code = getattr(fn, "__code__", None)
    line = getattr(code, "co_firstlineno", None)
    return (Path(source) if source else None), (line if isinstance(line, int) else None)


def unwrap_target(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The user's own function behind a decorator's wrapper (follows `__wrapped__`)."""
    seen: set[int] = set()
    while hasattr(fn, "__wrapped__") and id(fn) not in seen:
        seen.add(id(fn))
        fn = fn.__wrapped__
    return fn


def register_decorated(
    kind: PythonKind,
    entry_id: str,
    fn: Callable[..., Any],
    *,
    sandboxed: bool = True,
    worker: str | None = None,
    mailbox_bound: int = DEFAULT_MAILBOX_BOUND,
) -> None:
    """Register a decorated Python function as an entry (used by `@wflow.workflow` etc.).

    Registering the same ID again with a function of the same module and qualified name is a
    no-op (Temporal's sandbox re-imports user modules); the first registration stays.

    Args:
        kind: `workflow.py` or `function.py`.
        entry_id: The entry ID, `namespace:name`.
        fn: The function.
        sandboxed: For workflows: run in Temporal's import sandbox.
        worker: The temporal.worker entry (ID or bare name in the entry's namespace) the entry
            runs on; None for the project's default worker.
        mailbox_bound: For workflows: unreceived messages kept before senders are refused.

    Raises:
        ConfigError: The ID is malformed, or already registered for a different function or
            kind.
    """
    new = DecoratedEntry(kind, entry_id, fn, sandboxed, worker, mailbox_bound)
    file, line = new.location()
    if kind not in ("workflow.py", "function.py", "process.py"):
        raise ConfigError([Problem(file, line, f"invalid decorated kind {kind!r}", entry_id)])
    try:
        split_id(entry_id)
    except WflowError as error:
        raise ConfigError([Problem(file, line, error.message)]) from None
    with _lock:
        old = _table.get(entry_id)
        if old is None:
            _table[entry_id] = new
            _mark(fn, new)
            return
    if old.origin == new.origin and old.kind == new.kind:
        return
    old_file, old_line = old.location()
    where = f" at {old_file}:{old_line}" if old_file is not None else ""
    raise ConfigError(
        [
            Problem(
                file,
                line,
                f"entry ID already registered by {old.kind} {old.origin}{where}; "
                f"cannot register {kind} {new.origin} under the same ID",
                entry_id,
            )
        ]
    )


_MARK = "__wflow_decorated__"


def _mark(fn: Callable[..., Any], entry: DecoratedEntry) -> None:
    # The function remembers its own registration, so a project finds it in the module even
    # after the table was reset (tests) or when the module was imported before.
    with contextlib.suppress(AttributeError, TypeError):  # builtins refuse attributes
        setattr(fn, _MARK, entry)


def decorated_in_module(module: Any) -> list[DecoratedEntry]:
    """The decorated entries defined as attributes of `module`, in attribute order."""
    found: list[DecoratedEntry] = []
    for value in vars(module).values():
        entry = getattr(value, _MARK, None)
        if isinstance(entry, DecoratedEntry) and entry.fn is value:
            found.append(entry)
    return found


def decorated_entries() -> list[DecoratedEntry]:
    """A snapshot of every decorated entry, in registration order."""
    with _lock:
        return list(_table.values())


def decorated_entry_of(fn: Any) -> str | None:
    """The entry ID `fn` was decorated with, or None when it was not decorated."""
    marked = getattr(fn, "__wflow_entry__", None)
    if isinstance(marked, str):
        return marked
    if not callable(fn):
        return None
    target = unwrap_target(fn)
    with _lock:
        entries = list(_table.values())
    for entry in entries:
        if entry.fn is fn or entry.fn is target or unwrap_target(entry.fn) is target:
            return entry.entry_id
    origin = _origin(fn)
    for entry in entries:
        if entry.origin == origin:
            return entry.entry_id
    return None


@contextlib.contextmanager
def isolated_decorations() -> Iterator[None]:
    """Run a block with its own decorated-entry table, restoring the previous one after.

    Meant for tests: decorations made inside the block do not leak into other tests.
    """
    with _lock:
        saved = dict(_table)
    try:
        yield
    finally:
        with _lock:
            _table.clear()
            _table.update(saved)
