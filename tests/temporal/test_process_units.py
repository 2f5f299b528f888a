"""Process hosts and services without a server: PIDs, backoff, start order, bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest

from wflow.model import ErrorKind, WflowError
from wflow.registry import ProcessLuaEntry, ProcessServiceEntry, Registry, RestartPolicy
from wflow.registry._schema import ProcessHostEntry
from wflow.temporal._process_host import split_process_pid
from wflow.temporal._process_router import process_host_id
from wflow.temporal._process_services import DEFAULT_MAX_ATTEMPTS, Backoff, start_order


def test_a_process_pid_names_its_host_and_instance() -> None:
    assert split_process_pid("app:processes/3f9a1c2e-7") == ("app:processes", "3f9a1c2e")


@pytest.mark.parametrize("pid", ["app:processes/3f9a", "processes/3f9a-1", "app:p/x-y", "x"])
def test_a_malformed_process_pid_is_invalid(pid: str) -> None:
    with pytest.raises(WflowError) as caught:
        split_process_pid(pid)
    assert caught.value.kind is ErrorKind.INVALID
    assert "<process.host entry ID>/<instance>-<n>" in caught.value.message


def test_backoff_grows_by_its_factor_up_to_max_delay() -> None:
    backoff = Backoff.from_policy(
        RestartPolicy(initial_delay=timedelta(seconds=1), max_delay=timedelta(seconds=5))
    )
    assert [backoff.delay(n).total_seconds() for n in range(1, 6)] == [1, 2, 4, 5, 5]
    assert Backoff.from_policy(RestartPolicy(max_attempts=10)).max_attempts == 10


def test_restarts_are_bounded_unless_zero_asks_for_no_limit() -> None:
    assert Backoff.from_policy(None).max_attempts == DEFAULT_MAX_ATTEMPTS == 10
    assert Backoff.from_policy(RestartPolicy(initial_delay=timedelta(1))).max_attempts == 10
    assert Backoff.from_policy(RestartPolicy(max_attempts=0)).max_attempts == 0


def test_jitter_adds_at_most_its_fraction() -> None:
    backoff = Backoff(initial_delay=timedelta(seconds=1), jitter=0.5)
    delays = {backoff.delay(1).total_seconds() for _ in range(50)}
    assert all(1 <= d <= 1.5 for d in delays) and len(delays) > 1


def _service(name: str, depends_on: list[str]) -> ProcessServiceEntry:
    entry = ProcessServiceEntry.model_validate(
        {
            "name": name,
            "kind": "process.service",
            "process": "app:p",
            "host": "app:h",
            "lifecycle": {"depends_on": depends_on},
        }
    )
    entry.place("app")
    return entry


def _host(name: str) -> ProcessHostEntry:
    entry = ProcessHostEntry.model_validate({"name": name, "kind": "process.host"})
    entry.place("app")
    return entry


def _others() -> list[ProcessHostEntry | ProcessLuaEntry]:
    process = ProcessLuaEntry.model_validate(
        {"name": "p", "kind": "process.lua", "source": "file://p.lua"}
    )
    process.place("app")
    return [_host("h"), process]


def test_services_start_after_what_they_depend_on() -> None:
    services = [
        _service("web", ["app:db", "app:cache"]),
        _service("db", []),
        _service("cache", ["db"]),
    ]
    registry = Registry([*services, *_others()])
    assert start_order(registry, services) == ["app:db", "app:cache", "app:web"]


def test_a_dependency_cycle_is_refused_naming_it() -> None:
    services = [_service("a", ["b"]), _service("b", ["a"])]
    with pytest.raises(WflowError) as caught:
        start_order(Registry([*services, *_others()]), services)
    assert caught.value.kind is ErrorKind.INVALID
    assert caught.value.message == "lifecycle.depends_on has a cycle: app:a -> app:b -> app:a"


def test_a_process_spawn_without_host_needs_exactly_one_host() -> None:
    assert process_host_id(Registry([_host("one")]), None, "app") == "app:one"
    with pytest.raises(WflowError) as caught:
        process_host_id(Registry([_host("one"), _host("two")]), None, "app")
    assert "needs its process.host (the project has 2: app:one, app:two)" in caught.value.message
