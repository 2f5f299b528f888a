"""Random values (Lua: `crypto.random`), deterministic in workflows.

In a workflow they come from the workflow's deterministic randomness, so a replay gets the
same bytes; outside one (in a function) they come from the operating system.
"""

from __future__ import annotations

import random as _random
import secrets
import string

from wflow.model import ErrorKind, WflowError, current_runtime, in_workflow

__all__ = ["random_bytes", "random_string", "random_uuid"]

_MAX = 1_048_576
_ALNUM = string.ascii_uppercase + string.ascii_lowercase + string.digits


def _check(n: int, who: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= _MAX:
        raise WflowError(
            f"{who}: length must be a whole number from 1 to {_MAX}", ErrorKind.INVALID
        )


def _rng() -> _random.Random | None:
    return _random.Random(current_runtime().random_seed()) if in_workflow() else None


def random_bytes(n: int) -> bytes:
    """Return `n` random bytes (1 to 1 MiB)."""
    _check(n, "crypto.random_bytes")
    rng = _rng()
    return rng.randbytes(n) if rng is not None else secrets.token_bytes(n)


def random_string(n: int, charset: str = _ALNUM) -> str:
    """Return `n` random characters of `charset` (letters and digits by default)."""
    _check(n, "crypto.random_string")
    if not charset:
        raise WflowError("crypto.random_string: charset must not be empty", ErrorKind.INVALID)
    rng = _rng()
    choose = rng.choice if rng is not None else secrets.choice
    return "".join(choose(charset) for _ in range(n))


def random_uuid() -> str:
    """Return a random UUID (version 4)."""
    if in_workflow():
        return str(current_runtime().uuid4())
    import uuid

    return str(uuid.uuid4())
