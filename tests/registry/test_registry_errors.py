"""Bad configuration: every kind of bad input names the file and the right line."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import wflow.registry as reg
from wflow.model import ErrorKind
from wflow.registry import ConfigError, Problem, load_project, validate_project

HEADER = 'version: "1.0"\nnamespace: app\nentries:\n'


@pytest.fixture(autouse=True)
def _isolated() -> Iterator[None]:
    with reg.isolated_decorations():
        yield


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def line_of(path: Path, marker: str) -> int:
    """The 1-based line of the first line of `path` containing `marker`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"{marker!r} not in {path}")


def entries_file(root: Path, body: str, name: str = "_index.yaml") -> Path:
    """A definition file in namespace `app` with the given (dedented) entries."""
    return write(root, name, HEADER + textwrap.indent(textwrap.dedent(body).lstrip("\n"), "  "))


def only_problem(root: Path) -> Problem:
    problems = validate_project(root)
    assert len(problems) == 1, "\n".join(map(str, problems))
    problem = problems[0]
    assert "pydantic" not in problem.message and "http" not in problem.message
    with pytest.raises(ConfigError) as caught:
        load_project(root)
    assert caught.value.kind is ErrorKind.INVALID
    assert caught.value.problems == [problem]
    return problem


def test_malformed_yaml(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "_index.yaml",
        """
        version: "1.0"
        namespace: app
        entries:
          - name: w
            kind: workflow.lua
           source: file://w.lua
        """,
    )
    problem = only_problem(tmp_path)
    assert problem.file == path
    assert problem.line == line_of(path, "source: file://w.lua")
    assert str(problem).startswith(f"{path}:{problem.line}: ")
    assert "this line is indented less than the list item it belongs to" in problem.message


def test_malformed_yaml_in_a_file_that_is_not_a_definition_file_is_ignored(
    tmp_path: Path,
) -> None:
    write(tmp_path, "docker-compose.yml", "services: [unclosed\n")
    write(tmp_path, "mkdocs.yml", "site_name: x\nnav:\n  - a.md\n")
    write(tmp_path, ".wflow/_index.yaml", "this: [is broken\n")
    write(tmp_path, "node_modules/pkg/_index.yaml", "this: [is broken\n")
    assert validate_project(tmp_path) == []
    assert len(load_project(tmp_path)) == 0


def test_unknown_kind_lists_the_known_kinds(tmp_path: Path) -> None:
    path = entries_file(
        tmp_path,
        """
        - name: w
          kind: workflow.lau
          source: file://w.lua
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line) == (path, line_of(path, "kind: workflow.lau"))
    assert problem.entry_id == "app:w"
    assert "unknown kind 'workflow.lau'" in problem.message
    for kind in reg.KINDS:
        assert kind in problem.message


def test_unknown_field_is_named_with_a_suggestion(tmp_path: Path) -> None:
    write(tmp_path, "w.lua", "return function() end\n")
    path = entries_file(
        tmp_path,
        """
        - name: w
          kind: workflow.lua
          source: file://w.lua
          modules: [funcs]
          method: main
          limits:
            max_memory: 64MiB
            max_instructons: 1000
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line) == (path, line_of(path, "max_instructons"))
    assert problem.message == (
        "unknown field 'limits.max_instructons' (did you mean 'max_instructions'?)"
    )
    assert str(problem) == f"{path}:{problem.line}: app:w: {problem.message}"


def test_missing_required_field_points_at_the_entry(tmp_path: Path) -> None:
    path = entries_file(
        tmp_path,
        """
        - name: c
          kind: temporal.client
        - name: worker
          kind: temporal.worker
          client: c
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line) == (path, line_of(path, "name: worker"))
    assert problem.entry_id == "app:worker"
    assert problem.message == "missing required field 'task_queue'"


def test_duplicate_id_across_two_files_names_both(tmp_path: Path) -> None:
    write(tmp_path, "a/w.lua", "return function() end\n")
    write(tmp_path, "b/w.lua", "return function() end\n")
    first = entries_file(
        tmp_path / "a", "- {name: w, kind: workflow.lua, source: 'file://w.lua'}\n"
    )
    second = entries_file(
        tmp_path / "b", "\n- {name: w, kind: function.lua, source: 'file://w.lua'}\n"
    )
    problem = only_problem(tmp_path)
    assert problem.file == second
    assert problem.line == line_of(second, "name: w")
    assert problem.message == (
        f"duplicate entry ID 'app:w': already defined at {first}:{line_of(first, 'name: w')}"
    )


def test_dangling_reference(tmp_path: Path) -> None:
    path = entries_file(
        tmp_path,
        """
        - name: temporal_client
          kind: temporal.client
        - name: worker
          kind: temporal.worker
          task_queue: q
          client: temporal_clint
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line) == (path, line_of(path, "client: temporal_clint"))
    assert problem.message == (
        "field 'client': no entry 'app:temporal_clint' (did you mean 'app:temporal_client'?)"
    )


