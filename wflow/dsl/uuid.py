"""UUIDs inside workflows (Lua: the `uuid` module); v4 and v7 replay identically."""

from __future__ import annotations

import uuid as _uuid

from wflow.model import current_runtime

__all__ = ["NAMESPACE_DNS", "NAMESPACE_OID", "NAMESPACE_URL", "NAMESPACE_X500", "v4", "v5", "v7"]

NAMESPACE_DNS = str(_uuid.NAMESPACE_DNS)
NAMESPACE_URL = str(_uuid.NAMESPACE_URL)
NAMESPACE_OID = str(_uuid.NAMESPACE_OID)
NAMESPACE_X500 = str(_uuid.NAMESPACE_X500)


def v4() -> str:
    """Return a random UUID, recorded by the workflow's deterministic randomness."""
    return str(current_runtime().uuid4())


def v7() -> str:
    """Return a time-ordered UUID from the workflow clock."""
    return str(current_runtime().uuid7())


def v5(namespace: str, name: str) -> str:
    """Return the name-based UUID of `name` in `namespace` (computed, not recorded)."""
    return str(_uuid.uuid5(_uuid.UUID(namespace), name))
