"""The registry's own checks: every reference between entries, and schedules' attributes.

`Registry.check` runs these when a registry is built; they see only the entries (no files,
no imports), so they hold for a registry built in code as for a loaded project.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from wflow.model import WflowError
from wflow.registry._problems import Problem
from wflow.registry._pydantic_messages import format_loc
from wflow.registry._schema import split_id
from wflow.registry._suggestions import suggest_entry

if TYPE_CHECKING:
    from wflow.registry._registry import Registry

__all__ = ["registry_problems"]


def registry_problems(registry: Registry) -> list[Problem]:
    """Every reference between `registry`'s entries and every schedule's search attributes.

    Returns:
        One problem per bad reference (the entry's file and the field's line) or attribute.
    """
    problems: list[Problem] = []
    for entry in registry:
        for loc, ref, kinds in entry.references():
            message = _reference_problem(registry, ref, entry.namespace, kinds)
            if message is not None:
                problems.append(
                    Problem(
                        entry.file,
                        entry.field_line(loc),
                        f"field '{format_loc(loc)}': {message}",
                        entry.id,
                    )
                )
    return problems + _schedule_problems(registry)


def _schedule_problems(registry: Registry) -> list[Problem]:
    """Schedules' search attributes against those the clients declare (name -> type)."""
    declared = registry.search_attribute_types()
    problems = []
    for schedule in registry.schedules():
        for message in schedule.search_attribute_problems(declared):
            line = schedule.field_line(("search_attributes",))
            problems.append(Problem(schedule.file, line, message, schedule.id))
    return problems


def _reference_problem(
    registry: Registry, ref: str, namespace: str, kinds: Sequence[str]
) -> str | None:
    full = ref if ":" in ref else f"{namespace}:{ref}"
    try:
        split_id(full)
    except WflowError:
        return f"invalid reference {ref!r}: expected an entry ID 'namespace:name' or a name"
    target = registry.entries.get(full)
    if target is None:
        return f"no entry '{full}'{suggest_entry(registry.entries, full, kinds)}"
    if target.kind not in kinds:
        return f"'{full}' is a {target.kind} entry, expected {' or '.join(kinds)}"
    return None
