"""The registry: loading, IDs and references, env interpolation, workers, decorators, schema."""

from __future__ import annotations

import json
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

import wflow.registry as reg
from tests.helpers.paths import FIXTURES
from wflow.model import ErrorKind, WflowError
from wflow.registry import (
    ConfigError,
    Problem,
    Registry,
    TemporalClientEntry,
    TemporalWorkerEntry,
    WorkflowLuaEntry,
    definition_file_schema,
    load_project,
    register_decorated,
    validate_project,
)

SEED = FIXTURES / "registry" / "seed"


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _isolated() -> Iterator[None]:
    with reg.isolated_decorations():
        yield


# --- the seed project ---------------------------------------------------------------------------


def test_seed_project_loads_and_resolves() -> None:
    registry = load_project(SEED)

    assert set(registry.entries) == {
        "app:temporal_client",
        "app:temporal_worker",
        "app.workflows:order_processor",
    }
    workflow = registry.get("app.workflows:order_processor")
    assert isinstance(workflow, WorkflowLuaEntry)
    assert workflow.namespace == "app.workflows"
    assert workflow.method == "main"
    assert workflow.modules == ["funcs", "time"]
    assert workflow.file == SEED / "workflows" / "_index.yaml"
    assert workflow.line == 4
    assert workflow.source_path() == SEED / "workflows" / "order_processor.lua"
    assert workflow.source_path().is_file()

    worker = registry.worker_of("app.workflows:order_processor", "workflow")
    assert worker.id == "app:temporal_worker"
    assert worker.lifecycle.auto_start is True
    client = registry.client_of(worker)
    assert client is not None and client.id == "app:temporal_client"
    assert client.temporal_namespace == "default"
    assert client.connection_timeout == timedelta(seconds=10)
    assert registry.task_queue_of(worker) == "orders"
    assert [w.id for w in registry.workflows()] == ["app.workflows:order_processor"]
    assert [c.id for c in registry.clients()] == ["app:temporal_client"]
    assert validate_project(SEED) == []


def test_seed_json_schema_validates_structure() -> None:
    schema = definition_file_schema()
    assert schema["required"] == ["version", "namespace"]
    entries = schema["properties"]["entries"]["items"]
    assert entries["discriminator"]["propertyName"] == "kind"
    kinds = set(entries["discriminator"]["mapping"])
    assert {"workflow.lua", "function.lua", "workflow.py", "temporal.worker"} <= kinds
    text = json.dumps(schema)
    # loader-set attributes and pydantic private fields never appear
    for leaked in ('"id"', '"file"', '"line"', '"_namespace"', '"_node"', '"temporal_namespace"'):
        assert leaked not in text
    client = schema["$defs"]["TemporalClientEntry"]
    assert client["properties"]["namespace"]["default"] == "default"
    assert client["properties"]["connection_timeout"]["default"] == "10s"
    assert "kind" in client["required"]
    assert client["additionalProperties"] is False


# --- IDs and references -------------------------------------------------------------------------


def test_bare_names_resolve_in_the_entry_namespace(tmp_path: Path) -> None:
    write(
        tmp_path,
        "_index.yaml",
        """
        version: "1.0"
        namespace: app
        entries:
          - name: client
            kind: temporal.client
            tq_prefix: "dev-"
          - name: worker
            kind: temporal.worker
            client: client
            task_queue: orders
          - name: helpers
            kind: library.lua
            source: file://helpers.lua
          - name: flow
            kind: workflow.lua
            source: file://flow.lua
            imports:
              h: helpers
              other: lib.shared:util
        """,
    )
    write(
        tmp_path,
        "lib/_index.yaml",
        """
        version: "1.0"
        namespace: lib.shared
        entries:
          - {name: util, kind: library.lua, source: "file://util.lua"}
        """,
    )
    for name in ("helpers.lua", "flow.lua", "lib/util.lua"):
        write(tmp_path, name, "return {}\n")

    registry = load_project(tmp_path)

    assert registry.client_of("app:worker") is registry.get("app:client")
    assert registry.task_queue_of("app:worker") == "dev-orders"
    assert registry.resolve("helpers", "app") == "app:helpers"
    assert registry.resolve("lib.shared:util", "app") == "lib.shared:util"
    with pytest.raises(WflowError) as caught:
        registry.resolve("helper", "app")
    assert caught.value.kind is ErrorKind.NOT_FOUND
    assert "app:helpers" in caught.value.message  # near names are suggested
    with pytest.raises(WflowError) as caught:
        registry.resolve("helpers", "app", kinds=("temporal.worker",))
    assert caught.value.kind is ErrorKind.INVALID


