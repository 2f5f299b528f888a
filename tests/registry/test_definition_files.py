"""Which YAML files are definition files: a misspelt `entries` must not hide a file's entries."""

from __future__ import annotations

from pathlib import Path

from wflow.registry import validate_project

INDEX = 'version: "1.0"\nnamespace: app\nentries: []\n'


def test_misspelt_entries_in_a_non_index_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "_index.yaml").write_text(INDEX)
    more = tmp_path / "functions.yaml"
    more.write_text(
        'version: "1.0"\nnamespace: app.api\nentires:\n'
        "  - name: charge\n    kind: function.lua\n    source: file://charge.lua\n"
    )
    problems = validate_project(tmp_path)
    assert [(p.file, p.line) for p in problems] == [(more, 3)]
    assert "unknown top-level field 'entires' (did you mean 'entries'?)" in problems[0].message


def test_header_without_entries_is_reported(tmp_path: Path) -> None:
    (tmp_path / "_index.yaml").write_text(INDEX)
    more = tmp_path / "workflows.yaml"
    more.write_text('version: "1.0"\nnamespace: app.workflows\n')
    problems = validate_project(tmp_path)
    assert [(p.file, p.line, p.message) for p in problems] == [
        (more, 1, "missing required field 'entries' (a list)")
    ]


def test_other_yaml_files_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "_index.yaml").write_text(INDEX)
    (tmp_path / "docker-compose.yml").write_text('version: "3"\nservices: {}\n')
    (tmp_path / "mkdocs.yml").write_text("site_name: x\nnav: []\n")
    assert validate_project(tmp_path) == []