def test_wrong_kind_reference(tmp_path: Path) -> None:
    write(tmp_path, "w.lua", "return function() end\n")
    path = entries_file(
        tmp_path,
        """
        - name: worker
          kind: temporal.worker
          task_queue: q
        - name: flow
          kind: workflow.lua
          source: file://w.lua
          imports:
            lib: app:worker
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line) == (path, line_of(path, "lib: app:worker"))
    assert problem.entry_id == "app:flow"
    assert problem.message == (
        "field 'imports.lib': 'app:worker' is a temporal.worker entry, expected library.lua"
    )


def test_meta_worker_reference_is_checked(tmp_path: Path) -> None:
    write(tmp_path, "w.lua", "return function() end\n")
    path = entries_file(
        tmp_path,
        """
        - name: flow
          kind: workflow.lua
          source: file://w.lua
          meta:
            temporal:
              workflow:
                worker: app:missing
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line) == (path, line_of(path, "worker: app:missing"))
    assert problem.message == "field 'meta.temporal.workflow.worker': no entry 'app:missing'"


def test_bad_duration_names_entry_and_field(tmp_path: Path) -> None:
    path = entries_file(
        tmp_path,
        """
        - name: client
          kind: temporal.client
          connection_timeout: ten seconds
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line) == (path, line_of(path, "connection_timeout"))
    assert problem.entry_id == "app:client"
    assert problem.message.startswith(
        "field 'connection_timeout': invalid duration \"ten seconds\""
    )


def test_bad_version(tmp_path: Path) -> None:
    path = write(tmp_path, "_index.yaml", 'namespace: app\nversion: "2.0"\nentries: []\n')
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line) == (path, 2)
    assert problem.message == "unsupported version '2.0' (supported: '1.0')"


def test_missing_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WFLOW_TEST_MISSING", raising=False)
    path = entries_file(
        tmp_path,
        """
        - name: client
          kind: temporal.client
          address: "${env:WFLOW_TEST_MISSING}:7233"
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line) == (path, line_of(path, "WFLOW_TEST_MISSING"))
    assert "environment variable WFLOW_TEST_MISSING is not set" in problem.message


def test_bad_name(tmp_path: Path) -> None:
    path = entries_file(
        tmp_path,
        """
        - name: ok
          kind: temporal.worker
          task_queue: q
        - name: "order processor!"
          kind: temporal.worker
          task_queue: q
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line) == (path, line_of(path, "order processor!"))
    assert problem.message.startswith("field 'name': invalid name 'order processor!'")


def test_bad_namespace(tmp_path: Path) -> None:
    path = write(tmp_path, "_index.yaml", 'version: "1.0"\nnamespace: "my app"\nentries: []\n')
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line) == (path, 2)
    assert "invalid namespace 'my app'" in problem.message


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        (
            "{type: api_key, api_key: k, api_key_env: KEY}",
            "auth type 'api_key' needs exactly one of api_key, api_key_file, api_key_env "
            "(found: api_key, api_key_env)",
        ),
        ("{type: api_key}", "found: none"),
        ("{type: mtls, cert_file: c.pem}", "auth type 'mtls' needs key_file"),
        ("{api_key: k}", "auth type is 'none' but api_key is set"),
        ("{type: oauth}", "field 'auth.type': must be 'none', 'api_key' or 'mtls'"),
    ],
)
def test_bad_auth_combination(tmp_path: Path, auth: str, expected: str) -> None:
    path = entries_file(
        tmp_path,
        f"""
        - name: client
          kind: temporal.client
          tls: {{enabled: true}}
          auth: {auth}
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line) == (path, line_of(path, "auth:"))
    assert expected in problem.message


def test_missing_lua_source_file(tmp_path: Path) -> None:
    path = entries_file(
        tmp_path,
        """
        - name: flow
          kind: workflow.lua
          source: file://missing.lua
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line) == (path, line_of(path, "missing.lua"))
    assert problem.message == f"source file not found: {tmp_path / 'missing.lua'}"


def test_unimportable_python_module(tmp_path: Path) -> None:
    module = f"wflow_test_missing_{uuid.uuid4().hex[:8]}"
    path = entries_file(
        tmp_path,
        f"""
        - name: flow
          kind: workflow.py
          module: {module}
          method: main
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line) == (path, line_of(path, "module:"))
    assert problem.message == f"cannot import module '{module}': no such module"


def test_python_module_with_a_syntax_error(tmp_path: Path) -> None:
    module = f"wflow_test_broken_{uuid.uuid4().hex[:8]}"
    write(tmp_path, f"{module}.py", "def main(:\n    pass\n")
    path = entries_file(
        tmp_path, f"- {{name: f, kind: function.py, module: {module}, method: main}}\n"
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line) == (path, line_of(path, "module:"))
    assert problem.message.startswith(f"cannot import module '{module}': syntax error at ")
    assert f"{module}.py:1" in problem.message