def test_get_unknown_entry_suggests_near_names() -> None:
    registry = load_project(SEED)
    with pytest.raises(WflowError) as caught:
        registry.get("app.workflows:order_procesor")
    assert caught.value.kind is ErrorKind.NOT_FOUND
    assert "'app.workflows:order_processor'" in caught.value.message


# --- env interpolation --------------------------------------------------------------------------


def test_env_values_are_resolved_at_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WFLOW_TEST_HOST", "temporal.example.com")
    monkeypatch.setenv("WFLOW_TEST_QUEUE", "payments")
    monkeypatch.setenv("WFLOW_TEST_CACHE", "42")
    monkeypatch.delenv("WFLOW_TEST_UNSET", raising=False)
    write(
        tmp_path,
        "_index.yaml",
        """
        version: "1.0"
        namespace: app
        entries:
          - name: client
            kind: temporal.client
            address: "${env:WFLOW_TEST_HOST}:7233"
            namespace: ${env:WFLOW_TEST_UNSET:-fallback}
            tq_prefix: "$${env:NOT_INTERPOLATED}"
          - name: worker
            kind: temporal.worker
            client: client
            task_queue: ${env:WFLOW_TEST_QUEUE}
            worker_options:
              max_cached_workflows: ${env:WFLOW_TEST_CACHE}
        """,
    )
    registry = load_project(tmp_path)
    client = registry.get("app:client")
    assert isinstance(client, TemporalClientEntry)
    assert client.address == "temporal.example.com:7233"
    assert client.temporal_namespace == "fallback"
    assert client.tq_prefix == "${env:NOT_INTERPOLATED}"
    worker = registry.get("app:worker")
    assert isinstance(worker, TemporalWorkerEntry)
    assert worker.task_queue == "payments"
    assert worker.worker_options.max_cached_workflows == 42
    assert worker.worker_options.to_temporalio_kwargs() == {"max_cached_workflows": 42}


# --- worker assignment --------------------------------------------------------------------------


def _two_workers(tmp_path: Path) -> Path:
    write(
        tmp_path,
        "_index.yaml",
        """
        version: "1.0"
        namespace: app
        entries:
          - {name: fast, kind: temporal.worker, task_queue: fast}
          - {name: slow, kind: temporal.worker, task_queue: slow}
          - name: nested
            kind: workflow.lua
            source: file://w.lua
            meta:
              temporal:
                workflow:
                  worker: slow
                activity:
                  worker: app:fast
          - name: flat
            kind: function.lua
            source: file://w.lua
            meta:
              temporal.activity.worker: fast
          - name: unassigned
            kind: workflow.lua
            source: file://w.lua
        """,
    )
    write(tmp_path, "w.lua", "return function() end\n")
    return tmp_path


def test_explicit_meta_worker_nested_and_flat(tmp_path: Path) -> None:
    registry = load_project(_two_workers(tmp_path))
    assert registry.worker_of("app:nested", "workflow").id == "app:slow"
    assert registry.worker_of("app:nested", "activity").id == "app:fast"
    assert registry.worker_of("app:flat", "activity").id == "app:fast"
    assert [e.id for e in registry.workflows_on("app:slow")] == ["app:nested"]
    assert [e.id for e in registry.functions_on("app:fast")] == ["app:flat"]
    assert registry.functions_on("app:slow") == []


def test_without_meta_and_several_workers_worker_of_is_a_clear_error(tmp_path: Path) -> None:
    registry = load_project(_two_workers(tmp_path))
    with pytest.raises(WflowError) as caught:
        registry.worker_of("app:unassigned", "workflow")
    assert caught.value.kind is ErrorKind.INVALID
    message = caught.value.message
    assert "app:unassigned" in message and "meta.temporal.workflow.worker" in message
    assert "app:fast" in message and "app:slow" in message


