"""Suggestions ("did you mean ...?") for missing entry IDs, module functions and fields.

Every message of the registry and its checks that names something missing ends with the same
suggestion, made here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence

from wflow.registry._schema import Entry

__all__ = ["did_you_mean", "suggest_entry", "suggest_name"]


def did_you_mean(close: Sequence[str]) -> str:
    """` (did you mean 'a', 'b'?)` for up to three `close` names, or `""` for none."""
    return f" (did you mean {', '.join(repr(c) for c in close[:3])}?)" if close else ""


def suggest_name(name: str, known: Iterable[str]) -> str:
    """` (did you mean 'a'?)` naming the words of `known` closest to `name`, or `""`."""
    return did_you_mean(difflib.get_close_matches(name, list(known), n=3, cutoff=0.6))


def suggest_entry(
    entries: Mapping[str, Entry], entry_id: str, kinds: Sequence[str] | None = None
) -> str:
    """` (did you mean ...?)` naming entries close to the missing `entry_id`, or `""`.

    Close full IDs come first, then entries whose name (without the namespace) is close.

    Args:
        entries: The entries by ID.
        entry_id: A full entry ID that does not exist.
        kinds: If given, suggest only entries of these kinds.
    """
    candidates = [key for key, entry in entries.items() if kinds is None or entry.kind in kinds]
    names = [key.partition(":")[2] for key in candidates]
    close = difflib.get_close_matches(entry_id, candidates, n=3, cutoff=0.6)
    for name in difflib.get_close_matches(entry_id.partition(":")[2], names, n=3):
        for key in candidates:
            if key.partition(":")[2] == name and key not in close:
                close.append(key)
    return did_you_mean(close)
