"""Tracing and metrics from the client's `telemetry` section.

The span tree of the seed's order workflow, in Lua and in its Python twin (in-memory exporter,
time-skipping server): the client's start, the workflow run, and for each function call the
scheduling span (entry ID, call site `order_processor.lua:3`) with the function's run under
it; and the web UI's summaries the same run recorded (the workflow's entry, each call and timer
with its line). Metrics: the runtime's Prometheus endpoint, scraped on loopback after a run.
"""

from __future__ import annotations

import importlib
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.testing import WorkflowEnvironment

from tests.helpers.production import ORDERS_LUA, with_entries
from wflow.temporal import Session
from wflow.testing import EmbeddedDevServer, free_port

pytestmark = pytest.mark.timeout(120)

_EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    trace.set_tracer_provider(provider)
    yield _EXPORTER


def _tree(spans: list[ReadableSpan], workflow_id: str) -> list[tuple[int, str, dict[str, Any]]]:
    """The spans of one workflow as (depth, name, wflow attributes), depth-first."""
    mine = [s for s in spans if (s.attributes or {}).get("temporalWorkflowID") == workflow_id]
    by_id = {s.context.span_id: s for s in mine}
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in mine:
        parent = span.parent.span_id if span.parent is not None else None
        children.setdefault(parent if parent in by_id else None, []).append(span)
    out: list[tuple[int, str, dict[str, Any]]] = []

    def walk(parent: int | None, depth: int) -> None:
        for span in sorted(children.get(parent, []), key=lambda s: s.start_time or 0):
            attrs = {k: v for k, v in (span.attributes or {}).items() if k.startswith("wflow.")}
            out.append((depth, span.name, attrs))
            walk(span.context.span_id, depth + 1)

    walk(None, 0)
    return out


@pytest.mark.parametrize(
    ("entry", "source"),
    [
        ("app.workflows:order_processor", "order_processor.lua"),
        ("app.twins:order_processor", "shop_twins.py"),
    ],
)
async def test_span_tree_of_the_order_workflow(
    exporter: InMemorySpanExporter,
    time_skipping_env: WorkflowEnvironment,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    entry: str,
    source: str,
) -> None:
    monkeypatch.setenv("WFLOW_EXAMPLE_LEDGER", str(tmp_path / "ledger.sqlite3"))
    registry = with_entries(
        ORDERS_LUA, client={"telemetry": {"tracing": {"service_name": "orders"}}}
    )
    importlib.import_module("shop_functions").set_scenario(card="4242424242424242")
    async with Session(registry, client=time_skipping_env.client) as session:
        handle = await session.start(entry, [])
        await session.result(handle)

        history = await handle.fetch_history()

    # The web UI's summaries, as recorded in the history (user metadata of the events).
    summaries = [
        json.loads(e.user_metadata.summary.data)
        for e in history.events
        if e.HasField("user_metadata") and e.user_metadata.HasField("summary")
    ]
    kind = "workflow.lua" if source.endswith(".lua") else "workflow.py"
    assert summaries[0] == f"{kind} {entry}"
    assert summaries[1].startswith(f"funcs.call app.api:charge_card at {source}:")
    assert summaries[2].startswith(f"time.sleep 24h0m0s at {source}:")
    assert summaries[3].startswith(f"funcs.call app.api:check_status at {source}:")
    if source.endswith(".lua"):
        assert summaries[1:4] == [
            "funcs.call app.api:charge_card at order_processor.lua:3",
            "time.sleep 24h0m0s at order_processor.lua:4",
            "funcs.call app.api:check_status at order_processor.lua:5",
        ]

    tree = _tree(list(exporter.get_finished_spans()), handle.id)
    shape = [(depth, name) for depth, name, _ in tree]
    # temporalio parents every span a workflow makes on the span that started it (the run's
    # own span is a sibling), and a function's run under the span that scheduled it.
    assert shape == [
        (0, f"StartWorkflow:{entry}"),
        (1, f"RunWorkflow:{entry}"),
        (1, "StartActivity:app.api:charge_card"),
        (2, "RunActivity:app.api:charge_card"),
        (1, "StartActivity:app.api:check_status"),
        (2, "RunActivity:app.api:check_status"),
        (1, f"CompleteWorkflow:{entry}"),
    ], shape
    attrs = {name: a for _, name, a in tree}
    assert attrs[f"RunWorkflow:{entry}"]["wflow.entry_id"] == entry
    charge = attrs["StartActivity:app.api:charge_card"]
    assert charge["wflow.entry_id"] == "app.api:charge_card"
    site = charge["wflow.call_site"]
    assert site.startswith(f"{source}:")
    if source.endswith(".lua"):
        assert site == "order_processor.lua:3"  # the script's line of funcs.call
    assert charge["wflow.call"] == f"funcs.call app.api:charge_card at {site}"
    assert attrs["RunActivity:app.api:check_status"]["wflow.entry_id"] == "app.api:check_status"


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return str(response.read().decode())


async def test_prometheus_metrics_are_served(
    dev_server: EmbeddedDevServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WFLOW_EXAMPLE_LEDGER", str(tmp_path / "ledger.sqlite3"))
    port = free_port()
    registry = with_entries(
        ORDERS_LUA,
        client={
            "telemetry": {"metrics": {"prometheus": f"127.0.0.1:{port}", "prefix": "wflowtest_"}}
        },
    )
    async with Session(registry, address=dev_server.address) as session:
        result = await session.execute("app.workflows:order_saga", [])
        assert set(result) == {"inventory", "payment", "shipping"}
        text = _scrape(port)
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    names = {line.split("{")[0].split(" ")[0] for line in lines}
    assert "wflowtest_workflow_completed" in names, sorted(names)
    assert any(name.startswith("wflowtest_activity_execution") for name in names)
