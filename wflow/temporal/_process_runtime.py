"""The runtime of one process: the workflow vocabulary on real time, with no history.

A process (`process.lua`, `process.py`) is loaded as a workflow program is and runs against a
`ProcessRuntime` instead of Temporal's: `time.sleep` really sleeps, `time.now` and UUIDs are
real, a function call runs the function right here (no retries, no history), and the process
operations go through the host's router (`ProcessRouter`), which reaches workflows, processes
on this host and processes on other hosts. Nothing is recorded: a process that ends, or whose
host stops, is gone.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from wflow.model import (
    ActivityOptions,
    ErrorKind,
    FunctionContext,
    FunctionProgram,
    Mailbox,
    Peers,
    RealSources,
    SpawnRequest,
    WflowError,
    WorkflowInfo,
    engine_for,
)
from wflow.temporal._call_handles import TaskCallHandle
from wflow.temporal._targets import function_entry

if TYPE_CHECKING:
    from wflow.temporal._process_host import ProcessHost

__all__ = ["ProcessCallHandle", "ProcessRuntime"]


class ProcessCallHandle(TaskCallHandle):
    """A function call a process started without waiting (a `wflow.model.CallHandle`)."""

    def _translate(self, exc: BaseException) -> WflowError | None:
        # Only the call's own cancellation is its failure; the waiter's cancellation propagates.
        if isinstance(exc, asyncio.CancelledError) and self._task.cancelled():
            return WflowError("the call was canceled", ErrorKind.CANCELED)
        return None


class ProcessRuntime(RealSources):
    """The `wflow.model.WorkflowRuntime` of one running process.

    Args:
        host: The host running the process.
        entry_id: The process entry.
        pid: The process's PID.
        mailbox_bound: Unreceived messages kept (as for workflows).
    """

    def __init__(self, host: ProcessHost, entry_id: str, pid: str, mailbox_bound: int) -> None:
        self._host = host
        self._entry_id = entry_id
        self._pid = pid
        self._mailbox = Mailbox(mailbox_bound)
        self.peers = Peers()
        # Set, with `link_error`, by an untrapped LINK_DOWN: the host then ends the process.
        self.down: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.link_error: WflowError | None = None
        self.state: Any = None

    # -- clock and randomness: real ---------------------------------------------------------

    def info(self) -> WorkflowInfo:
        """Return facts about the process (its PID's ID as workflow and run ID)."""
        local_id = self._pid.partition("/")[2]
        return WorkflowInfo(
            workflow_id=local_id,
            run_id=local_id,
            workflow_type=self._entry_id,
            task_queue=self._host.instance_queue,
            namespace=self._host.namespace,
            attempt=1,
            history_length=0,
            entry_id=self._entry_id,
        )

    async def sleep(self, duration: timedelta) -> None:
        """Sleep for real."""
        async with self._host.guard.working():  # real time: the test server must not skip
            await asyncio.sleep(max(duration.total_seconds(), 0.0))

    # -- function calls: run here, once ------------------------------------------------------

    def _program(self, target: str) -> tuple[str, FunctionProgram]:
        registry = self._host.registry
        entry = function_entry(registry, target, self._entry_id.partition(":")[0])
        return entry.id, engine_for(entry.kind).function_program(entry, registry)

    async def call(self, target: str, args: Sequence[Any], options: ActivityOptions) -> Any:
        """Run function `target` in this host, once (a process has no retries).

        Raises:
            WflowError: The function failed, or ran past its start-to-close timeout.
        """
        async with self._host.guard.working():
            return await self._call(target, args, options)

    async def _call(self, target: str, args: Sequence[Any], options: ActivityOptions) -> Any:
        entry_id, program = self._program(target)
        context = FunctionContext(
            entry_id=entry_id, values=dict(options.context), processes=self._host.blocking_client()
        )
        if inspect.iscoroutinefunction(program.call):
            running = program.call(list(args), context)
        else:
            running = asyncio.to_thread(program.call, list(args), context)
        limit = options.effective_start_to_close()
        try:
            return await asyncio.wait_for(running, None if limit is None else limit.total_seconds())
        except asyncio.TimeoutError:
            raise WflowError(f"{entry_id}: timed out after {limit}", ErrorKind.TIMEOUT) from None

    def start_call(
        self, target: str, args: Sequence[Any], options: ActivityOptions
    ) -> ProcessCallHandle:
        """Start `call` as a task."""
        task = asyncio.get_running_loop().create_task(self.call(target, args, options))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return ProcessCallHandle(task)

    # -- processes ---------------------------------------------------------------------------

    def pid(self) -> str:
        """Return this process's PID (`<host entry ID>/<instance>-<n>`)."""
        return self._pid

    def mailbox(self) -> Mailbox:
        """Return this process's mailbox."""
        return self._mailbox

    async def send(self, pid: str, topic: str, payload: Any) -> None:
        """Send a message to a workflow or process."""
        async with self._host.guard.working():
            await self._host.router.send(pid, topic, payload, sender=self._pid)

    async def spawn(self, request: SpawnRequest) -> str:
        """Start a process or workflow; this process monitors it with `options.monitored`."""
        async with self._host.guard.working():
            return await self._host.router.spawn(
                request, spawner=self._pid, namespace=self._entry_id
            )

    async def wait(self, pid: str) -> Any:
        """Wait for a workflow or process and return its result; raise its `WflowError`."""
        return await self._host.router.result(pid)

    async def cancel(self, pid: str, reason: str | None = None) -> None:
        """Request cancellation of a workflow or process, telling it `reason`."""
        async with self._host.guard.working():
            await self._host.router.cancel(pid, self.pid(), reason)

    async def terminate(self, pid: str, reason: str | None = None) -> None:
        """End a workflow or process at once."""
        async with self._host.guard.working():
            await self._host.router.terminate(pid, reason)

    # -- monitors and links (the host tells peers when this process ends) -----------------

    def _check_peer(self, pid: str, who: str) -> None:
        if pid == self._pid:
            raise WflowError(f"process.{who}: a process cannot {who} itself", ErrorKind.INVALID)

    async def monitor(self, pid: str) -> None:
        """Get an `EXIT` event when workflow or process `pid` ends."""
        self._check_peer(pid, "monitor")
        self.peers.monitor(pid)
        await self._host.router.monitor(pid, self._pid)

    async def unmonitor(self, pid: str) -> None:
        """Stop `EXIT` events of `pid`."""
        self._check_peer(pid, "unmonitor")
        self.peers.unmonitor(pid)
        await self._host.router.unmonitor(pid, self._pid)

    async def link(self, pid: str) -> None:
        """Link this process and `pid` both ways."""
        self._check_peer(pid, "link")
        self.peers.link(pid)
        try:
            await self._host.router.link(pid, self._pid)
        except WflowError:
            self.peers.links.discard(pid)
            raise

    async def unlink(self, pid: str) -> None:
        """Remove the link to `pid`."""
        self._check_peer(pid, "unlink")
        self.peers.unlink(pid)
        await self._host.router.unlink(pid, self._pid)

    def process_options(self) -> dict[str, Any]:
        """`process.get_options()`."""
        return self.peers.options()

    def set_process_options(self, changes: Mapping[str, Any]) -> None:
        """`process.set_options{...}`."""
        self.peers.set_options(changes)

    async def register_name(self, name: str, pid: str | None) -> None:
        """Register `name` for `pid` (this process when None) on this process's host."""
        self._host.register_name(name, pid or self._pid)

    async def lookup_name(self, name: str) -> str | None:
        """Return the PID registered as `name`, or None."""
        async with self._host.guard.working():
            return await self._host.router.lookup(name)

    def version(self, change_id: str, min_version: int, max_version: int) -> int:
        """Return `max_version`: a process is never replayed, so it always runs the newest."""
        if min_version > max_version:
            raise WflowError(
                f"workflow.version({change_id!r}): min {min_version} > max {max_version}",
                ErrorKind.INVALID,
            )
        return max_version

    def set_state(self, value: Any) -> None:
        """Keep `value` as the process's state (shown by `wflow ls`)."""
        self.state = value

    def set_attrs(self, search: Mapping[str, Any] | None, memo: Mapping[str, Any] | None) -> None:
        """Refuse: search attributes and memo belong to workflows."""
        raise WflowError("workflow.attrs is only available in workflows", ErrorKind.INVALID)

    def upgrade(self, args: Sequence[Any]) -> NoReturn:
        """Refuse: continue-as-new belongs to workflows."""
        raise WflowError(
            "process.upgrade is only available in workflows (a process has no history to trim)",
            ErrorKind.INVALID,
        )
