"""`wflow init`: a complete, runnable starter project, Lua or Python."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from wflow.cli._common import EXIT_USAGE, fail

__all__ = ["init", "project_files", "register"]

_INDEX = """\
# The project's connection and worker. Every other YAML file holds one namespace's entries.
version: "1.0"
namespace: app
entries:
  - name: temporal_client
    kind: temporal.client
    address: "127.0.0.1:7233"
    namespace: default
    # Empty unless set: wflow's pytest fixtures give each test task queues of its own.
    tq_prefix: "${{env:WFLOW_TQ_PREFIX:-}}"

  - name: temporal_worker
    kind: temporal.worker
    client: app:temporal_client
    task_queue: "{name}"
    lifecycle:
      auto_start: true
"""

_LUA_WORKFLOWS = """\
version: "1.0"
namespace: app.workflows
entries:
  - name: welcome
    kind: workflow.lua
    source: file://welcome.lua
    method: main
    modules: [funcs, time]
"""

_LUA_WORKFLOW = """\
-- app.workflows:welcome: greet a new user, wait a day, then send a follow-up.
local name = ...
local funcs = require("funcs")
local time = require("time")

-- funcs.call returns value, err: on a failed call, return nil, err fails the workflow
-- with the function's error (its kind and message), as a Python workflow's raise would.
local greeting, err = funcs.call("app.functions:greet", name)
if err then return nil, err end
time.sleep("24h") -- durable: survives restarts; takes no time on the time-skipping server
local followup, err = funcs.call("app.functions:send_followup", name)
if err then return nil, err end
return { greeting = greeting, followup = followup }
"""

_LUA_FUNCTIONS_YAML = """\
version: "1.0"
namespace: app.functions
entries:
  - name: greet
    kind: function.lua
    source: file://functions.lua
    method: greet

  - name: send_followup
    kind: function.lua
    source: file://functions.lua
    method: send_followup
"""

_LUA_FUNCTIONS = """\
-- The workflow's functions: where the side effects (e-mail, HTTP, databases) belong.
local function greet(name)
  return "Hello, " .. name .. "!"
end

local function send_followup(name)
  return "follow-up sent to " .. name
end

return { greet = greet, send_followup = send_followup }
"""

_PY_WORKFLOWS = """\
version: "1.0"
namespace: app.workflows
entries:
  - name: welcome
    kind: workflow.py
    module: {module}
    method: welcome
"""

_PY_FUNCTIONS_YAML = """\
version: "1.0"
namespace: app.functions
entries:
  - name: greet
    kind: function.py
    module: {module}
    method: greet

  - name: send_followup
    kind: function.py
    module: {module}
    method: send_followup
"""

_PY_MODULE = '''\
"""The workflow app.workflows:welcome and its functions."""

from __future__ import annotations

import wflow
from wflow import funcs, time


@wflow.function("app.functions:greet")
def greet(name: str) -> str:
    """Return the greeting (functions are where side effects belong)."""
    return f"Hello, {name}!"


@wflow.function("app.functions:send_followup")
def send_followup(name: str) -> str:
    """Send the follow-up; here, only say so."""
    return f"follow-up sent to {name}"


@wflow.workflow("app.workflows:welcome")
async def welcome(name: str) -> dict[str, str]:
    """Greet a new user, wait a day, then send a follow-up."""
    greeting = await funcs.call("app.functions:greet", name)
    await time.sleep("24h")  # durable; takes no time on the time-skipping server
    followup = await funcs.call("app.functions:send_followup", name)
    return {"greeting": greeting, "followup": followup}
'''

_TEST = '''\
"""Tests of app.workflows:welcome on Temporal's time-skipping server (the 24h sleep is skipped).

