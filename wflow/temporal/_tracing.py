"""Temporal's OpenTelemetry interceptor, with wflow's attributes on the spans of calls.

Imported only when a client asks for tracing (it imports `opentelemetry`). The spans are
temporalio's (`RunWorkflow:<entry>`, `StartActivity:<entry>`, `RunActivity:<entry>`, ...);
wflow adds `wflow.entry_id`, and on a call's span `wflow.call` (the web UI's summary) and
`wflow.call_site` (`order.lua:3`, the script's or Python module's line).
"""

from __future__ import annotations

from typing import Any

import opentelemetry.trace
import temporalio.worker
from temporalio import activity
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor

__all__ = ["WflowTracingInterceptor", "WflowTracingWorkflowInterceptor"]

_ENTRY = "wflow.entry_id"
_CALL = "wflow.call"
_SITE = "wflow.call_site"


def _call_attributes(target: str, summary: str | None) -> dict[str, str]:
    attributes = {_ENTRY: target}
    if summary:
        attributes[_CALL] = summary
        _, sep, site = summary.rpartition(" at ")
        if sep:
            attributes[_SITE] = site
    return attributes


class WflowTracingWorkflowInterceptor(TracingWorkflowInboundInterceptor):
    """The workflow side: adds wflow's attributes to the spans temporalio completes."""

    def _completed_span(self, span_name: str, **kwargs: Any) -> None:
        extra = dict(kwargs.pop("additional_attributes", None) or {})
        outbound = kwargs.get("add_to_outbound")
        if isinstance(outbound, temporalio.worker.StartActivityInput):
            extra.update(_call_attributes(outbound.activity, outbound.summary))
        elif isinstance(outbound, temporalio.worker.StartChildWorkflowInput):
            extra.update(_call_attributes(outbound.workflow, outbound.static_summary))
        elif span_name.startswith("RunWorkflow:"):
            extra[_ENTRY] = span_name.removeprefix("RunWorkflow:")
        super()._completed_span(span_name, additional_attributes=extra or None, **kwargs)


class _ActivityAttributes(temporalio.worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: temporalio.worker.ExecuteActivityInput) -> Any:
        span = opentelemetry.trace.get_current_span()
        span.set_attribute(_ENTRY, activity.info().activity_type)
        return await super().execute_activity(input)


class WflowTracingInterceptor(TracingInterceptor):
    """`TracingInterceptor` whose spans carry wflow's entry IDs and call sites."""

    def intercept_activity(
        self, next: temporalio.worker.ActivityInboundInterceptor
    ) -> temporalio.worker.ActivityInboundInterceptor:
        """Trace each function run; the span names the function entry."""
        return super().intercept_activity(_ActivityAttributes(next))

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        """Trace workflows with wflow's attributes on the spans of calls."""
        super().workflow_interceptor_class(input)
        return WflowTracingWorkflowInterceptor
