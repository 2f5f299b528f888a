"""Tracing and metrics a `temporal.client` entry's `telemetry` section asks for; off by default.

Tracing is Temporal's own OpenTelemetry interceptor (`temporalio.contrib.opentelemetry`), on
the client and so on every worker built on it, for workflows and functions of both languages
alike: a span for each workflow run, each function call scheduled (`StartActivity:<entry>`)
and run (`RunActivity:<entry>`), each child and message. wflow adds the entry ID and the call
site (`order.lua:3`) to the call spans. Metrics are the Temporal runtime's own (Prometheus
endpoint or OTLP push).

OpenTelemetry is imported only when a client asks for tracing (`pip install 'wflow[otel]'`).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from temporalio.runtime import (
    LoggingConfig,
    OpenTelemetryConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
)

from wflow.model import ErrorKind, WflowError
from wflow.registry import TemporalClientEntry

if TYPE_CHECKING:
    from temporalio.client import Interceptor

__all__ = ["CALL_SITE_ATTRIBUTE", "ENTRY_ATTRIBUTE", "client_interceptors", "metrics_runtime"]

ENTRY_ATTRIBUTE = "wflow.entry_id"
"""Span attribute: the workflow or function entry the span is about."""
CALL_SITE_ATTRIBUTE = "wflow.call_site"
"""Span attribute: where the workflow's code made the call (`order.lua:3`)."""
CALL_ATTRIBUTE = "wflow.call"
"""Span attribute: the call as the web UI's summary shows it."""

_providers: dict[tuple[str, str, float], Any] = {}
_runtimes: dict[tuple[str | None, str | None, str], Runtime] = {}
_lock = threading.Lock()


def _otel_missing() -> WflowError:
    return WflowError("tracing needs OpenTelemetry: pip install 'wflow[otel]'", ErrorKind.INVALID)


def _tracer(entry: TemporalClientEntry) -> Any:
    """The tracer for the entry: its own OTLP exporter, or the process's provider."""
    tracing = entry.telemetry.tracing if entry.telemetry is not None else None
    assert tracing is not None
    try:
        import opentelemetry.trace
    except ImportError:  # pragma: no cover - depends on the installation
        raise _otel_missing() from None
    if tracing.otlp_endpoint is None:
        # The application (or a test) set up its own provider: use it.
        return opentelemetry.trace.get_tracer("wflow")
    key = (tracing.otlp_endpoint, tracing.service_name, tracing.sampling)
    with _lock:
        provider = _providers.get(key)
        if provider is None:
            try:
                from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                    OTLPSpanExporter,
                )
                from opentelemetry.sdk.resources import Resource
                from opentelemetry.sdk.trace import TracerProvider
                from opentelemetry.sdk.trace.export import BatchSpanProcessor
                from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
            except ImportError:  # pragma: no cover - depends on the installation
                raise _otel_missing() from None
            provider = TracerProvider(
                resource=Resource.create({"service.name": tracing.service_name}),
                sampler=ParentBased(TraceIdRatioBased(tracing.sampling)),
            )
            provider.add_span_processor(
                BatchSpanProcessor(OTLPSpanExporter(endpoint=tracing.otlp_endpoint))
            )
            _providers[key] = provider
    return provider.get_tracer("wflow")


def client_interceptors(entry: TemporalClientEntry | None) -> list[Interceptor]:
    """The interceptors the entry's telemetry asks for (empty when tracing is off)."""
    if entry is None or entry.telemetry is None:
        return []
    tracing = entry.telemetry.tracing
    if tracing is None or not tracing.enabled:
        return []
    from wflow.temporal._tracing import WflowTracingInterceptor

    return [WflowTracingInterceptor(_tracer(entry), always_create_workflow_spans=True)]


def metrics_runtime(entry: TemporalClientEntry | None) -> Runtime | None:
    """A Temporal runtime exporting the entry's metrics, or None when it asks for none.

    One runtime per distinct metrics setting in the process (a Prometheus address can be
    bound once).
    """
    if entry is None or entry.telemetry is None or entry.telemetry.metrics is None:
        return None
    metrics = entry.telemetry.metrics
    key = (metrics.prometheus, metrics.otlp_endpoint, metrics.prefix)
    with _lock:
        runtime = _runtimes.get(key)
        if runtime is None:
            sink: PrometheusConfig | OpenTelemetryConfig
            if metrics.prometheus is not None:
                sink = PrometheusConfig(bind_address=metrics.prometheus)
            else:
                sink = OpenTelemetryConfig(url=metrics.otlp_endpoint or "")
            try:
                runtime = Runtime(
                    telemetry=TelemetryConfig(
                        logging=LoggingConfig.default,
                        metrics=sink,
                        metric_prefix=metrics.prefix,
                    )
                )
            except Exception as exc:  # the core's error: a bad or busy address
                raise WflowError(
                    f"temporal.client {entry.id}: cannot start metrics "
                    f"({metrics.prometheus or metrics.otlp_endpoint}): {exc}",
                    ErrorKind.INVALID,
                ) from None
            _runtimes[key] = runtime
    return runtime
