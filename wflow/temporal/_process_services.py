"""`process.service`: start a process with its host, restart it by its policy, report.

A service names a process entry and a `process.host`. With `lifecycle.auto_start` it starts
when its host starts, after the services it `depends_on`. When its process ends with an error
(or crashes, or is terminated) it is started again after a delay that grows by
`backoff_factor` from `initial_delay` up to `max_delay`, with `jitter`, at most `max_attempts`
times (default 10, so a service that cannot start gives up; 0: without limit). A process that
returns normally is not restarted. A service that used up its restarts is reported (with its
last failure) and stays down, or stops its host (`host.on_service_exhausted: stop_host`). The
service's entry ID is registered as a name for its current PID, so
`process.registry.lookup("app:session_manager")` finds it across restarts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from wflow.model import ErrorKind, SpawnOptions, WflowError, format_duration
from wflow.registry import ProcessServiceEntry, Registry, RestartPolicy
from wflow.temporal._process_host import ProcessExit, ProcessHost

__all__ = ["DEFAULT_MAX_ATTEMPTS", "Backoff", "Supervisor", "start_order"]

_log = logging.getLogger("wflow.processes")

DEFAULT_MAX_ATTEMPTS = 10
"""Restarts of a service whose `restart.max_attempts` is not set.

Bounded: a service whose process cannot start (a load error, a crash in its first steps)
would otherwise be restarted forever, its log filling with the same failure. `0` asks for
no limit explicitly.
"""

Report = Callable[[str], None]
"""Told one line per service start, exit, restart and exhaustion."""


@dataclasses.dataclass(frozen=True)
class Backoff:
    """A restart policy with its defaults filled in.

    Attributes:
        initial_delay: Delay before the first restart (default 50 ms).
        max_delay: Upper bound of the delay (default 1 s).
        backoff_factor: Factor applied after each restart (default 2).
        jitter: Random fraction added to each delay, 0..1 (default 0).
        max_attempts: Restarts in all (default `DEFAULT_MAX_ATTEMPTS`); 0 means without
            limit.
    """

    initial_delay: timedelta = timedelta(milliseconds=50)
    max_delay: timedelta = timedelta(seconds=1)
    backoff_factor: float = 2.0
    jitter: float = 0.0
    max_attempts: int = DEFAULT_MAX_ATTEMPTS

    @classmethod
    def from_policy(cls, policy: RestartPolicy | None) -> Backoff:
        """Return the backoff of a service's `restart` block (None: all defaults)."""
        if policy is None:
            return cls()
        defaults = cls()
        return cls(
            initial_delay=policy.initial_delay or defaults.initial_delay,
            max_delay=policy.max_delay or defaults.max_delay,
            backoff_factor=policy.backoff_factor or defaults.backoff_factor,
            jitter=policy.jitter if policy.jitter is not None else defaults.jitter,
            max_attempts=(
                policy.max_attempts if policy.max_attempts is not None else defaults.max_attempts
            ),
        )

    def delay(self, restart: int, rng: random.Random | None = None) -> timedelta:
        """Return the delay before restart number `restart` (1 for the first)."""
        base = self.initial_delay * (self.backoff_factor ** (restart - 1))
        base = min(base, self.max_delay)
        if self.jitter:
            base = base * (1 + (rng or random.Random()).uniform(0, self.jitter))
        return base


def start_order(registry: Registry, services: Sequence[ProcessServiceEntry]) -> list[str]:
    """Return the service IDs ordered so each starts after the services it depends on.

    Dependencies on other kinds (clients, workers, hosts) are already running when services
    start, and do not order anything here.

    Raises:
        WflowError: `INVALID` naming the services of a dependency cycle.
    """
    ids = {service.id for service in services}
    deps = {
        service.id: [
            dep
            for ref in service.lifecycle.depends_on
            if (dep := registry.resolve(ref, service.namespace, None)) in ids
        ]
        for service in services
    }
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(sid: str, path: list[str]) -> None:
        if state.get(sid) == "done":
            return
        if state.get(sid) == "visiting":
            cycle = " -> ".join([*path[path.index(sid) :], sid])
            raise WflowError(f"lifecycle.depends_on has a cycle: {cycle}", ErrorKind.INVALID)
        state[sid] = "visiting"
        for dep in deps[sid]:
            visit(dep, [*path, sid])
        state[sid] = "done"
        order.append(sid)

    for service in services:
        visit(service.id, [])
    return order


