"""YAML syntax errors in definition files: plain words, the right line, the line shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from wflow.registry import validate_project

HEADER = 'version: "1.0"\nnamespace: app\n'

CASES = [
    pytest.param(
        HEADER + "entries:\n  - name: w\n    kind: workflow.lua\n   source: file://w.lua\n",
        6,
        "this line is indented less than the list item it belongs to (line 4)",
        id="dedented-list-key",
    ),
    pytest.param(
        HEADER
        + "entries:\n  - name: a\n    kind: workflow.lua\n  - name: b\n   kind: workflow.lua\n",
        7,
        "this line is indented less than the list item it belongs to (line 6)",
        id="dedented-key-of-the-second-item",
    ),
    pytest.param(
        HEADER + "entries:\n  - name: w\n    x:\n      a: 1\n     b: 2\n",
        7,
        "matches no block above it",
        id="indentation-matching-nothing",
    ),
    pytest.param(
        HEADER + "entries: [\n  {name: w, kind: workflow.lua}\n",
        3,
        "the '[' opened on line 3 is never closed with ']'",
        id="unclosed-bracket",
    ),
    pytest.param(
        HEADER + "entries:\n  - name: w\n    kind: {a: 1\n",
        5,
        "the '{' opened on line 5 is never closed with '}'",
        id="unclosed-brace",
    ),
    pytest.param(
        HEADER + 'entries:\n  - name: "w\n    kind: workflow.lua\n',
        4,
        "the quote opened on line 4 is never closed",
        id="unclosed-quote",
    ),
    pytest.param(
        'version: "1.0"\nnamespace: app\nnamespace: other\nentries: []\n',
        3,
        "the key 'namespace' appears twice in the same block",
        id="duplicate-key",
    ),
    pytest.param(
        HEADER + "entries:\n  - name: w\n    source: file://a: b.lua\n",
        5,
        "a second ':' on this line: put the value in quotes",
        id="colon-in-value",
    ),
    pytest.param(
        HEADER + "entries:\n  - name\n    kind: workflow.lua\n",
        5,
        "the line before this one has no ':'",
        id="key-without-colon",
    ),
    pytest.param(
        HEADER + "entries: []\n  extra: 1\n",
        4,
        "indented more than the line before it",
        id="indented-under-a-value",
    ),
    pytest.param(
        HEADER + "entries:\n\t- name: w\n",
        4,
        "a tab character: YAML indents with spaces only",
        id="tab",
    ),
    pytest.param(
        HEADER + "entries:\n  - name: @w\n",
        4,
        "a value cannot start with '@': put the value in quotes",
        id="reserved-character",
    ),
    pytest.param(
        HEADER + "entries:\n  - *base\n",
        4,
        "'*base' refers to an anchor '&base' that is not defined above it",
        id="undefined-alias",
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), CASES)
def test_yaml_syntax_error_in_plain_words(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "_index.yaml"
    path.write_text(text, encoding="utf-8")
    problems = validate_project(tmp_path)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.file, problem.line) == (path, line)
    assert message in problem.message
    assert "expected <block end>" not in problem.message
    assert "while parsing" not in problem.message and "while scanning" not in problem.message


def test_the_offending_line_is_shown(tmp_path: Path) -> None:
    path = tmp_path / "_index.yaml"
    path.write_text(HEADER + "entries:\n  - name: w\n   kind: workflow.lua\n", encoding="utf-8")
    (problem,) = validate_project(tmp_path)
    assert problem.message.endswith("\n    5 |    kind: workflow.lua")
    assert str(problem).startswith(f"{path}:5: this line is indented less than the list item")
