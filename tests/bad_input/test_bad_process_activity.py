"""Bad process activities (issue 9): a `process.lua` / `process.py` entry registered as an
activity without a worker, or as a local activity, is a problem naming file, line and entry;
a call of a process that is not registered as an activity names the fix (`wflow validate`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wflow.registry import validate_project

HEAD = """\
version: "1.0"
namespace: app
entries:
  - {name: c, kind: temporal.client}
  - {name: w, kind: temporal.worker, client: c, task_queue: q}
"""

LUA = "  - {name: job, kind: process.lua, source: file://job.lua, meta: %s}\n"
PY = "  - {name: job, kind: process.py, module: job, method: main, meta: %s}\n"


def _project(tmp_path: Path, body: str) -> Path:
    (tmp_path / "job.lua").write_text("return { main = function() return 1 end }\n")
    (tmp_path / "job.py").write_text("async def main() -> int:\n    return 1\n")
    (tmp_path / "wf.lua").write_text(
        'local funcs = require("funcs")\n'
        'return { main = function() return funcs.call("app:job") end }\n'
    )
    path = tmp_path / "_index.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    return path


@pytest.mark.parametrize("entry", [LUA, PY], ids=["lua", "py"])
@pytest.mark.parametrize(
    ("meta", "message"),
    [
        (
            "{temporal: {activity: {local: false}}}",
            "meta.temporal.activity of a process entry needs worker",
        ),
        (
            "{temporal: {activity: {worker: app:w, local: true}}}",
            "meta.temporal.activity.local: true is not supported for a process entry",
        ),
    ],
    ids=["no_worker", "local"],
)
def test_bad_process_activity_meta_names_file_line_and_entry(
    tmp_path: Path, entry: str, meta: str, message: str
) -> None:
    path = _project(tmp_path, entry % meta)
    problems = validate_project(tmp_path)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.file, problem.line, problem.entry_id) == (path, 6, "app:job")
    assert message in problem.message


@pytest.mark.parametrize("entry", [LUA, PY], ids=["lua", "py"])
def test_calling_a_process_not_registered_as_an_activity_names_the_fix(
    tmp_path: Path, entry: str
) -> None:
    call = "  - {name: wf, kind: workflow.lua, source: file://wf.lua, modules: [funcs]}\n"
    _project(tmp_path, entry % "{}" + call)
    problems = validate_project(tmp_path, check_programs=True)
    assert len(problems) == 1, problems
    assert problems[0].entry_id == "app:wf"
    assert "funcs.call(\"app:job\"): 'app:job' is a process." in problems[0].message
    assert (
        "entry that is not registered as an activity: give it meta.temporal.activity.worker "
        "to call it as a function, or start it with process.spawn" in problems[0].message
    )


@pytest.mark.parametrize("entry", [LUA, PY], ids=["lua", "py"])
def test_a_process_registered_as_an_activity_is_a_valid_call_target(
    tmp_path: Path, entry: str
) -> None:
    call = "  - {name: wf, kind: workflow.lua, source: file://wf.lua, modules: [funcs]}\n"
    _project(tmp_path, entry % "{temporal: {activity: {worker: app:w}}}" + call)
    assert validate_project(tmp_path, check_programs=True) == []