`wflow_env` comes from wflow's pytest plugin: a time-skipping server per test module, task
queues of the test's own, and function mocks by entry ID.
"""

from __future__ import annotations

from pathlib import Path

from wflow.testing import WflowEnv, calls

PROJECT = Path(__file__).resolve().parent.parent


async def test_welcome_greets_then_follows_up(wflow_env: WflowEnv) -> None:
    result = await wflow_env.run(PROJECT, "app.workflows:welcome", "Ada")

    assert result == {{"greeting": "Hello, Ada!", "followup": "follow-up sent to Ada"}}


async def test_welcome_with_a_mocked_follow_up(wflow_env: WflowEnv) -> None:
    followup = wflow_env.mock_function("app.functions:send_followup", returns="mocked")

    record = await wflow_env.execute(PROJECT, "app.workflows:welcome", "Ada")

    assert record.result == {{"greeting": "Hello, Ada!", "followup": "mocked"}}
    assert followup.call_args == [["Ada"]]
    assert [step.kind for step in calls(record)] == [
        "start", "call", "timer", "call", "completed"
    ]
'''

_PYPROJECT = """\
# pytest settings for the project's tests (wflow's fixtures are async: one event loop).
[tool.pytest.ini_options]
testpaths = ["tests"]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "session"
asyncio_default_test_loop_scope = "session"
"""

_README = """\
# {name}

A wflow project ({language}): the workflow `app.workflows:welcome` greets a user, waits a
day, and sends a follow-up.

| file | holds |
|---|---|
| `_index.yaml` | the Temporal connection and the worker |
{files}| `tests/test_workflow.py` | its tests, with `wflow.testing` |

Check it, run it (`--time-skipping`: the day's sleep takes no time), test it:

```bash
wflow validate {name}
wflow run {name} app.workflows:welcome '"Ada"' --time-skipping
cd {name} && pytest
```

Without `--time-skipping`, `wflow run` starts the embedded Temporal dev server and really
waits a day (the run survives restarts: `wflow ls`, `wflow history`).
"""


def _module_name(name: str) -> str:
    # A module of the project's own name: two projects on one sys.path do not collide.
    module = re.sub(r"\W", "_", name).strip("_").lower() + "_app"
    return module if module[0].isalpha() else f"p{module}"


def project_files(name: str, *, python: bool) -> dict[str, str]:
    """Return the starter project's files (relative path: text) for a project called `name`."""
    files = {
        "_index.yaml": _INDEX.format(name=name),
        "tests/test_workflow.py": _TEST.format(),
        "pyproject.toml": _PYPROJECT,
    }
    if python:
        module = _module_name(name)
        files["workflows.yaml"] = _PY_WORKFLOWS.format(module=module)
        files["functions.yaml"] = _PY_FUNCTIONS_YAML.format(module=module)
        files[f"{module}.py"] = _PY_MODULE
        listed = [
            ("workflows.yaml", "the workflow entry (namespace `app.workflows`)"),
            ("functions.yaml", "the function entries (namespace `app.functions`)"),
            (f"{module}.py", "the workflow and its functions, decorated Python"),
        ]
    else:
        files["workflows.yaml"] = _LUA_WORKFLOWS
        files["welcome.lua"] = _LUA_WORKFLOW
        files["functions.yaml"] = _LUA_FUNCTIONS_YAML
        files["functions.lua"] = _LUA_FUNCTIONS
        listed = [
            ("workflows.yaml", "the workflow entry (namespace `app.workflows`)"),
            ("welcome.lua", "the workflow"),
            ("functions.yaml", "the function entries (namespace `app.functions`)"),
            ("functions.lua", "the functions"),
        ]
    table = "".join(f"| `{path}` | {what} |\n" for path, what in listed)
    files["README.md"] = _README.format(
        name=name, language="Python" if python else "Lua", files=table
    )
    return files


def init(
    project: Annotated[Path, typer.Argument(help="The folder to create.", show_default=False)],
    lua: Annotated[bool, typer.Option("--lua", help="A Lua workflow (the default).")] = False,
    python: Annotated[bool, typer.Option("--python", help="A Python workflow.")] = False,
) -> None:
    """Create a starter project: client, worker, one workflow, its functions, a test.

    Refuses a folder that exists and is not empty (exit 2).
    """
    if lua and python:
        fail(EXIT_USAGE, "error: give --lua or --python, not both")
    if project.exists() and (not project.is_dir() or any(project.iterdir())):
        fail(
            EXIT_USAGE,
            f"error: {project} already exists and is not empty; "
            "wflow init writes a new project into a new or empty folder",
        )
    name = project.resolve().name
    for relative, text in project_files(name, python=python).items():
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    typer.echo(f"created {project} ({'Python' if python else 'Lua'}): try")
    typer.echo(f"  wflow run {project} app.workflows:welcome '\"Ada\"' --time-skipping")
    typer.echo(f"  cd {project} && pytest")


def register(app: typer.Typer) -> None:
    """Add `init` to `app`."""
    app.command()(init)
