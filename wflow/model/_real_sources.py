"""Real, unrecorded time and randomness: what code that is never replayed reads.

A function call and a process are not replayed, so their clock and UUIDs come straight from
the machine; a workflow's come from its runtime, recorded.
"""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import datetime, timezone

from wflow.model._uuids import make_uuid7

__all__ = ["RealSources"]


class RealSources:
    """The clock and randomness of the machine, for callers that are not replayed."""

    def now(self) -> datetime:
        """Return the real time, UTC."""
        return datetime.now(timezone.utc)

    def uuid4(self) -> uuid.UUID:
        """Return a random UUID."""
        return uuid.uuid4()

    def uuid7(self) -> uuid.UUID:
        """Return a time-ordered UUID from the real clock."""
        return make_uuid7(time.time_ns() // 1_000_000, secrets.randbits(74))

    def random_seed(self) -> int:
        """Return a random 64-bit seed."""
        return secrets.randbits(64)