def test_python_module_without_the_attribute(tmp_path: Path) -> None:
    module = f"wflow_test_flows_{uuid.uuid4().hex[:8]}"
    write(tmp_path, f"{module}.py", "def other():\n    pass\n")
    path = entries_file(
        tmp_path,
        f"""
        - name: f
          kind: function.py
          module: {module}
          method: charge
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line) == (path, line_of(path, "method: charge"))
    assert problem.message == f"module '{module}' has no attribute 'charge'"


def test_yaml_entry_naming_a_function_decorated_with_another_id(tmp_path: Path) -> None:
    module = f"wflow_test_flows_{uuid.uuid4().hex[:8]}"
    write(
        tmp_path,
        f"{module}.py",
        """
        from wflow.registry import register_decorated

        def charge():
            pass

        register_decorated("function.py", "payments:charge", charge)
        """,
    )
    path = entries_file(
        tmp_path, f"- {{name: charge, kind: function.py, module: {module}, method: charge}}\n"
    )
    problems = validate_project(tmp_path)
    assert problems[0].file == path
    assert problems[0].message == (
        f"'{module}.charge' is decorated as function.py 'payments:charge', "
        "which does not match this function.py entry"
    )


def test_decorated_entry_with_a_dangling_worker_names_the_python_file(tmp_path: Path) -> None:
    source = tmp_path / "charges_dangling.py"
    source.write_text(
        "import wflow\n"
        "\n"
        "@wflow.function('app:ping')\n"
        "def ping() -> None:\n"
        "    pass\n"
        "\n"
        "@wflow.function('app:charge', worker='wroker')\n"
        "def charge() -> None:\n"
        "    pass\n"
    )
    write(
        tmp_path,
        "_index.yaml",
        HEADER
        + "  - {name: worker, kind: temporal.worker, task_queue: q}\n"
        + "  - {name: ping, kind: function.py, module: charges_dangling, method: ping}\n",
    )
    problem = only_problem(tmp_path)
    assert problem.file == source
    assert problem.line == 7  # the decorator line, where the worker is named
    assert problem.message == (
        "field 'meta.temporal.activity.worker': no entry 'app:wroker' (did you mean 'app:worker'?)"
    )


def test_decorated_entries_of_other_projects_stay_out(tmp_path: Path) -> None:
    write(
        tmp_path,
        "_index.yaml",
        HEADER + "  - {name: worker, kind: temporal.worker, task_queue: q}\n",
    )

    def elsewhere() -> None:
        pass

    reg.register_decorated("function.py", "app:elsewhere", elsewhere)
    assert "app:elsewhere" not in reg.load_project(tmp_path)


def test_all_problems_of_all_files_are_collected_in_order(tmp_path: Path) -> None:
    first = entries_file(
        tmp_path / "a",
        """
        - name: one
          kind: nope
        - name: two
          kind: temporal.worker
        """,
    )
    second = write(tmp_path, "b/_index.yaml", 'version: "1.0"\nnamespace: app\nentries: [\n')
    problems = validate_project(tmp_path)
    assert [(p.file, p.line) for p in problems] == [
        (first, line_of(first, "kind: nope")),
        (first, line_of(first, "name: two")),
        (second, 4),
    ]
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path)
    assert str(caught.value).splitlines() == [str(p) for p in problems]


def test_index_file_without_entries_is_still_a_definition_file(tmp_path: Path) -> None:
    path = write(tmp_path, "_index.yaml", 'version: "1.0"\nnamespace: app\nentrys: []\n')
    problems = validate_project(tmp_path)
    assert [(p.file, p.line) for p in problems] == [(path, 1)]
    assert "version, namespace and entries" in problems[0].message


def test_unknown_top_level_field(tmp_path: Path) -> None:
    path = write(tmp_path, "_index.yaml", 'version: "1.0"\nnamespace: app\nentries: []\nextra: 1\n')
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line) == (path, 4)
    assert "unknown top-level field 'extra'" in problem.message


def test_wrong_value_type_is_described_without_pydantic_boilerplate(tmp_path: Path) -> None:
    path = entries_file(
        tmp_path,
        """
        - name: worker
          kind: temporal.worker
          task_queue: q
          worker_options:
            max_cached_workflows: many
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line) == (path, line_of(path, "max_cached_workflows"))
    assert problem.message == (
        "field 'worker_options.max_cached_workflows': must be a valid integer, "
        "unable to parse string as an integer (got 'many')"
    )


def test_missing_project_folder(tmp_path: Path) -> None:
    problems = validate_project(tmp_path / "nope")
    assert [str(p) for p in problems] == [f"{tmp_path / 'nope'}: no such project folder or file"]
