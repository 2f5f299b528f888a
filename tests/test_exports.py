"""The public surface, pinned: adding or removing an export is a decision, made here too.

When a package's `__all__` changes on purpose, update its list below in the same commit.
"""

from __future__ import annotations

import importlib

import pytest

EXPORTS: dict[str, list[str]] = {
    "wflow": [
        "Connection",
        "ErrorKind",
        "Event",
        "Message",
        "RetryPolicy",
        "SpawnOptions",
        "WflowError",
        "channel",
        "connect",
        "crypto",
        "ctx",
        "errors",
        "funcs",
        "function",
        "process",
        "time",
        "uuid",
        "workflow",
    ],
    "wflow.model": [
        "CANCEL",
        "EVENT_KINDS",
        "EXIT",
        "LINK_DOWN",
        "Peers",
        "link_down_first",
        "link_failure",
        "DEFAULT_MAILBOX_BOUND",
        "DEFAULT_START_TO_CLOSE",
        "ENGINE_ENTRY_POINT_GROUP",
        "LAYOUTS",
        "UPDATE_PID_PREFIX",
        "ActivityOptions",
        "CallHandle",
        "Channel",
        "Engine",
        "ErrorKind",
        "Event",
        "FunctionContext",
        "FunctionProgram",
        "Mailbox",
        "Message",
        "ProcessClient",
        "RealSources",
        "RetryPolicy",
        "SelectResult",
        "SpawnOptions",
        "SpawnRequest",
        "WflowError",
        "WorkflowInfo",
        "WorkflowProgram",
        "WorkflowRuntime",
        "after_channel",
        "argument_count_error",
        "bind_runtime",
        "call_site",
        "current_call_site",
        "current_runtime",
        "engine_for",
        "error_is",
        "format_duration",
        "format_layout",
        "format_pid",
        "format_uuid",
        "has_engine",
        "in_workflow",
        "load_zone",
        "make_uuid1",
        "make_uuid7",
        "message_payload",
        "new_error",
        "parse_byte_size",
        "parse_duration",
        "parse_layout",
        "parse_pid",
        "python_call_site",
        "register_engine",
        "result_channel",
        "select",
        "ticker_channel",
        "uuid_facts",
        "wrap_error",
        "zone_offset",
    ],
    "wflow.testing": [
        "FAKE_PID",
        "FAKE_START",
        "FAKE_WORKER",
        "TQ_PREFIX_ENV",
        "CallStep",
        "EmbeddedDevServer",
        "FakeCallHandle",
        "FakeChild",
        "FakeContinueAsNew",
        "FakeProcessClient",
        "FakeResult",
        "FakeRuntime",
        "FunctionMock",
        "HistoryLike",
        "MockCall",
        "Project",
        "ReplayOutcome",
        "RunRecord",
        "WflowEnv",
        "WorkflowUnderTest",
        "assert_same_calls",
        "assert_same_history",
        "call_steps",
        "calls",
        "decode_payloads",
        "dev_server",
        "event_summary",
        "find_binary",
        "free_port",
        "history_summary",
        "mock_function",
        "mocks_applied",
        "replay",
        "replay_history",
        "replay_report",
        "replayer",
        "run",
        "run_workflow",
        "server_answers",
        "start_time_skipping",
        "time_skipping_server",
        "wait_for_event",
        "workflow_class",
        "workflow_classes",
        "workflow_program",
    ],
    "lua_bridge": [
        "DEFAULT_MAX_INSTRUCTIONS",
        "DEFAULT_MAX_MEMORY",
        "FUNCTION_MODULES",
        "LUA_VERSION",
        "OPERATIONS",
        "WORKFLOW_MODULES",
        "LuaBridge",
        "LuaEngine",
        "LuaFunctionProgram",
        "LuaLimits",
        "LuaProblem",
        "LuaResourceError",
        "LuaScriptError",
        "LuaValueError",
        "LuaWorkflowProgram",
        "Operation",
        "create_bridge",
    ],
    "wflow.exceptions": ["ConfigError", "ErrorKind", "Problem", "WflowError"],
}


@pytest.mark.parametrize("module_name", sorted(EXPORTS))
def test_exports_are_pinned(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == sorted(EXPORTS[module_name])
    assert len(set(module.__all__)) == len(module.__all__), "an export is listed twice"


@pytest.mark.parametrize("module_name", sorted(EXPORTS))
def test_every_export_exists(module_name: str) -> None:
    module = importlib.import_module(module_name)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []


def test_the_workflow_decorator_carries_every_workflow_function() -> None:
    # `wflow.workflow` is the decorator; workflows call `wflow.workflow.info()` etc. on it, so
    # a function added to `wflow.dsl.workflow` must be added to the decorator as well.
    import wflow

    # `wflow.dsl.workflow` as an attribute is the decorator too; sys.modules has the module.
    functions = importlib.import_module("wflow.dsl.workflow")
    for name in functions.__all__:
        assert getattr(wflow.workflow, name) is getattr(functions, name), name
