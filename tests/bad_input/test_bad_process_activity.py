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


CALL = "  - {name: wf, kind: workflow.lua, source: file://wf.lua, modules: [funcs]}\n"


@pytest.mark.parametrize("entry", [LUA, PY], ids=["lua", "py"])
def test_calling_a_process_not_registered_as_an_activity_names_the_fix(
    tmp_path: Path, entry: str
) -> None:
    _project(tmp_path, entry % "{}" + CALL)
    problems = validate_project(tmp_path, check_programs=True)
    assert [p.entry_id for p in problems] == ["app:wf"], problems
    assert "funcs.call(\"app:job\"): 'app:job' is a process." in problems[0].message
    assert (
        "entry that is not registered as an activity: give it meta.temporal.activity.worker "
        "to call it as a function, or start it with process.spawn" in problems[0].message
    )
    # Registered as an activity, the same call is valid.
    _project(tmp_path, entry % "{temporal: {activity: {worker: app:w}}}" + CALL)
    assert validate_project(tmp_path, check_programs=True) == []
