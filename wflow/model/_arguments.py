"""The one rule for how many arguments a workflow or function entry takes (Lua and Python).

A call with more arguments than the entry's code declares is refused (the extra values would
be dropped silently); so is, in Python, a call with fewer than its required parameters. Lua
parameters are all optional (a missing one is `nil`, Lua's own convention), so Lua passes
`required=0`.
"""

from __future__ import annotations

from collections.abc import Sequence

from wflow.model._errors import ErrorKind, WflowError

__all__ = ["argument_count_error"]


def _plural(count: int) -> str:
    return "argument" if count == 1 else "arguments"


def argument_count_error(
    entry_id: str, params: Sequence[str], required: int, variadic: bool, given: int
) -> WflowError | None:
    """Return the `INVALID` error of a call with `given` arguments, or None when it fits.

    Args:
        entry_id: The entry called (named in the message).
        params: The positional parameters' names, in order.
        required: How many of them must be given.
        variadic: Whether the code takes any number more (`...`, `*args`).
        given: How many arguments the call passed.

    Returns:
        A non-retryable `INVALID` error (the same call can never succeed), or None.
    """
    listed = f" ({', '.join(params)})" if params else ""
    if given < required:
        missing = ", ".join(params[given:required])
        return WflowError(
            f"{entry_id} takes {required} {_plural(required)}{listed}, got {given}: "
            f"missing {missing}",
            ErrorKind.INVALID,
            retryable=False,
        )
    if not variadic and given > len(params):
        most = f"{len(params)} {_plural(len(params))}" if params else "no arguments"
        upto = "at most " if required < len(params) else ""
        return WflowError(
            f"{entry_id} takes {upto}{most}{listed}, got {given}",
            ErrorKind.INVALID,
            retryable=False,
        )
    return None
