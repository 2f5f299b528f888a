"""Monitors and links of one workflow or process: who is told what when a peer ends.

Wippy's model (its `process` module reference and `temporal/workflows` page), shared by both
hosts and both languages:

- **monitor**: one-way. The watcher gets an `EXIT` event (`{from, result = {value, error}}`)
  when the watched one ends, however it ends.
- **link**: two-way. When one side ends *abnormally* (an error, a cancel, a terminate) the
  other gets a `LINK_DOWN` event if it set `trap_links`, and otherwise ends too, with an error
  naming the link. A normal end only dissolves the link.

`Peers` keeps the receiver's side of that bookkeeping; the hosts (Temporal workflows, process
hosts) carry the notifications. Incoming notices are accepted unless the receiver took the
peer back (`unmonitor`, `unlink`): a notice may overtake the answer of the spawn that made the
peer, so "known peers only" would drop it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from wflow.model._errors import ErrorKind, WflowError
from wflow.model._messages import Event

__all__ = [
    "CANCEL",
    "EVENT_KINDS",
    "EXIT",
    "LINK_DOWN",
    "Peers",
    "link_down_first",
    "link_failure",
]

EXIT = "EXIT"
"""A monitored process or workflow ended (also: a workflow's child workflow ended)."""

CANCEL = "CANCEL"
"""Cancellation of this process or workflow was requested."""

LINK_DOWN = "LINK_DOWN"
"""A linked process or workflow ended abnormally (delivered only with `trap_links`)."""

EVENT_KINDS = {"EXIT": EXIT, "CANCEL": CANCEL, "LINK_DOWN": LINK_DOWN}
"""The event kinds by name (Lua: `process.event.*`, Python: `process.event.*`)."""

_OPTIONS = ("trap_links", "upgradable")


def link_failure(pid: str, error: WflowError) -> WflowError:
    """Return the error a process or workflow ends with when linked `pid` failed untrapped."""
    return WflowError(
        f"linked process {pid} ended abnormally: {error.kind.value}: {error.message}",
        ErrorKind.CANCELED,
        details={"link_down": pid, "error": error.to_dict()},
    )


async def link_down_first(main: asyncio.Future[Any], down: asyncio.Future[None]) -> bool:
    """Wait until the code (`main`) ends or an untrapped link failure sets `down`.

    Returns True when `down` came first; `main` is then cancelled, but the caller ends the
    run with the link failure without waiting for it: code may catch a cancellation (a Lua
    `pcall`, a Python `except`), and a link failure must end the run all the same.
    The caller's own cancellation propagates, `main` untouched.
    """
    await asyncio.wait([main, down], return_when=asyncio.FIRST_COMPLETED)
    if main.done():
        return False
    main.cancel()
    return True


class Peers:
    """The monitors and links of one running workflow or process.

    Attributes:
        links: PIDs told (`LINK_DOWN`, or their end) when this one ends abnormally.
        watchers: PIDs told (`EXIT`) when this one ends, registered by them (workflows keep
            these; a process host keeps its processes' watchers itself).
        trap_links: Whether a linked peer's abnormal end is an event instead of an end.
    """

    def __init__(self) -> None:
        """Start with no peers and `trap_links` off."""
        self.links: set[str] = set()
        self.watchers: set[str] = set()
        self.trap_links = False
        self._unmonitored: set[str] = set()
        self._unlinked: set[str] = set()
        self._down: set[str] = set()

    # -- options -------------------------------------------------------------------------

    def options(self) -> dict[str, Any]:
        """Return `process.get_options()`: `{trap_links, upgradable}`."""
        return {"trap_links": self.trap_links, "upgradable": False}

    def set_options(self, changes: Mapping[str, Any]) -> None:
        """Apply `process.set_options{...}`.

        Raises:
            WflowError: `INVALID` for an unknown key, a value that is no boolean, or
                `upgradable = true` (wflow has no hot code reload: a workflow changes code
                with `workflow.version`, a process by being restarted).
        """
        for key, value in changes.items():
            if key not in _OPTIONS:
                raise WflowError(
                    f"process.set_options: unknown option {key!r} (known: {', '.join(_OPTIONS)})",
                    ErrorKind.INVALID,
                )
            if not isinstance(value, bool):
                raise WflowError(
                    f"process.set_options: {key} must be a boolean, got {type(value).__name__}",
                    ErrorKind.INVALID,
                )
            if key == "upgradable" and value:
                raise WflowError(
                    "process.set_options: upgradable = true is not supported (wflow has no "
                    "OUTDATED events; workflows change code with workflow.version)",
                    ErrorKind.INVALID,
                )
        if "trap_links" in changes:
            self.trap_links = bool(changes["trap_links"])

    # -- what this side asked for ---------------------------------------------------------

    def monitor(self, pid: str) -> None:
        """Note that `pid`'s `EXIT` is wanted (again)."""
        self._unmonitored.discard(pid)

    def unmonitor(self, pid: str) -> None:
        """Note that `pid`'s `EXIT` is no longer wanted."""
        self._unmonitored.add(pid)

    def link(self, pid: str) -> None:
        """Link to `pid` (again)."""
        self.links.add(pid)
        self._unlinked.discard(pid)
        self._down.discard(pid)

    def unlink(self, pid: str) -> None:
        """Remove the link to `pid`; a `LINK_DOWN` notice from it is ignored from now on."""
        self.links.discard(pid)
        self._unlinked.add(pid)

    # -- notices from peers ---------------------------------------------------------------

    def exit_event(self, pid: str, value: Any, error: WflowError | None) -> Event | None:
        """Return the `EXIT` event to post for `pid`'s end, or None when it is unmonitored."""
        if pid in self._unmonitored:
            return None
        return Event(EXIT, pid, value, error)

    def link_down(self, pid: str, error: WflowError | None) -> Event | WflowError | None:
        """Return what linked `pid`'s end means here.

        None: nothing (a normal end, an unlinked peer, a notice already handled); an
        `Event` (`LINK_DOWN`) to post when trapping links; else the `WflowError` this side
        must end with.
        """
        if pid in self._unlinked or pid in self._down:
            return None
        self.links.discard(pid)
        if error is None:
            return None
        self._down.add(pid)
        if self.trap_links:
            return Event(LINK_DOWN, pid, None, error)
        return link_failure(pid, error)
