"""What wflow carries in Temporal headers, so payloads stay exactly the user's values.

* `wflow-context`: `with_context` values, from a workflow's call to the function, and the
  context a workflow was started with (`process.with_context`), read by `workflow_context`.
* `wflow-from`: the sending workflow's PID, on signals it sends.
* `wflow-carried`: unreceived messages, from a run to its continue-as-new successor.

The workflow code sets a context variable just before the Temporal call; the outbound
interceptor, which runs synchronously inside that call, moves the value into the headers.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Mapping
from typing import Any, NoReturn

import temporalio.client
import temporalio.converter
import temporalio.worker
import temporalio.workflow
from temporalio.api.common.v1 import Payload

__all__ = [
    "HeaderInterceptor",
    "carried_messages",
    "client_with_context",
    "outgoing_carried",
    "outgoing_context",
    "outgoing_sender",
    "received_context",
    "reset_after_await",
    "signal_sender",
    "workflow_context",
]

_CONTEXT = "wflow-context"
_FROM = "wflow-from"
_CARRIED = "wflow-carried"

outgoing_context: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "wflow_outgoing_context", default=None
)
outgoing_sender: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "wflow_outgoing_sender", default=None
)
outgoing_carried: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar(
    "wflow_outgoing_carried", default=None
)
_received_context: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "wflow_received_context", default=None
)
_workflow_context: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "wflow_workflow_context", default=None
)
_signal_sender: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "wflow_signal_sender", default=None
)
_carried: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar(
    "wflow_carried", default=None
)


def _encode(value: Any) -> Payload:
    return temporalio.converter.default().payload_converter.to_payloads([value])[0]


def _decode(payload: Payload | None) -> Any:
    if payload is None:
        return None
    return temporalio.converter.default().payload_converter.from_payloads([payload])[0]


def _with(headers: Mapping[str, Payload], key: str, value: Any) -> Mapping[str, Payload]:
    return headers if value is None else {**headers, key: _encode(value)}


def received_context() -> Mapping[str, Any]:
    """Return the context values sent with the activity running in this task."""
    return _received_context.get() or {}


def workflow_context() -> Mapping[str, Any]:
    """Return the context values the running workflow was started with (`wflow-context`)."""
    return _workflow_context.get() or {}


def signal_sender() -> str | None:
    """Return the PID of the workflow whose signal is being handled, if it sent one."""
    return _signal_sender.get()


def carried_messages() -> list[dict[str, Any]]:
    """Return the messages the previous run carried over to this one."""
    return _carried.get() or []


class _Outbound(temporalio.worker.WorkflowOutboundInterceptor):
    def start_activity(self, input: temporalio.worker.StartActivityInput) -> Any:
        input.headers = _with(input.headers, _CONTEXT, outgoing_context.get() or None)
        return super().start_activity(input)

    async def signal_external_workflow(
        self, input: temporalio.worker.SignalExternalWorkflowInput
    ) -> None:
        input.headers = _with(input.headers, _FROM, outgoing_sender.get())
        await super().signal_external_workflow(input)

    async def signal_child_workflow(
        self, input: temporalio.worker.SignalChildWorkflowInput
    ) -> None:
        input.headers = _with(input.headers, _FROM, outgoing_sender.get())
        await super().signal_child_workflow(input)

    async def start_child_workflow(
        self, input: temporalio.worker.StartChildWorkflowInput
    ) -> temporalio.workflow.ChildWorkflowHandle[Any, Any]:
        # `process.with_context{...}` on a spawner: the child reads it with `ctx`.
        input.headers = _with(input.headers, _CONTEXT, outgoing_context.get() or None)
        return await super().start_child_workflow(input)

    def continue_as_new(self, input: temporalio.worker.ContinueAsNewInput) -> NoReturn:
        input.headers = _with(input.headers, _CARRIED, outgoing_carried.get() or None)
        super().continue_as_new(input)


def reset_after_await(var: contextvars.ContextVar[Any], token: contextvars.Token[Any]) -> None:
    """Reset `var` to `token` in a `finally` that follows an `await`.

    When Temporal closes a workflow's coroutine from another context (cache eviction, worker
    shutdown), that `finally` runs there and `reset` raises `ValueError`; the value dies with
    the coroutine's own context then, so there is nothing left to reset.
    """
    with contextlib.suppress(ValueError):
        var.reset(token)


class _WorkflowInbound(temporalio.worker.WorkflowInboundInterceptor):
    def init(self, outbound: temporalio.worker.WorkflowOutboundInterceptor) -> None:
        super().init(_Outbound(outbound))

    async def execute_workflow(self, input: temporalio.worker.ExecuteWorkflowInput) -> Any:
        carried = _decode(input.headers.get(_CARRIED))
        if isinstance(carried, list):
            _carried.set(carried)
        values = _decode(input.headers.get(_CONTEXT))
        if isinstance(values, dict):
            _workflow_context.set(values)
        return await super().execute_workflow(input)

    async def handle_signal(self, input: temporalio.worker.HandleSignalInput) -> None:
        token = _signal_sender.set(_decode(input.headers.get(_FROM)))
        try:
            await super().handle_signal(input)
        finally:
            reset_after_await(_signal_sender, token)


class _ActivityInbound(temporalio.worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: temporalio.worker.ExecuteActivityInput) -> Any:
        values = _decode(input.headers.get(_CONTEXT))
        token = _received_context.set(values if isinstance(values, dict) else None)
        try:
            return await super().execute_activity(input)
        finally:
            _received_context.reset(token)


class HeaderInterceptor(temporalio.worker.Interceptor):
    """Worker interceptor that writes and reads wflow's headers."""

    def intercept_activity(
        self, next: temporalio.worker.ActivityInboundInterceptor
    ) -> temporalio.worker.ActivityInboundInterceptor:
        """Read the call context header around each activity."""
        return _ActivityInbound(super().intercept_activity(next))

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor] | None:
        """Write and read wflow's headers in workflows."""
        return _WorkflowInbound


class _ClientOutbound(temporalio.client.OutboundInterceptor):
    def __init__(self, next: temporalio.client.OutboundInterceptor, values: Mapping[str, Any]):
        super().__init__(next)
        self._values = values

    async def start_workflow(
        self, input: temporalio.client.StartWorkflowInput
    ) -> temporalio.client.WorkflowHandle[Any, Any]:
        input.headers = _with(input.headers, _CONTEXT, dict(self._values))
        return await super().start_workflow(input)


class _ClientContext(temporalio.client.Interceptor):
    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def intercept_client(
        self, next: temporalio.client.OutboundInterceptor
    ) -> temporalio.client.OutboundInterceptor:
        return _ClientOutbound(next, self._values)


def client_with_context(
    client: temporalio.client.Client, values: Mapping[str, Any], namespace: str | None = None
) -> temporalio.client.Client:
    """Return a client like `client` whose workflow starts carry `values` as `wflow-context`.

    It shares `client`'s connection; `namespace` (when given) replaces its namespace.
    """
    config = client.config()
    if values:
        config["interceptors"] = [*config["interceptors"], _ClientContext(values)]
    if namespace:
        config["namespace"] = namespace
    return temporalio.client.Client(**config)
