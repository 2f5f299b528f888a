"""`wflow ls` filters as one Temporal visibility query.

Entry, status, start-time range and custom search attributes become clauses of a visibility
query (`WorkflowType = 'app:order' AND ExecutionStatus = 'Failed' AND CustomerId = 'c-42'`),
ANDed with a query given as it is (`--query`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone

from wflow.model import ErrorKind, WflowError, parse_duration
from wflow.temporal._search_attributes import visibility_literal

__all__ = ["STATUSES", "list_query", "parse_moment"]

STATUSES = {
    "running": "Running",
    "completed": "Completed",
    "failed": "Failed",
    "canceled": "Canceled",
    "terminated": "Terminated",
    "continued_as_new": "ContinuedAsNew",
    "timed_out": "TimedOut",
}
"""Status names `wflow ls --status` accepts -> Temporal's ExecutionStatus values."""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "\\'") + "'"


def parse_moment(text: str, now: datetime | None = None) -> datetime:
    """Parse `--since` / `--until`: an ISO time (UTC unless it says) or a duration ago (`2h`).

    Raises:
        WflowError: `INVALID` for neither.
    """
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    except ValueError:
        pass
    try:
        ago = parse_duration(text)
    except WflowError:
        raise WflowError(
            f"{text!r} is neither an ISO time (2026-01-31T09:00Z) nor a duration ago (2h, 30m)",
            ErrorKind.INVALID,
        ) from None
    return (now or datetime.now(timezone.utc)) - ago


def list_query(
    *,
    entries: Sequence[str] = (),
    statuses: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    attrs: Sequence[str] = (),
    declared: Mapping[str, str] | None = None,
    query: str | None = None,
) -> str | None:
    """Return the visibility query for the filters, or None when there are none.

    Args:
        entries: Workflow entry IDs (any of them).
        statuses: Status names (any of them; see `STATUSES`).
        since: Started at or after.
        until: Started before.
        attrs: `NAME=VALUE` custom search attribute filters; the value is typed as the
            project declares `NAME` (a Keyword when undeclared).
        declared: Declared search attributes, name -> type.
        query: A visibility query passed through, ANDed with the rest.

    Raises:
        WflowError: `INVALID` for an unknown status or a malformed `NAME=VALUE`.
    """
    clauses: list[str] = []
    if entries:
        clauses.append(" OR ".join(f"WorkflowType = {_quote(e)}" for e in entries))
    if statuses:
        values = []
        for status in statuses:
            value = STATUSES.get(status.lower().replace("-", "_"))
            if value is None:
                raise WflowError(
                    f"unknown status {status!r} (one of {', '.join(STATUSES)})", ErrorKind.INVALID
                )
            values.append(f"ExecutionStatus = {_quote(value)}")
        clauses.append(" OR ".join(values))
    if since is not None:
        clauses.append(f"StartTime >= {_quote(since.astimezone(timezone.utc).isoformat())}")
    if until is not None:
        clauses.append(f"StartTime < {_quote(until.astimezone(timezone.utc).isoformat())}")
    for attr in attrs:
        name, sep, value = attr.partition("=")
        name = name.strip()
        if not sep or not name:
            raise WflowError(f"--attr {attr!r}: expected NAME=VALUE", ErrorKind.INVALID)
        try:
            literal = visibility_literal(name, value, declared or {})
        except ValueError as exc:
            raise WflowError(f"--attr {attr!r}: {exc}", ErrorKind.INVALID) from None
        clauses.append(f"{name} = {literal}")
    if query:
        clauses.append(query)
    if not clauses:
        return None
    return " AND ".join(f"({clause})" for clause in clauses)
