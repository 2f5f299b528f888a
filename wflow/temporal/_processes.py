"""The process half of a workflow run: mailbox, messages, children, updates, state.

Kept apart from the call half (`_temporal_runtime.py`) because it owns per-run state that Temporal's
signal, update and query handlers feed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, NoReturn

import temporalio.common
import temporalio.exceptions
import temporalio.workflow
from temporalio import workflow

from wflow.model import (
    UPDATE_PID_PREFIX,
    Channel,
    ErrorKind,
    Mailbox,
    Message,
    SpawnRequest,
    WflowError,
    format_pid,
    parse_pid,
)
from wflow.registry import Registry
from wflow.temporal._error_mapping import to_application_error, to_wflow_error
from wflow.temporal._headers import (
    carried_messages,
    outgoing_carried,
    outgoing_context,
    outgoing_sender,
    reset_after_await,
    workflow_context,
)
from wflow.temporal._process_calls import (
    cancel_process,
    lookup_name,
    send_to_process,
    spawn_process,
    terminate_process,
)
from wflow.temporal._process_router import is_process_entry, is_process_pid
from wflow.temporal._search_attributes import search_update
from wflow.temporal._targets import plan_spawn, workflow_entry
from wflow.temporal._workflow_links import RunLinks

__all__ = ["INTERNAL_TERMINATE", "RunProcesses", "UpdateReply"]

INTERNAL_TERMINATE = "wflow.internal:terminate"
"""Activity that terminates a workflow: workflows cannot, so a function does it for them."""


class UpdateReply:
    """The replies a workflow gives one update: `ack`/`nak`, then `ok`/`error`."""

    def __init__(self) -> None:
        self.channel = Channel(2)


class RunProcesses(RunLinks):
    """The process half of a run's `WorkflowRuntime`: mailbox, messages, children, state.

    `TemporalRuntime` inherits it and adds calls, timers, clock and randomness; the workflow
    class's Temporal handlers (signals, updates, queries) call the `on_*` methods.
    """

    def __init__(self, entry_id: str, namespace: str, registry: Registry) -> None:
        self._entry_id = entry_id
        self._namespace = namespace
        self._registry = registry
        worker = registry.worker_of(entry_id, "workflow")
        self._pid = format_pid(worker.id, workflow.info().workflow_id)
        self._mailbox = Mailbox(workflow_entry(registry, entry_id, "").mailbox_bound)
        self._state: Any = None
        self._children: dict[str, temporalio.workflow.ChildWorkflowHandle[Any, Any]] = {}
        self._updates: dict[str, UpdateReply] = {}
        self._watchers: set[asyncio.Task[None]] = set()
        self._init_links()

    def restore_carried(self) -> None:
        """Put the messages the previous run carried over ahead of newer ones.

        Called when the run starts: the header that carries them is read only then, after
        the instance (and maybe signal handlers) already ran.
        """
        carried = [Message.from_dict(item) for item in carried_messages()]
        if carried:
            self._mailbox.restore(carried)

    def pid(self) -> str:
        """Return this workflow's PID (`<worker entry ID>/<workflow ID>`)."""
        return self._pid

    def mailbox(self) -> Mailbox:
        """Return this run's mailbox."""
        return self._mailbox

    def set_state(self, value: Any) -> None:
        """Set what the `state` query returns."""
        self._state = value

    # Incoming: called by the workflow class's Temporal handlers.

    def on_signal(self, topic: str, payload: Any, sender: str | None) -> None:
        if self.on_peer_signal(topic, payload):  # a monitor or link notice, no message
            return
        self._mailbox.deliver(Message(topic, payload, sender))

    async def on_update(self, name: str, payload: Any, update_id: str) -> Any:
        reply = UpdateReply()
        self._updates[update_id] = reply
        self._mailbox.deliver(Message(name, payload, f"{UPDATE_PID_PREFIX}{update_id}"))
        try:
            while True:
                (topic, value), _ = await reply.channel.receive()
                if topic == "ack":
                    continue
                if topic == "ok":
                    return value
                if topic == "nak":
                    rejected = WflowError(
                        f"rejected: {value}" if value is not None else "rejected",
                        ErrorKind.INVALID,
                        details={"rejected": True, "reason": value},
                    )
                    raise to_application_error(rejected, non_retryable=True)
                error = (
                    value
                    if isinstance(value, WflowError)
                    else WflowError(str(value), ErrorKind.UNKNOWN)
                )
                raise to_application_error(error, non_retryable=True)
        finally:
            del self._updates[update_id]

    def on_query(self, name: str) -> Any:
        if name == "pid":
            return self._pid
        if name == "state":
            return self._state
        if name == "wflow.mailbox":
            return {"pending": self._mailbox.pending(), "bound": self._mailbox.bound}
        unknown = WflowError(f"unknown query {name!r} (known: pid, state)", ErrorKind.NOT_FOUND)
        raise to_application_error(unknown, non_retryable=False)

    # Outgoing: the model's process operations.

    async def send(self, pid: str, topic: str, payload: Any) -> None:
        if pid.startswith(UPDATE_PID_PREFIX):
            self._reply(pid.removeprefix(UPDATE_PID_PREFIX), topic, payload)
            return
        if is_process_pid(self._registry, pid):
            await send_to_process(self._registry, pid, topic, payload, self._pid)
            return
        _, workflow_id = parse_pid(pid)
        token = outgoing_sender.set(self._pid)
        try:
            child = self._children.get(pid)
            if child is not None:
                await child.signal(topic, payload)
            else:
                await workflow.get_external_workflow_handle(workflow_id).signal(topic, payload)
        except temporalio.exceptions.FailureError as exc:
            # The server says "not found" for a closed workflow too; asking it how the
            # receiver ended would not replay, so the message covers both.
            if "not found" in str(exc).lower():
                raise WflowError(
                    f"send to {pid}: no running workflow {pid} (it has ended, or never "
                    "existed); messages can only go to running workflows",
                    ErrorKind.NOT_FOUND,
                ) from None
            raise WflowError(f"send to {pid}: {exc}", ErrorKind.NOT_FOUND) from None
        finally:
            reset_after_await(outgoing_sender, token)

    def _reply(self, update_id: str, topic: str, payload: Any) -> None:
        reply = self._updates.get(update_id)
        if reply is None:
            raise WflowError(f"no update {update_id} is waiting for a reply", ErrorKind.NOT_FOUND)
        if topic not in ("ack", "nak", "ok", "error"):
            raise WflowError(
                f"an update is answered with ack, nak, ok or error, not {topic!r}",
                ErrorKind.INVALID,
            )
        reply.channel.try_send((topic, payload))

    async def spawn(self, request: SpawnRequest) -> str:
        """Start `request.entry` as a child on its host (or a process); return its PID."""
        entry, host, args, options = request.entry, request.host, request.args, request.options
        namespace = self._entry_id.partition(":")[0]
        if is_process_entry(self._registry, entry, namespace):
            return await spawn_process(self._registry, request, namespace, self._pid)
        plan = plan_spawn(
            self._registry,
            entry,
            host,
            self._namespace,
            options,
            workflow.uuid4(),
            child=True,
            parent_namespace=workflow.info().namespace,
        )
        pid, workflow_id = plan.pid, plan.workflow_id
        # A child sees its parent's context and the spawner's values (as a function call does).
        token = outgoing_context.set({**workflow_context(), **options.context} or None)
        try:
            handle = await workflow.start_child_workflow(
                plan.workflow_type, args=list(args), **plan.start_options
            )
        except temporalio.exceptions.WorkflowAlreadyStartedError:
            if not options.reuses_running():
                raise WflowError(
                    f"workflow {workflow_id} is already running", "ALREADY_EXISTS"
                ) from None
            # The running workflow is the spawn's result: its startup messages go to it.
            for topic, payload in options.messages:
                await self.send(pid, topic, payload)
            return pid
        finally:
            reset_after_await(outgoing_context, token)
        self._children[pid] = handle
        for topic, payload in options.messages:
            await self.send(pid, topic, payload)
        # Every child reports EXIT, as Wippy's docs show for a plain spawn (`_workflow_links`).
        self.watch_child(pid, handle)
        return pid

    async def wait(self, pid: str) -> Any:
        handle = self._children.get(pid)
        if handle is None:
            raise WflowError(
                f"{pid} is not a child of this workflow; only children can be awaited",
                ErrorKind.INVALID,
            )
        try:
            return await handle
        except temporalio.exceptions.ChildWorkflowError as exc:
            raise to_wflow_error(exc) from None

    async def cancel(self, pid: str, reason: str | None = None) -> None:
        if is_process_pid(self._registry, pid):
            await cancel_process(self._registry, pid, self._pid, reason)
            return
        _, workflow_id = parse_pid(pid)
        try:
            # Temporal carries the reason to the target (`workflow.cancellation_reason()`).
            await workflow.get_external_workflow_handle(workflow_id).cancel(reason=reason or "")
        except temporalio.exceptions.FailureError as exc:
            raise WflowError(f"cancel {pid}: {exc}", ErrorKind.NOT_FOUND) from None

    async def terminate(self, pid: str, reason: str | None = None) -> None:
        if is_process_pid(self._registry, pid):
            await terminate_process(self._registry, pid, reason)
            return
        parse_pid(pid)
        try:
            await workflow.execute_activity(
                INTERNAL_TERMINATE,
                args=[pid, reason],
                start_to_close_timeout=timedelta(seconds=30),
            )
        except temporalio.exceptions.ActivityError as exc:
            raise to_wflow_error(exc) from None
        self.terminated_peer(pid, reason)

    async def register_name(self, name: str, pid: str | None) -> None:
        raise WflowError(
            "process.registry.register is only available in processes (a workflow is found "
            "by its workflow ID)",
            ErrorKind.INVALID,
        )

    async def lookup_name(self, name: str) -> str | None:
        return await lookup_name(self._registry, name)

    def version(self, change_id: str, min_version: int, max_version: int) -> int:
        if min_version > max_version:
            raise WflowError(
                f"workflow.version({change_id!r}): min {min_version} > max {max_version}",
                ErrorKind.INVALID,
            )
        # One patch marker per version; a run replays with the newest marker it recorded.
        for candidate in range(max_version, min_version, -1):
            if workflow.patched(f"{change_id}@{candidate}"):
                return candidate
        return min_version

    def set_attrs(self, search: Mapping[str, Any] | None, memo: Mapping[str, Any] | None) -> None:
        if memo:
            workflow.upsert_memo(dict(memo))
        if search:
            # Typed as the project's clients declare them (a string may be Keyword or Text).
            declared = self._registry.search_attribute_types()
            updates = [search_update(key, value, declared) for key, value in search.items()]
            workflow.upsert_search_attributes(updates)

    def upgrade(self, args: Sequence[Any]) -> NoReturn:
        carried = [message.to_dict() for message in self._mailbox.drain()]
        token = outgoing_carried.set(carried)
        try:
            workflow.continue_as_new(args=list(args))
        finally:
            outgoing_carried.reset(token)
