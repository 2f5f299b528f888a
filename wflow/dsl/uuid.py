"""UUIDs inside workflows (Lua: the `uuid` module); v4 and v7 replay identically."""

from __future__ import annotations

import uuid as _uuid
from typing import Any

from wflow.model import current_runtime, format_uuid, make_uuid1, uuid_facts

__all__ = [
    "NAMESPACE_DNS",
    "NAMESPACE_OID",
    "NAMESPACE_URL",
    "NAMESPACE_X500",
    "format",
    "parse",
    "v1",
    "v3",
    "v4",
    "v5",
    "v7",
    "validate",
    "variant",
    "version",
]

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


def v1() -> str:
    """Return a time-based UUID from the workflow clock and deterministic randomness."""
    runtime = current_runtime()
    moment = runtime.now()
    unix_ns = int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000
    return str(make_uuid1(unix_ns, runtime.random_seed()))


def v3(namespace: str, name: str) -> str:
    """Return the MD5 name-based UUID of `name` in `namespace` (computed, not recorded)."""
    return str(_uuid.uuid3(_uuid.UUID(namespace), name))


def validate(value: Any) -> bool:
    """Return whether `value` is a UUID string."""
    if not isinstance(value, str):
        return False
    try:
        uuid_facts(value)
    except ValueError:
        return False
    return True


def version(value: str) -> int:
    """Return the UUID's version; `ValueError` for a malformed one."""
    return int(uuid_facts(value)["version"])


def variant(value: str) -> str:
    """Return the UUID's variant: `RFC4122`, `NCS`, `Microsoft`, `Future` or `Invalid`."""
    return str(uuid_facts(value)["variant"])


def parse(value: str) -> dict[str, Any]:
    """Return `version`, `variant`, and `timestamp` (v1, v7) and `node` (v1) of a UUID."""
    return uuid_facts(value)


def format(value: str, form: str = "standard") -> str:
    """Return the UUID as `standard`, `simple` (32 hex digits) or `urn`."""
    return format_uuid(value, form)
