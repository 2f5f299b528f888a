"""Testing wflow workflows: real servers, a fake runtime, history helpers, replay.

What wflow's own tests and benchmarks use, public so that a project's tests can use it too:

* **Servers from the pip-installed binaries** (no download, no Docker): `dev_server()`, the
  embedded dev server (`EmbeddedDevServer`) on a free port, and `time_skipping_server()`,
  where durable sleeps take milliseconds. Both are async context managers.
* **A fake runtime**: `FakeRuntime` implements every intercepted call in memory (canned
  function results, a virtual clock, a mailbox the test fills, children as tasks), and
  `run_workflow` runs a Lua or Python workflow on it to its end, with no server at all.
  `FakeProcessClient` stands in for the process API outside workflows.
* **Histories**: `wait_for_event` instead of sleeping; `history_summary` / `event_summary`,
  what must agree between two runs that did the same thing (a Lua workflow and its Python
  twin); `call_steps`, the intercepted calls of a history one `CallStep` each (what
  `wflow history` prints); `replay(project, "histories/*.json")`, the regression test
  against stored runs (`RunRecord.save_history` writes one), failing with the calls where
  the code left its history; `replayer` to replay recorded histories as a worker would, and
  `replay_history`, which says where a changed workflow diverges (`ReplayOutcome`).

Importing this module imports neither Lua (`lupa`, `lua_bridge`) nor starts anything: a Lua
engine is loaded only when a Lua workflow is run.

Example:
    ```python
    from wflow.testing import FakeRuntime, run_workflow

    async def test_charges_once() -> None:
        runtime = FakeRuntime({"app.api:charge_card": {"receipt": "r-1"}})
        result = await run_workflow(order_processor, [{"amount": 5}], runtime=runtime)
        assert [target for target, _, _ in runtime.calls] == ["app.api:charge_card"]
    ```
"""

from wflow.temporal import CallStep, ReplayOutcome, call_steps, replay_history
from wflow.testing._assertions import (
    HistoryLike,
    assert_same_calls,
    assert_same_history,
    calls,
)
from wflow.testing._fakes import (
    FAKE_PID,
    FAKE_START,
    FAKE_WORKER,
    FakeCallHandle,
    FakeChild,
    FakeContinueAsNew,
    FakeProcessClient,
    FakeResult,
    FakeRuntime,
)
from wflow.testing._history import decode_payloads, event_summary, history_summary, wait_for_event
from wflow.testing._mocks import FunctionMock, MockCall, mock_function, mocks_applied
from wflow.testing._replay import (
    replay,
    replay_report,
    replayer,
    workflow_class,
    workflow_classes,
)
from wflow.testing._run import WorkflowUnderTest, run_workflow, workflow_program
from wflow.testing._test_servers import (
    EmbeddedDevServer,
    dev_server,
    find_binary,
    free_port,
    server_answers,
    start_time_skipping,
    time_skipping_server,
)
from wflow.testing._wflow_env import TQ_PREFIX_ENV, Project, RunRecord, WflowEnv, run

__all__ = [
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
]
