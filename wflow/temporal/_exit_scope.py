"""The one `async with` shape of an object that owns what it started in an exit stack.

A project session and its process hosting both start things one by one on entry (servers,
workers, hosts, supervisors), each pushing its own cleanup; a failure half-way must undo what
already started, and exit undoes everything in reverse. `ExitStackScope` is that shape once.
"""

from __future__ import annotations

import contextlib
from types import TracebackType

from typing_extensions import Self

__all__ = ["ExitStackScope"]


class ExitStackScope:
    """An async context manager whose `_open` starts things and registers their cleanup.

    Subclasses call `super().__init__()` and implement `_open`, pushing each cleanup onto
    `self._stack` as the thing it undoes starts.
    """

    def __init__(self) -> None:
        self._stack = contextlib.AsyncExitStack()

    async def _open(self) -> None:
        """Start what this scope owns, pushing each cleanup onto `self._stack`."""

    async def __aenter__(self) -> Self:
        try:
            await self._open()
        except BaseException:
            # Undo what started before the failure, then let the failure through.
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()
