"""Carries `with_context` values from a workflow's call to the function, in a header.

The workflow runtime puts the values for the one activity it is about to schedule into a
context variable; the outbound interceptor moves them into the activity's headers, and the
activity side reads them back. Activity inputs stay exactly the call's arguments, so a call
with context has the same input payloads as one without.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from typing import Any

import temporalio.activity
import temporalio.converter
import temporalio.worker
from temporalio.api.common.v1 import Payload

__all__ = ["HEADER", "CallContextInterceptor", "pending_context", "received_context"]

HEADER = "wflow-context"

pending_context: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "wflow_pending_call_context", default=None
)
_received: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "wflow_received_call_context", default=None
)


def received_context() -> Mapping[str, Any]:
    """Return the context values sent with the activity running in this task."""
    return _received.get() or {}


class _Outbound(temporalio.worker.WorkflowOutboundInterceptor):
    def start_activity(self, input: temporalio.worker.StartActivityInput) -> Any:
        values = pending_context.get()
        if values:
            payload = temporalio.converter.default().payload_converter.to_payloads([dict(values)])
            input.headers = {**input.headers, HEADER: payload[0]}
        return super().start_activity(input)


class _WorkflowInbound(temporalio.worker.WorkflowInboundInterceptor):
    def init(self, outbound: temporalio.worker.WorkflowOutboundInterceptor) -> None:
        super().init(_Outbound(outbound))


class _ActivityInbound(temporalio.worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: temporalio.worker.ExecuteActivityInput) -> Any:
        payload: Payload | None = input.headers.get(HEADER)
        if payload is None:
            return await super().execute_activity(input)
        values = temporalio.converter.default().payload_converter.from_payloads([payload])[0]
        token = _received.set(values if isinstance(values, dict) else {})
        try:
            return await super().execute_activity(input)
        finally:
            _received.reset(token)


class CallContextInterceptor(temporalio.worker.Interceptor):
    """Worker interceptor that transports call context values."""

    def intercept_activity(
        self, next: temporalio.worker.ActivityInboundInterceptor
    ) -> temporalio.worker.ActivityInboundInterceptor:
        """Wrap activity execution to read the context header."""
        return _ActivityInbound(super().intercept_activity(next))

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor] | None:
        """Wrap workflows to write the context header."""
        return _WorkflowInbound
