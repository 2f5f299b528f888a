"""UUIDs the model builds itself (Python's `uuid` module has no version 7 before 3.14)."""

from __future__ import annotations

import uuid
from typing import Any

__all__ = ["format_uuid", "make_uuid1", "make_uuid7", "uuid_facts"]


def make_uuid7(unix_ms: int, random_bits: int) -> uuid.UUID:
    """Build a version 7 UUID (RFC 9562) from a millisecond timestamp and 74 random bits.

    Workflows pass their clock and deterministic randomness, so a replay rebuilds the same
    UUID; functions pass real time and real randomness.
    """
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((random_bits >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= random_bits & ((1 << 62) - 1)
    return uuid.UUID(int=value)


_GREGORIAN_OFFSET = 0x01B21DD213814000  # 100 ns intervals from 1582-10-15 to 1970-01-01


def make_uuid1(unix_ns: int, random_bits: int) -> uuid.UUID:
    """Build a version 1 UUID from a clock reading and 62 random bits (clock sequence, node).

    The node is random with its multicast bit set (RFC 9562 §6.10), never a MAC address, so
    workflows stay deterministic and no host identity leaks.
    """
    ticks = (unix_ns // 100 + _GREGORIAN_OFFSET) & ((1 << 60) - 1)
    clock_seq = (random_bits >> 48) & 0x3FFF
    node = (random_bits & ((1 << 48) - 1)) | (1 << 40)
    return uuid.UUID(
        fields=(
            ticks & 0xFFFFFFFF,
            (ticks >> 32) & 0xFFFF,
            ((ticks >> 48) & 0x0FFF) | 0x1000,
            0x80 | (clock_seq >> 8),
            clock_seq & 0xFF,
            node,
        )
    )


_VARIANTS = {
    uuid.RESERVED_NCS: "NCS",
    uuid.RFC_4122: "RFC4122",
    uuid.RESERVED_MICROSOFT: "Microsoft",
    uuid.RESERVED_FUTURE: "Future",
}


def uuid_facts(text: str) -> dict[str, Any]:
    """Return `version`, `variant` and, for v1 and v7, `timestamp` (Unix seconds), `node` (v1).

    Raises:
        ValueError: `text` is not a UUID.
    """
    value = uuid.UUID(text)
    facts: dict[str, Any] = {
        "version": value.version or (value.int >> 76) & 0xF,
        "variant": _VARIANTS.get(value.variant, "Invalid"),
    }
    if facts["version"] == 1:
        facts["timestamp"] = (value.time - _GREGORIAN_OFFSET) // 10_000_000
        facts["node"] = f"{value.node:012x}"
    elif facts["version"] == 7:
        facts["timestamp"] = (value.int >> 80) // 1000
    return facts


def format_uuid(text: str, form: str) -> str:
    """Return UUID `text` as `standard`, `simple` (32 hex digits) or `urn`.

    Raises:
        ValueError: `text` is not a UUID, or `form` is unknown.
    """
    value = uuid.UUID(text)
    if form == "standard":
        return str(value)
    if form == "simple":
        return value.hex
    if form == "urn":
        return value.urn
    raise ValueError(f"unknown format {form!r} (expected standard, simple or urn)")