def test_the_only_worker_is_the_default(tmp_path: Path) -> None:
    write(
        tmp_path,
        "_index.yaml",
        """
        version: "1.0"
        namespace: app
        entries:
          - {name: only, kind: temporal.worker, task_queue: q}
          - {name: f, kind: function.lua, source: "file://f.lua"}
        """,
    )
    write(tmp_path, "f.lua", "return function() end\n")
    registry = load_project(tmp_path)
    assert registry.worker_of("app:f", "activity").id == "app:only"
    assert registry.worker_of("app:f", "workflow").id == "app:only"
    assert registry.client_of("app:only") is None
    assert registry.task_queue_of("app:only") == "q"


def test_no_worker_at_all_is_a_clear_error() -> None:
    entry = WorkflowLuaEntry(name="w", source="file://w.lua").place("app")
    registry = Registry([entry], root=SEED)
    with pytest.raises(WflowError, match=r"no temporal\.worker entry"):
        registry.worker_of("app:w", "workflow")


# --- registry built in code ---------------------------------------------------------------------


def test_registry_built_in_code_checks_references_and_duplicates() -> None:
    worker = TemporalWorkerEntry(name="w", task_queue="q", client="nope").place("app")
    with pytest.raises(ConfigError) as caught:
        Registry([worker])
    assert caught.value.problems == [
        Problem(None, None, "field 'client': no entry 'app:nope'", "app:w")
    ]
    assert str(caught.value.problems[0]) == "app:w: field 'client': no entry 'app:nope'"

    a = WorkflowLuaEntry(name="x", source="file://x.lua").place("app")
    b = WorkflowLuaEntry(name="x", source="file://y.lua").place("app")
    with pytest.raises(ConfigError, match="duplicate entry ID 'app:x'"):
        Registry([a, b])

    registry = Registry([a], root="/srv/project")
    assert registry.get("app:x").base_dir == Path("/srv/project")
    assert registry.of_kind("workflow.lua") == [a]


def test_values_are_normalised() -> None:
    entry = WorkflowLuaEntry.model_validate(
        {
            "name": "w",
            "kind": "workflow.lua",
            "source": "file://w.lua",
            "limits": {"max_memory": "64MiB", "max_instructions": 1000},
        }
    )
    assert entry.limits is not None and entry.limits.max_memory == 64 * 1024 * 1024
    assert reg.parse_byte_size("32MB") == 32_000_000
    assert reg.parse_byte_size("512KiB") == 512 * 1024
    client = TemporalClientEntry.model_validate(
        {"name": "c", "kind": "temporal.client", "connection_timeout": "1m30s"}
    )
    assert client.connection_timeout == timedelta(seconds=90)


# --- decorated Python entries -------------------------------------------------------------------


def _module_name() -> str:
    return f"wflow_test_flows_{uuid.uuid4().hex[:8]}"


def test_decorated_entries_merge_into_a_yaml_project(tmp_path: Path) -> None:
    module = _module_name()
    write(
        tmp_path,
        f"{module}.py",
        """
        from wflow.registry import register_decorated

        async def order_flow(order):
            return order

        def charge(order):
            return "charged"

        register_decorated("workflow.py", "app.py:order_flow", order_flow, sandboxed=False)
        register_decorated("function.py", "app.py:charge", charge, worker="app:worker")
        """,
    )
    write(
        tmp_path,
        "_index.yaml",
        f"""
        version: "1.0"
        namespace: app
        entries:
          - {{name: worker, kind: temporal.worker, task_queue: q}}
          - name: flow_from_yaml
            kind: workflow.py
            module: {module}
            method: plain_helper
        """,
    )
    with open(tmp_path / f"{module}.py", "a", encoding="utf-8") as handle:
        handle.write("\nasync def plain_helper():\n    return 1\n")

    registry = load_project(tmp_path)

    assert str(tmp_path) in sys.path
    flow = registry.get("app.py:order_flow")
    assert isinstance(flow, reg.WorkflowPyEntry)
    assert flow.decorated and flow.sandboxed is False
    assert flow.file == tmp_path / f"{module}.py" and flow.line == 3
    target = registry.python_target("app.py:order_flow")
    assert target.__name__ == "order_flow"
    assert reg.decorated_entry_of(target) == "app.py:order_flow"
    assert registry.worker_of("app.py:charge", "activity").id == "app:worker"
    yaml_target = registry.python_target("app:flow_from_yaml")
    assert yaml_target.__name__ == "plain_helper"
    assert reg.decorated_entry_of(yaml_target) is None


