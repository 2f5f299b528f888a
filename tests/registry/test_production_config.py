"""Production settings at validate time: schedule specs, search attribute declarations, codecs
and telemetry, each bad input reported at its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from wflow.registry import TemporalScheduleEntry, load_project, validate_project

HEADER = """
version: "1.0"
namespace: app
entries:
  - name: client
    kind: temporal.client
    search_attributes: {CustomerId: Keyword, Amount: Double}
  - name: worker
    kind: temporal.worker
    client: client
    task_queue: q
  - name: wf
    kind: workflow.lua
    source: file://wf.lua
"""


def _project(tmp_path: Path, extra: str, header: str = HEADER) -> Path:
    (tmp_path / "wf.lua").write_text("return function() return 1 end\n")
    (tmp_path / "_index.yaml").write_text(header.lstrip() + extra)
    return tmp_path


def _messages(tmp_path: Path, extra: str, header: str = HEADER) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in validate_project(_project(tmp_path, extra, header))]


def _schedule(*lines: str) -> str:
    """A schedule entry after the header (its `- name:` is line 14), one field a line."""
    return "".join(f"    {line}\n" for line in lines).replace("    - name", "  - name", 1)


def test_a_full_schedule_entry_loads(tmp_path: Path) -> None:
    registry = load_project(
        _project(
            tmp_path,
            _schedule(
                "- name: nightly",
                "kind: temporal.schedule",
                "workflow: wf",
                "args: [{order: 1}]",
                'cron: "30 2 * * *"',
                "interval: [10s, {every: 1h, offset: 5m}]",
                'calendar: [{hour: "9-17", day_of_week: "1-5", minute: "0,30"}]',
                "time_zone: Europe/Berlin",
                "jitter: 30s",
                "overlap: buffer_one",
                "catchup_window: 1h",
                "memo: {team: payments}",
                'search_attributes: {CustomerId: "c-1", Amount: 2.5}',
            ),
        )
    )
    (schedule,) = registry.schedules()
    assert isinstance(schedule, TemporalScheduleEntry)
    assert schedule.cluster_id == "app:nightly"
    assert [i.every.total_seconds() for i in schedule.interval] == [10, 3600]
    assert schedule.cron == ["30 2 * * *"]


def test_schedule_search_attributes_are_checked_against_the_declarations(tmp_path: Path) -> None:
    found = _messages(
        tmp_path,
        _schedule(
            "- name: tagged",
            "kind: temporal.schedule",
            "workflow: wf",
            "interval: 1m",
            'search_attributes: {CustomerId: 7, Region: "eu"}',
        ),
    )
    assert (18, "search attribute 'CustomerId' is declared Keyword, got 7") in found, found
    assert (
        18,
        "search attribute 'Region' is not declared on the temporal.client "
        "(declared: Amount, CustomerId)",
    ) in found, found


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            ['cron: "* * *"'],
            "cron '* * *': expected 5 fields (minute hour day month weekday), got 3",
        ),
        (['calendar: [{hour: "25"}]'], "calendar hour: 25 is outside 0..23"),
        (["interval: 10s", "time_zone: Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
        (["args: []"], "a schedule needs at least one of cron, interval or calendar"),
        (["interval: 10s", "overlap: sometimes"], "overlap"),
        (["interval: 10s", "worker: nobody"], "no entry 'app:nobody'"),
    ],
)
def test_bad_schedule_specs_are_reported_with_their_line(
    tmp_path: Path, fields: list[str], message: str
) -> None:
    found = _messages(
        tmp_path, _schedule("- name: bad", "kind: temporal.schedule", "workflow: wf", *fields)
    )
    assert len(found) == 1, found
    line, text = found[0]
    assert line is not None and 14 <= line <= 18, found
    assert message in text, found


@pytest.mark.parametrize(
    ("client", "message"),
    [
        ("search_attributes: {CustomerId: Keywrd}", "unknown type 'Keywrd'"),
        ("codecs: [{type: encryption}]", "an encryption codec needs key_env"),
        ("codecs: [{type: custom}]", "a custom codec needs class: 'module:Class'"),
        ("telemetry: {metrics: {}}", "metrics needs exactly one of prometheus or otlp_endpoint"),
        ("telemetry: {tracing: {sampling: 2}}", "less than or equal to 1"),
    ],
)
def test_bad_client_production_settings_are_reported(
    tmp_path: Path, client: str, message: str
) -> None:
    header = HEADER.replace(
        "    search_attributes: {CustomerId: Keyword, Amount: Double}", f"    {client}"
    )
    found = _messages(tmp_path, "", header)
    # The client's own field is reported at its line (the worker's reference to the client,
    # which did not load, is reported too).
    assert any(line == 6 and message in text for line, text in found), found
