"""Monitors and links of a workflow run, carried durably (signals, child results, activities).

`RunLinks` is the part of `RunProcesses` that keeps a run's `wflow.model.Peers` and talks to
its peers. Every input is an event of the workflow's history, so a replay takes the same
decisions:

- a **child workflow**'s end is its result (the child handle): `EXIT` for every child
  (Wippy's `temporal/workflows` page: a plain `process.spawn` child reports `EXIT` too), and
  the link's outcome when linked;
- any **other workflow** registers and notifies through the internal signals of
  `_link_topics` (`wflow.monitor`, `wflow.link`, `wflow.link_down`, ...) and `wflow.exit`;
- a **process** through the process operation activity on its host (`monitor`, `link`, ...).

When the run ends, `run_main` tells its watchers (`EXIT`) and, when it ended abnormally, its
links (`LINK_DOWN`). An untrapped `LINK_DOWN` cancels the run's code and fails the run with
`wflow.model.link_failure`'s `CANCELED` error, which its own links then hear about in turn.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Mapping
from typing import Any

import temporalio.exceptions
import temporalio.workflow
from temporalio import workflow

from wflow.model import ErrorKind, Event, Mailbox, Peers, WflowError, link_down_first, parse_pid
from wflow.registry import Registry
from wflow.temporal._error_mapping import to_wflow_error
from wflow.temporal._link_topics import (
    LINK_DOWN_TOPIC,
    LINK_TOPIC,
    MONITOR_TOPIC,
    PEER_TOPICS,
    PEERS_MEMO,
    UNLINK_TOPIC,
    UNMONITOR_TOPIC,
    end_payload,
    payload_error,
)
from wflow.temporal._process_host import pid_queue
from wflow.temporal._process_router import EXIT_TOPIC, is_process_pid
from wflow.temporal._process_transport import workflow_op

__all__ = ["RunLinks"]


class RunLinks:
    """Monitors and links of one workflow run (mixed into `RunProcesses`)."""

    _pid: str
    _registry: Registry
    _mailbox: Mailbox
    _children: dict[str, temporalio.workflow.ChildWorkflowHandle[Any, Any]]
    _watchers: set[asyncio.Task[None]]

    def _init_links(self) -> None:
        self.peers = Peers()
        self._link_error: WflowError | None = None
        self._main: asyncio.Future[Any] | None = None
        self._down: asyncio.Future[None] | None = None  # set by an untrapped LINK_DOWN
        self._published: dict[str, list[str]] = {"watchers": [], "links": []}
        # How each child that ended ended: a link made afterwards still hears of its failure.
        self._child_errors: dict[str, WflowError | None] = {}

    # -- the run -------------------------------------------------------------------------

    async def run_main(self, running: Coroutine[Any, Any, Any]) -> Any:
        """Run the workflow's code; tell watchers and links how it ended.

        Raises:
            WflowError: The code's error, or the link failure that ended it.
        """
        main = self._main = asyncio.ensure_future(running)
        self._down = asyncio.get_running_loop().create_future()
        if self._link_error is not None:  # a linked peer failed before the code started
            self._down.set_result(None)
        try:
            down_first = await link_down_first(main, self._down)
        except asyncio.CancelledError:
            main.cancel()  # Temporal cancels the run: the code hears of it, as without links
            down_first = False
        if down_first and self._link_error is not None:
            await self._announce_end(None, self._link_error)
            raise self._link_error
        try:
            value = await main
        except asyncio.CancelledError:
            await self._announce_end(None, WflowError("canceled", ErrorKind.CANCELED))
            raise
        except WflowError as exc:
            await self._announce_end(None, exc)
            raise
        await self._announce_end(value, None)
        return value

    async def _announce_end(self, value: Any, error: WflowError | None) -> None:
        payload = end_payload(self._pid, value, error)
        targets = [(pid, EXIT_TOPIC) for pid in sorted(self.peers.watchers)]
        if error is not None:
            targets += [(pid, LINK_DOWN_TOPIC) for pid in sorted(self.peers.links)]
        # One at a time, not gathered: when the worker evicts the run meanwhile, temporalio
        # ends it by raising from the pending signal, which must reach run_main unwrapped.
        for pid, topic in targets:
            # A peer that is gone cannot be told; that is no failure of this run.
            with contextlib.suppress(WflowError):
                await self._notify(pid, topic, payload)

    # -- notices -------------------------------------------------------------------------

    def on_peer_signal(self, topic: str, payload: Any) -> bool:
        """Handle an internal monitor/link signal; return False for any other topic."""
        if (topic != EXIT_TOPIC and topic not in PEER_TOPICS) or not isinstance(payload, dict):
            return False
        sender = payload.get("from")
        if not isinstance(sender, str):
            return True
        if topic == EXIT_TOPIC:
            event = self.peers.exit_event(sender, payload.get("value"), payload_error(payload))
            if event is not None:
                self._mailbox.post_event(event)
        elif topic == LINK_DOWN_TOPIC:
            self._link_notice(sender, payload_error(payload))
        elif topic == LINK_TOPIC:
            self.peers.link(sender)
        elif topic == UNLINK_TOPIC:
            self.peers.unlink(sender)
        elif topic == MONITOR_TOPIC:
            self.peers.watchers.add(sender)
        else:
            self.peers.watchers.discard(sender)
        self._publish_peers()
        return True

    def _link_notice(self, pid: str, error: WflowError | None) -> None:
        outcome = self.peers.link_down(pid, error)
        if isinstance(outcome, Event):
            self._mailbox.post_event(outcome)
        elif outcome is not None and self._link_error is None:
            self._link_error = outcome
            if self._down is not None and not self._down.done():
                self._down.set_result(None)

    def terminated_peer(self, pid: str, reason: str | None) -> None:
        """This run terminated workflow `pid`: a link to it is down now.

        Not left to the terminated side's notice alone: that comes from its memo, which may
        not show a link it has not processed yet (`link` then `terminate` at once).
        """
        if pid in self.peers.links:
            error = WflowError(f"terminated: {reason}" if reason else "terminated", "CANCELED")
            self._link_notice(pid, error)

    def watch_child(
        self, pid: str, handle: temporalio.workflow.ChildWorkflowHandle[Any, Any]
    ) -> None:
        """Post the `EXIT` of child `pid` (and its link's outcome) when it ends."""

        async def watch() -> None:
            error: WflowError | None = None
            try:
                value = await handle
            except temporalio.exceptions.ChildWorkflowError as exc:
                value, error = None, to_wflow_error(exc)
            self._child_errors[pid] = error
            # The link's outcome first: Wippy's post-start linking example reads LINK_DOWN as
            # the first event after terminating a plainly spawned (so also EXIT-reporting) child.
            if pid in self.peers.links:  # (a notice signal may have dissolved it already)
                self._link_notice(pid, error)
            event = self.peers.exit_event(pid, value, error)
            if event is not None:
                self._mailbox.post_event(event)

        task = asyncio.ensure_future(watch())
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    # -- requests ------------------------------------------------------------------------

    def _check_peer(self, pid: str, who: str) -> None:
        if pid == self._pid:
            raise WflowError(f"process.{who}: a workflow cannot {who} itself", ErrorKind.INVALID)
        if not is_process_pid(self._registry, pid):
            parse_pid(pid)

    async def _notify(self, pid: str, topic: str, payload: Mapping[str, Any]) -> None:
        """Tell workflow or process `pid` a monitor/link notice (raises when it is gone)."""
        if is_process_pid(self._registry, pid):
            op = {EXIT_TOPIC: "exit", LINK_DOWN_TOPIC: "link_down"}[topic]
            params = {"monitor": pid, "pid": pid, "event": dict(payload)}
            await workflow_op(pid_queue(self._registry, pid), op, params)
            return
        child = self._children.get(pid)
        try:
            if child is not None:
                await child.signal(topic, dict(payload))
            else:
                _, workflow_id = parse_pid(pid)
                handle = workflow.get_external_workflow_handle(workflow_id)
                await handle.signal(topic, dict(payload))
        except temporalio.exceptions.FailureError as exc:
            raise WflowError(f"no running workflow {pid}: {exc}", ErrorKind.NOT_FOUND) from None

    async def _process_op(self, op: str, pid: str) -> None:
        params = {"pid": pid, "watcher": self._pid, "peer": self._pid}
        await workflow_op(pid_queue(self._registry, pid), op, params)

    async def monitor(self, pid: str) -> None:
        """`process.monitor(pid)`: an `EXIT` event when `pid` ends."""
        self._check_peer(pid, "monitor")
        self.peers.monitor(pid)
        if is_process_pid(self._registry, pid):
            await self._process_op("monitor", pid)
        elif pid not in self._children:  # a child's end is its result, watched already
            await self._notify(pid, MONITOR_TOPIC, {"from": self._pid})

    async def unmonitor(self, pid: str) -> None:
        """`process.unmonitor(pid)`: no more `EXIT` of `pid`."""
        self._check_peer(pid, "unmonitor")
        self.peers.unmonitor(pid)
        try:
            if is_process_pid(self._registry, pid):
                await self._process_op("unmonitor", pid)
            elif pid not in self._children:
                await self._notify(pid, UNMONITOR_TOPIC, {"from": self._pid})
        except WflowError:
            pass  # it ended: no EXIT will come from it anyway

    async def link(self, pid: str) -> None:
        """`process.link(pid)`: link both ways."""
        self._check_peer(pid, "link")
        self.peers.link(pid)
        self._publish_peers()
        if pid in self._child_errors:  # the child ended already: its end is the link's news
            self._link_notice(pid, self._child_errors[pid])
            return
        try:
            if is_process_pid(self._registry, pid):
                await self._process_op("link", pid)
            else:
                await self._notify(pid, LINK_TOPIC, {"from": self._pid})
        except WflowError:
            if pid not in self._children:  # a child's end still arrives as its result
                self.peers.links.discard(pid)
                raise

    async def unlink(self, pid: str) -> None:
        """`process.unlink(pid)`: remove the link both ways."""
        self._check_peer(pid, "unlink")
        self.peers.unlink(pid)
        self._publish_peers()
        try:
            if is_process_pid(self._registry, pid):
                await self._process_op("unlink", pid)
            else:
                await self._notify(pid, UNLINK_TOPIC, {"from": self._pid})
        except WflowError:
            pass  # it ended: nothing left to unlink there

    def _publish_peers(self) -> None:
        """Keep `PEERS_MEMO` current: whom wflow's terminate tells (this run cannot then)."""
        peers = {"watchers": sorted(self.peers.watchers), "links": sorted(self.peers.links)}
        if peers != self._published:
            self._published = peers
            workflow.upsert_memo({PEERS_MEMO: peers})

    def process_options(self) -> dict[str, Any]:
        """`process.get_options()`."""
        return self.peers.options()

    def set_process_options(self, changes: Mapping[str, Any]) -> None:
        """`process.set_options{...}`."""
        self.peers.set_options(changes)