def test_yaml_entry_may_name_a_decorated_function_with_the_same_id(tmp_path: Path) -> None:
    module = _module_name()
    write(
        tmp_path,
        f"{module}.py",
        """
        from wflow.registry import register_decorated

        async def flow():
            return 1

        register_decorated("workflow.py", "app:flow", flow)
        """,
    )
    write(
        tmp_path,
        "_index.yaml",
        f"""
        version: "1.0"
        namespace: app
        entries:
          - {{name: flow, kind: workflow.py, module: {module}, method: flow}}
        """,
    )
    registry = load_project(tmp_path)
    entry = registry.get("app:flow")
    assert entry.file == tmp_path / "_index.yaml"  # the YAML entry, not a duplicate
    assert len(registry) == 1


def test_reregistering_the_same_function_is_a_noop_and_another_is_an_error() -> None:
    async def flow() -> None:
        return None

    async def flow_again() -> None:
        return None

    flow_again.__qualname__ = flow.__qualname__  # what a sandbox re-import produces
    register_decorated("workflow.py", "app:flow", flow)
    register_decorated("workflow.py", "app:flow", flow_again)
    assert reg.decorated_entries()[0].fn is flow

    async def other() -> None:
        return None

    with pytest.raises(ConfigError) as caught:
        register_decorated("workflow.py", "app:flow", other)
    message = str(caught.value)
    assert "app:flow" in message
    assert flow.__qualname__ in message and other.__qualname__ in message
    with pytest.raises(ConfigError, match="invalid entry ID"):
        register_decorated("function.py", "no-namespace", other)


def test_wrapped_decorated_functions_are_unwrapped() -> None:
    import functools

    def user_fn(x: int) -> int:
        return x

    @functools.wraps(user_fn)
    def wrapper(x: int) -> int:
        return user_fn(x)

    register_decorated("function.py", "app:fn", wrapper)
    registry = Registry([entry.to_entry() for entry in reg.decorated_entries()])
    assert registry.python_target("app:fn") is user_fn
    assert reg.decorated_entry_of(user_fn) == "app:fn"
    assert reg.decorated_entry_of(wrapper) == "app:fn"


# --- extra checks -------------------------------------------------------------------------------


def test_validate_project_runs_extra_checks() -> None:
    def lua_check(registry: Registry) -> list[Problem]:
        return [
            Problem(entry.file, entry.line, "pretend syntax error", entry.id)
            for entry in registry.workflows()
        ]

    def broken_check(registry: Registry) -> list[Problem]:
        raise RuntimeError("boom")

    problems = validate_project(SEED, extra_checks=[lua_check, broken_check])
    assert problems[0].message == "pretend syntax error"
    assert any("boom" in p.message for p in problems)
    with pytest.raises(ConfigError):
        load_project(SEED, extra_checks=[lua_check])


def test_anchors_merge_keys_and_unquoted_version(tmp_path: Path) -> None:
    write(
        tmp_path,
        "defs/workers.yml",
        """
        version: 1.0
        namespace: app
        x-worker: &worker
          kind: temporal.worker
          task_queue: shared
        entries:
          - <<: *worker
            name: a
          - <<: *worker
            name: b
            task_queue: own
        """,
    )
    registry = load_project(tmp_path)
    assert registry.task_queue_of("app:a") == "shared"
    assert registry.task_queue_of("app:b") == "own"
    assert registry.get("app:b").line == 9


def test_load_project_accepts_a_single_definition_file() -> None:
    registry = load_project(SEED / "_index.yaml")
    assert set(registry.entries) == {"app:temporal_client", "app:temporal_worker"}
    assert registry.root == SEED


def test_public_exports_exist() -> None:
    for name in reg.__all__:
        assert hasattr(reg, name), name
    assert {"load_project", "validate_project", "Registry", "Problem", "ConfigError"} <= set(
        reg.__all__
    )
    assert issubclass(ConfigError, WflowError)


def test_module_exiting_at_import_is_a_problem_not_an_exit(tmp_path: Path) -> None:
    module = _module_name()
    write(tmp_path, f"{module}.py", "import sys\nsys.exit(3)\n")
    write(
        tmp_path,
        "_index.yaml",
        f"""
        version: "1.0"
        namespace: app
        entries:
          - {{name: f, kind: function.py, module: {module}, method: f}}
        """,
    )
    problems = validate_project(tmp_path)
    assert [p.line for p in problems] == [4]
    assert problems[0].message == f"cannot import module '{module}': SystemExit: 3"
