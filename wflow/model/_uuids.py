"""UUIDs the model builds itself (Python's `uuid` module has no version 7 before 3.14)."""

from __future__ import annotations

import uuid

__all__ = ["make_uuid7"]


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
