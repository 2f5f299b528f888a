"""The internal signals that carry monitors and links to and from workflows.

A workflow learns about its peers only through its history, so each notice is a Temporal
signal with a `wflow.` topic that the workflow's mailbox keeps for itself (never a message).
The payload names the sender in `from` (and, for an end, its `value` / `error`), as
`EXIT_TOPIC`'s does (`_process_router.exit_payload`).
"""

from __future__ import annotations

from typing import Any

from wflow.model import WflowError

__all__ = [
    "LINK_DOWN_TOPIC",
    "LINK_TOPIC",
    "MONITOR_TOPIC",
    "PEERS_MEMO",
    "PEER_TOPICS",
    "UNLINK_TOPIC",
    "UNMONITOR_TOPIC",
    "end_payload",
    "payload_error",
]

LINK_TOPIC = "wflow.link"
"""`{from}` linked itself to the receiver."""

UNLINK_TOPIC = "wflow.unlink"
"""`{from}` removed its link to the receiver."""

LINK_DOWN_TOPIC = "wflow.link_down"
"""`{from, error}`: a linked peer ended abnormally."""

MONITOR_TOPIC = "wflow.monitor"
"""`{from}` wants an `EXIT` event when the receiver ends."""

UNMONITOR_TOPIC = "wflow.unmonitor"
"""`{from}` no longer wants the receiver's `EXIT`."""

PEERS_MEMO = "wflow.peers"
"""The memo field where a workflow keeps `{watchers, links}`: read when it is terminated (it
then runs no more code), without asking a worker."""

PEER_TOPICS = frozenset({LINK_TOPIC, UNLINK_TOPIC, LINK_DOWN_TOPIC, MONITOR_TOPIC, UNMONITOR_TOPIC})


def end_payload(pid: str, value: Any, error: WflowError | None) -> dict[str, Any]:
    """Return the JSON form of `pid`'s end (an `EXIT` or `LINK_DOWN` notice)."""
    return {"from": pid, "value": value, "error": error.to_dict() if error is not None else None}


def payload_error(payload: Any) -> WflowError | None:
    """Return the error of an `end_payload`, or None."""
    error = payload.get("error") if isinstance(payload, dict) else None
    return WflowError.from_dict(error) if isinstance(error, dict) else None