@dataclasses.dataclass
class _Service:
    entry: ProcessServiceEntry
    backoff: Backoff
    pid: str | None = None
    restarts: int = 0
    down: bool = False
    last_error: str | None = None


class Supervisor:
    """Runs the services of one host instance.

    Args:
        host: The host instance.
        services: Its services (those whose `host` is this host's entry).
        report: Told one line per start, exit, restart and exhaustion.
        stop_host: Called when an exhausted service stops its host.
    """

    def __init__(
        self,
        host: ProcessHost,
        services: Sequence[ProcessServiceEntry],
        report: Report | None = None,
        stop_host: Callable[[], Any] | None = None,
    ) -> None:
        self._host = host
        self._services = {
            s.id: _Service(s, Backoff.from_policy(s.lifecycle.restart)) for s in services
        }
        self._report = report
        self._stop_host = stop_host
        self._by_pid: dict[str, str] = {}
        self._timers: set[asyncio.TimerHandle] = set()
        self._stopped = False
        host.on_exit(self._exited)

    def _say(self, line: str) -> None:
        _log.info("%s", line)
        if self._report is not None:
            self._report(line)

    def start(self) -> None:
        """Start the auto-start services, dependencies first."""
        order = start_order(self._host.registry, [s.entry for s in self._services.values()])
        for sid in order:
            if self._services[sid].entry.lifecycle.auto_start:
                self._start(sid)

    def _start(self, sid: str) -> None:
        service = self._services[sid]
        entry = service.entry
        try:
            pid = self._host.spawn(
                entry.process, entry.input, SpawnOptions(), service=sid, namespace=entry.namespace
            )
        except WflowError as exc:
            self._say(f"service {sid} failed to start: {exc.message}")
            service.last_error = f"failed to start: {exc}"
            self._failed(service)
            return
        service.pid = pid
        self._by_pid[pid] = sid
        self._host.register_name(sid, pid)
        attempt = f" (restart {service.restarts})" if service.restarts else ""
        self._say(f"service {sid} started as {pid}{attempt}")

    def _exited(self, pid: str, entry_id: str, outcome: ProcessExit) -> None:
        sid = self._by_pid.pop(pid, None)
        if sid is None or self._stopped:
            return
        service = self._services[sid]
        service.pid = None
        if outcome.error is None:
            self._say(f"service {sid} ({pid}) returned; not restarted")
            service.down = True
            return
        self._say(f"service {sid} ({pid}) exited: {outcome.error}")
        service.last_error = str(outcome.error)
        self._failed(service)

    def _failed(self, service: _Service) -> None:
        sid = service.entry.id
        limit = service.backoff.max_attempts
        if limit and service.restarts >= limit:
            service.down = True
            self._say(f"service {sid} gave up after {service.restarts} restarts (max_attempts)")
            self._say(f"service {sid} is down; its last failure: {service.last_error}")
            if self._host.entry.host.on_service_exhausted == "stop_host" and self._stop_host:
                self._say(f"process host {self._host.host_id} stops (on_service_exhausted)")
                self._stop_host()
            return
        service.restarts += 1
        delay = service.backoff.delay(service.restarts)
        of = f"/{limit}" if limit else ""
        self._say(f"service {sid} restarts in {format_duration(delay)} ({service.restarts}{of})")
        loop = asyncio.get_running_loop()
        self._host.guard.begin()  # a restart pending on real time holds skipped time back
        handle = loop.call_later(delay.total_seconds(), self._restart, sid)
        self._timers.add(handle)

    def _restart(self, sid: str) -> None:
        self._host.guard.end()
        if not self._stopped:
            self._start(sid)

    def status(self) -> dict[str, dict[str, Any]]:
        """Return each service's PID, restarts and whether it is down."""
        return {
            sid: {"pid": s.pid, "restarts": s.restarts, "down": s.down, "error": s.last_error}
            for sid, s in self._services.items()
        }

    def stop(self) -> None:
        """Stop supervising: no more restarts."""
        self._stopped = True
        for handle in self._timers:
            handle.cancel()  # the host's guard closes with the host: no end() needed
