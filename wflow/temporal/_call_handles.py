"""The one shape of a started function call that wraps an asyncio task.

A workflow's call (an activity task) and a process's call (a local task) are both a
`wflow.model.CallHandle` over a task; they differ only in which failures they translate to a
`WflowError`, so each subclass names that translation and nothing else.
"""

from __future__ import annotations

import asyncio
from typing import Any

from wflow.model import WflowError

__all__ = ["TaskCallHandle"]


class TaskCallHandle:
    """A started call over `task`; subclasses say which failures become a `WflowError`.

    Args:
        task: The task (or future) computing the call's value.
    """

    def __init__(self, task: asyncio.Future[Any]) -> None:
        self._task = task

    def done(self) -> bool:
        """Return whether the call has finished."""
        return self._task.done()

    async def result(self) -> Any:
        """Wait for the call and return its value; raise its `WflowError`."""
        try:
            return await asyncio.shield(self._task)
        except BaseException as exc:
            failure = self._translate(exc)
            if failure is None:
                raise
            raise failure from None

    def cancel(self) -> None:
        """Cancel the call."""
        self._task.cancel()

    def _translate(self, exc: BaseException) -> WflowError | None:
        """The `WflowError` that `exc` (raised while waiting) stands for; None re-raises it."""
        return None
