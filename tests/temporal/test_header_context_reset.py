"""A context variable set before an `await` and reset in `finally` from another context.

Temporal closes an evicted workflow's coroutine from outside its task; the `finally` of an
interrupted `send`/`spawn` then runs in a different context, where a plain `reset` raised
`ValueError` (seen as an unraisable exception in tests/temporal/test_links.py).
"""

import contextvars

import pytest

from wflow.temporal._headers import reset_after_await

_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("_var", default=None)


def _suspended_send() -> object:
    async def send() -> None:
        token = _var.set("sender")
        try:
            await _Suspend()
        finally:
            reset_after_await(_var, token)

    return send()


class _Suspend:
    def __await__(self):  # type: ignore[no-untyped-def]
        yield


def test_a_coroutine_closed_from_another_context_resets_quietly() -> None:
    coro = contextvars.copy_context().run(_start, _suspended_send())
    # Closing runs the coroutine's `finally` here, in this (another) context.
    coro.close()  # type: ignore[attr-defined]
    assert _var.get() is None


def test_a_plain_reset_from_another_context_raises() -> None:
    token = contextvars.copy_context().run(_var.set, "x")
    with pytest.raises(ValueError, match="different Context"):
        _var.reset(token)


def _start(coro: object) -> object:
    coro.send(None)  # type: ignore[attr-defined]
    return coro
