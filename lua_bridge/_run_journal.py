"""What a parked workflow keeps instead of its Lua state: the values it was resumed with.

A cached workflow that waits on Temporal for long holds its whole Lua state (~100-150 KiB)
for nothing. *Parking* drops the state and keeps this journal: every call Python made into
the state (start the entry, resume a coroutine, collect garbage) and every answer a host
call gave, in order. Rebuilding runs a fresh state through the same calls with the same
answers, which is what a Temporal replay does, without the history fetch and without
touching the runtime: no command is issued twice, no handler runs twice.

The values cross as `LuaBuild`s wherever they are Lua tables or objects: a Lua value belongs
to one state, so the journal keeps how to build it (from the Python value) and builds it
again in the new state, at the same point of the run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import lupa.lua54 as lupa54

__all__ = [
    "GC",
    "OUT",
    "START",
    "STEP",
    "JournalReplay",
    "LuaBuild",
    "RunJournal",
    "build_answer",
    "build_values",
]

_UNSET: Final = object()


class LuaBuild:
    """A Lua value built in the run's current state when it crosses into Lua.

    Handlers return one where they would return a Lua table or object: the value is built
    at the crossing (a step's arguments, a host call's answer), inside the run's lock, and
    again in a rebuilt state after parking.

    Args:
        make: Builds the value in the run's current state.
        built: The value already built (a host call that had to build it to check it);
            used once, then `make` builds it again.
    """

    __slots__ = ("_built", "_make")

    def __init__(self, make: Callable[[], Any], built: Any = _UNSET) -> None:
        self._make = make
        self._built = built

    def build(self) -> Any:
        """Return the Lua value (the one given as `built` the first time)."""
        built = self._built
        if built is not _UNSET:
            self._built = _UNSET  # the journal must not keep a value of a dropped state
            return built
        return self._make()


_PLAIN: Final = frozenset({type(None), bool, int, float, str, bytes})


def build_values(values: Sequence[Any]) -> tuple[Any, ...]:
    """Return `values` with each `LuaBuild` built."""
    return tuple(v.build() if type(v) is LuaBuild else v for v in values)


def build_answer(answer: Any) -> Any:
    """Return a host call's answer (one value, or a tuple of Lua's multiple values), built."""
    if type(answer) is tuple:
        return build_values(answer)
    return answer.build() if type(answer) is LuaBuild else answer


def _portable(value: Any) -> bool:
    """Whether a journal may keep `value`: plain data or a `LuaBuild`, never a Lua object."""
    kind = type(value)
    return kind in _PLAIN or kind is LuaBuild or lupa54.lua_type(value) is None


# Entry tags. An entry is a tuple whose first item is its tag.
START: Final = 0  # (START, key, method): the entry chunk was loaded
STEP: Final = 1  # (STEP, tid, args): a root coroutine was resumed with `args`
OUT: Final = 2  # (OUT, tag, op): what the previous step reported ("yield", "sleep"; ...)
GC: Final = 3  # (GC,): a full garbage collection
HOST: Final = 4  # (HOST, name, answer): a host call's answer (a value or a tuple of them)

_MAX_ENTRIES: Final = 10_000


class RunJournal:
    """The ordered calls into one run's Lua state and the host calls' answers.

    Beyond 10,000 entries (a rebuild would replay that much Lua), or when a value that only
    the current state can hold would have to be kept, the journal stops (`enabled` turns
    False) and the run keeps its state for good: a state that cannot be rebuilt is never
    dropped.
    """

    def __init__(self) -> None:
        self.entries: list[tuple[Any, ...]] = []
        self.enabled = True
        self.stopped_because = ""

    def stop(self, reason: str) -> None:
        """Stop journaling (the run can no longer be parked)."""
        if self.enabled:
            self.enabled = False
            self.stopped_because = reason
            self.entries = []

    def add(self, entry: tuple[Any, ...]) -> None:
        """Append `entry`, or stop if the journal is full."""
        if not self.enabled:
            return
        if len(self.entries) >= _MAX_ENTRIES:
            self.stop(f"more than {_MAX_ENTRIES} calls into Lua")
            return
        self.entries.append(entry)

    def add_values(self, tag: int, head: Any, values: Any) -> None:
        """Append `(tag, head, values)`, where `values` is one value or a tuple of them."""
        if not self.enabled:
            return
        items = values if type(values) is tuple else (values,)
        for value in items:
            if not _portable(value):
                self.stop(f"a Lua {lupa54.lua_type(value)} crossed without its LuaBuild")
                return
        self.add((tag, head, values))


class JournalReplay:
    """Walks a journal while a rebuilt state runs through it.

    Args:
        entries: The journal's entries, oldest first.
    """

    def __init__(self, entries: Sequence[tuple[Any, ...]]) -> None:
        self._entries = entries
        self._at = 0

    def next_call(self) -> tuple[Any, ...] | None:
        """Return the next call into Lua (not a host answer), or None at the end."""
        if self._at >= len(self._entries):
            return None
        entry = self._entries[self._at]
        self._at += 1
        if entry[0] == HOST:
            raise self._diverged(f"a host answer ({entry[1]}) where a call into Lua was next")
        return entry

    def host_answer(self, name: str) -> Any:
        """Return the recorded answer of host call `name`, built in the new state."""
        entry = self._entries[self._at] if self._at < len(self._entries) else None
        if entry is None or entry[0] != HOST or entry[1] != name:
            got = "the end" if entry is None else f"entry {entry[:2]!r}"
            raise self._diverged(f"host call {name!r}, where the journal has {got}")
        self._at += 1
        return build_answer(entry[2])

    def check_out(self, out: Sequence[Any]) -> None:
        """Check that a rebuilt step reported what the original one did."""
        entry = self._entries[self._at] if self._at < len(self._entries) else None
        got = (out[0], out[1] if len(out) > 1 and out[0] == "yield" else None)
        if entry is None or entry[0] != OUT or (entry[1], entry[2]) != got:
            raise self._diverged(f"a step reported {got!r}, the journal has {entry!r}")
        self._at += 1

    def _diverged(self, what: str) -> RuntimeError:
        return RuntimeError(
            f"internal error in the Lua bridge: rebuilding a parked workflow's state diverged "
            f"at journal entry {self._at}: {what}"
        )
