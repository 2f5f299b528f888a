"""Chaos: workflows survive SIGKILLed workers and a SIGKILLed server, with real processes.

Three `wflow worker` processes (the real command line) run a batch of Lua and Python jobs
(tests/fixtures/chaos: four function calls in both languages, two timers of 1-3 s and one
message each) while workers are SIGKILLed at random moments and restarted, and the embedded dev
server is SIGKILLed and started again from its database file. Then:

- every workflow completed with the value its inputs and message determine;
- no function whose completion Temporal recorded ran again: each function run writes
  `started` and `completed` to a ledger with a token it also returns; the history's
  ActivityTaskCompleted names the recorded run's token, and no run of the same call may start
  after that run completed (a run killed before its completion was recorded may run again:
  Temporal runs functions at least once);
- no workflow task failed with a nondeterminism error, and every job scheduled its 4 calls once.

The RNG is seeded (the seed is printed; `WFLOW_CHAOS_SEED=N` repeats a run), the size is
`WFLOW_CHAOS_SCALE` (default 1: 120 workflows, 24 worker kills, 2 server kills, about two
minutes) or `--chaos-long` (5x).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent

import wflow
from tests.helpers.paths import FIXTURES
from wflow.model import ErrorKind, SpawnOptions, WflowError
from wflow.testing import EmbeddedDevServer, free_port

pytestmark = pytest.mark.timeout(3600)  # a backstop: the test keeps its own deadline

PROJECT = FIXTURES / "chaos"
sys.path.insert(0, str(PROJECT))
from chaos_functions import expected  # noqa: E402

WORKERS = 3
WORKER_ENTRY = "chaos:worker"
LEDGER_LINE = re.compile(r"chaos-ledger\|(started|completed)\|([^|]+)\|([^|]+)\|(\d+)")
NONDETERMINISM = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR


def _scale(config: pytest.Config) -> float:
    if os.environ.get("WFLOW_CHAOS_SCALE"):
        return float(os.environ["WFLOW_CHAOS_SCALE"])
    return 5.0 if config.getoption("--chaos-long") else 1.0


@dataclass
class Plan:
    """The size of a run."""

    workflows: int
    worker_kills: int
    server_kills: int
    spawn_window: float  # seconds over which the workflows are started

    @classmethod
    def at(cls, scale: float) -> Plan:
        return cls(
            workflows=max(2, round(120 * scale)),
            worker_kills=max(1, round(24 * scale)),
            server_kills=max(1, round(2 * scale)),
            spawn_window=55 * scale,
        )


@dataclass
class WorkerProcess:
    """One `wflow --verbose worker` process (its own process group) and its log."""

    process: subprocess.Popen[bytes]
    log: Path
    killed: bool = False

    def ready(self) -> bool:
        return "workers running" in self.log.read_text(errors="replace")


@dataclass
class Cluster:
    """The server and the worker processes of one run; `close` always stops them all."""

    tmp: Path
    address: str
    env: dict[str, str]
    server: EmbeddedDevServer | None = None
    slots: list[WorkerProcess | None] = field(default_factory=list)
    started: list[WorkerProcess] = field(default_factory=list)
    unplanned_exits: list[str] = field(default_factory=list)

    @property
    def state_dir(self) -> Path:
        return self.tmp / "server"

    async def start_server(self) -> None:
        self.server = await EmbeddedDevServer.start(self.state_dir, address=self.address, ui=False)

    async def kill_server(self) -> None:
        assert self.server is not None
        os.killpg(self.server.pid, signal.SIGKILL)
        await self.server.stop()  # reaps the process, removes the pid file
        self.server = None

    def start_worker(self, slot: int) -> None:
        # Only while the server answers: a worker finding no server at a local address would
        # start one of its own (in the throwaway --state-dir) on the server's port.
        assert self.server is not None and self.server.running
        log = self.tmp / f"worker-{len(self.started) + 1:03d}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "wflow.cli", "--verbose", "worker", str(PROJECT)),
                    *("--address", self.address, "--state-dir", str(self.tmp / "worker-state")),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                start_new_session=True,
            )
        worker = WorkerProcess(process, log)
        self.started.append(worker)
        while len(self.slots) <= slot:
            self.slots.append(None)
        self.slots[slot] = worker

    def pick_victim(self, rng: random.Random) -> int:
        """A random slot, among those whose worker is polling when there are any."""
        ready = [i for i, w in enumerate(self.slots) if w is not None and w.ready()]
        return rng.choice(ready) if ready else rng.randrange(len(self.slots))

    def kill_worker(self, slot: int) -> None:
        worker = self.slots[slot]
        if worker is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=30)
        worker.killed = True
        self.slots[slot] = None

    def replace_dead_workers(self) -> None:
        """Restart workers that exited without being killed (counted as unplanned exits)."""
        for slot, worker in enumerate(self.slots):
            if worker is not None and worker.process.poll() is not None:
                tail = worker.log.read_text(errors="replace")[-2000:]
                self.unplanned_exits.append(
                    f"{worker.log.name}: exit {worker.process.returncode}\n{tail}"
                )
                self.slots[slot] = None
            if self.slots[slot] is None:
                self.start_worker(slot)

    async def workers_ready(self, timeout: float = 120) -> None:
        """Wait until every running worker is polling (past its server check)."""
        deadline = time.monotonic() + timeout
        while True:
            live = [w for w in self.slots if w is not None and w.process.poll() is None]
            if all(w.ready() for w in live):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"workers not ready after {timeout}s\n{self.logs()}")
            await asyncio.sleep(0.2)

    def logs(self, tail: int = 3000) -> str:
        return "\n".join(
            f"--- {w.log.name}\n{w.log.read_text(errors='replace')[-tail:]}" for w in self.started
        )

    async def close(self) -> None:
        for worker in self.started:
            if worker.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(worker.process.pid, signal.SIGKILL)
                worker.process.wait(timeout=30)
        if self.server is not None:
            await self.server.stop()


async def retrying(what: str, call: Any, deadline: float) -> Any:
    """Await `call()` again while it raises UNAVAILABLE (the server is down or restarting)."""
    while True:
        try:
            return await call()
        except WflowError as exc:
            if exc.kind is not ErrorKind.UNAVAILABLE:
                raise
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: still {exc.kind.value}: {exc.message}") from None
        await asyncio.sleep(0.5)


def payload_json(data: bytes) -> Any:
    return json.loads(data) if data else None


@dataclass
class Job:
    workflow_id: str
    entry: str
    n: int
    bonus: int
    sleeps: tuple[str, str]
    message_delay: float
    pid: str = ""

    def arg(self) -> dict[str, Any]:
        return {"id": self.workflow_id, "n": self.n, "sleeps": list(self.sleeps)}

    def expected(self) -> dict[str, Any]:
        return {
            "id": self.workflow_id,
            "value": expected(self.n, self.bonus),
            "bonus": self.bonus,
            "topic": "chaos",
        }


def ledger_runs(path: Path, logs: list[Path]) -> list[tuple[int, str, str, str]]:
    """All function runs as (t_ns, event, key, token): Python's SQLite rows, Lua's log lines."""
    runs: list[tuple[int, str, str, str]] = []
    if path.exists():
        with contextlib.closing(sqlite3.connect(path, timeout=60)) as db:
            for t_ns, event, key, token in db.execute("SELECT t_ns, event, key, token FROM runs"):
                runs.append((int(t_ns), event, key, token))
    for log in logs:
        for match in LEDGER_LINE.finditer(log.read_text(errors="replace")):
            event, key, token, t_ns = match.groups()
            runs.append((int(t_ns), event, key, token))
    return sorted(runs)


def reexecuted(
    runs: list[tuple[int, str, str, str]], recorded: dict[str, str]
) -> tuple[list[str], list[tuple[str, str]]]:
    """Check the ledger against the runs Temporal recorded (call key -> token).

    Returns the keys whose recorded run is not in the ledger as completed, and the runs
    (key, token) that started after the recorded run of their call had completed.
    """
    completed_at = {token: t for t, event, _, token in runs if event == "completed"}
    missing = sorted(key for key, token in recorded.items() if token not in completed_at)
    rerun = sorted(
        (key, token)
        for t, event, key, token in runs
        if event == "started" and key in recorded and t > completed_at.get(recorded[key], t)
    )
    return missing, rerun


def test_the_ledger_check_finds_runs_after_a_recorded_completion() -> None:
    runs = [
        (1, "started", "a/1", "t1"),  # killed before its completion was recorded
        (5, "started", "a/1", "t2"),
        (6, "completed", "a/1", "t2"),  # recorded
        (7, "started", "b/1", "t3"),
        (8, "completed", "b/1", "t3"),  # recorded ...
        (9, "started", "b/1", "t4"),  # ... and run again
    ]
    assert reexecuted(runs, {"a/1": "t2", "b/1": "t3"}) == ([], [("b/1", "t4")])
    assert reexecuted(runs, {"c/1": "t9"}) == (["c/1"], [])


@dataclass
class HistoryCheck:
    """What one workflow's history says."""

    recorded: dict[str, str]  # call key -> token of the run Temporal recorded
    scheduled: int
    nondeterminism: list[str]
    task_failures: Counter[str]


def check_history(events: list[HistoryEvent]) -> HistoryCheck:
    recorded: dict[str, str] = {}
    scheduled = 0
    nondeterminism: list[str] = []
    task_failures: Counter[str] = Counter()
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled += 1
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            payloads = event.activity_task_completed_event_attributes.result.payloads
            result = payload_json(payloads[0].data)
            recorded[result["key"]] = result["token"]
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            attrs = event.workflow_task_failed_event_attributes
            cause = WorkflowTaskFailedCause.Name(attrs.cause)
            task_failures[cause] += 1
            message = attrs.failure.message
            if attrs.cause == NONDETERMINISM or "nondetermin" in message.lower():
                nondeterminism.append(f"{cause}: {message}")
    return HistoryCheck(recorded, scheduled, nondeterminism, task_failures)


async def test_workflows_survive_killed_workers_and_server(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    scale = _scale(request.config)
    plan = Plan.at(scale)
    seed = int(os.environ.get("WFLOW_CHAOS_SEED") or random.randrange(1_000_000))
    print(f"\nchaos seed {seed} (repeat with WFLOW_CHAOS_SEED={seed}), scale {scale:g}: {plan}")
    rng = random.Random(seed)
    started_at = time.monotonic()
    ledger = tmp_path / "ledger.sqlite3"
    env = {**os.environ, "WFLOW_CHAOS_LEDGER": str(ledger)}
    env.pop("WFLOW_MAX_CACHED_WORKFLOWS", None)  # the default cache: what users run
    address = f"127.0.0.1:{free_port()}"
    cluster = Cluster(tmp_path, address, env)
    run = f"chaos-{seed}"
    jobs = [
        Job(
            workflow_id=f"{run}-{i:04d}",
            entry="chaos:job_lua" if i % 2 == 0 else "chaos:job_py",
            n=rng.randrange(1, 1000),
            bonus=rng.randrange(1, 100),
            sleeps=(f"{rng.randint(1, 3)}s", f"{rng.randint(1, 3)}s"),
            message_delay=rng.uniform(0.5, 4.0),
        )
        for i in range(plan.workflows)
    ]
    worker_kills = 0
    server_kills = 0
    feeders: list[asyncio.Task[None]] = []
    pending: list[asyncio.Task[Any]] = []
    try:
        await cluster.start_server()
        for slot in range(WORKERS):
            cluster.start_worker(slot)
        await cluster.workers_ready()
        connection = await wflow.connect(PROJECT, address=address)
        deadline = time.monotonic() + 120 + 300 * scale

        async def spawn_and_message(job: Job, delay: float) -> None:
            await asyncio.sleep(delay)
            options = SpawnOptions().merged(
                {"id": job.workflow_id, "id_conflict_policy": "use_existing"}
            )
            job.pid = await retrying(
                f"spawn {job.workflow_id}",
                lambda: connection.spawn(job.entry, None, job.arg(), options=options),
                deadline,
            )
            await asyncio.sleep(job.message_delay)
            await retrying(
                f"send to {job.pid}",
                lambda: connection.send(job.pid, "chaos", {"bonus": job.bonus}),
                deadline,
            )

        gap = plan.spawn_window / plan.workflows
        feeders += [
            asyncio.create_task(spawn_and_message(job, i * gap)) for i, job in enumerate(jobs)
        ]

        # The chaos: a worker SIGKILLed every 1-3 s and restarted after 0-1.5 s; the server
        # SIGKILLed at evenly spread kills, restarted from its database after 0.5-2 s.
        server_kill_at = {
            round(plan.worker_kills * (k + 1) / (plan.server_kills + 1))
            for k in range(plan.server_kills)
        }
        while worker_kills < plan.worker_kills or server_kills < plan.server_kills:
            await asyncio.sleep(rng.uniform(1.0, 3.0))
            if worker_kills in server_kill_at and server_kills < plan.server_kills:
                server_kill_at.discard(worker_kills)
                await cluster.workers_ready()  # none of them still looking for a server
                await cluster.kill_server()
                server_kills += 1
                await asyncio.sleep(rng.uniform(0.5, 2.0))
                await cluster.start_server()
                cluster.replace_dead_workers()
                continue
            slot = cluster.pick_victim(rng)
            cluster.kill_worker(slot)
            worker_kills += 1
            await asyncio.sleep(rng.uniform(0.0, 1.5))
            cluster.replace_dead_workers()
        chaos_seconds = time.monotonic() - started_at
        print(f"chaos over after {chaos_seconds:.0f}s; waiting for the workflows")

        await asyncio.gather(*feeders)

        async def result_of(job: Job) -> Any:
            try:
                return await retrying(
                    f"result of {job.pid}", lambda: connection.result(job.pid), deadline
                )
            except WflowError as exc:  # the workflow failed: a wrong result
                return exc

        pending += [asyncio.create_task(result_of(job)) for job in jobs]
        while not all(task.done() for task in pending):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{sum(not t.done() for t in pending)} workflows still running\n"
                    + cluster.logs()
                )
            cluster.replace_dead_workers()  # a worker that died on its own is noted, replaced
            await asyncio.sleep(1)
        results = [task.result() for task in pending]

        histories = [await connection.history(job.pid) for job in jobs]
    finally:
        for task in [*feeders, *pending]:
            task.cancel()
        await cluster.close()
    duration = time.monotonic() - started_at

    checks = [check_history(list(history.events)) for history in histories]
    wrong = [
        (job.pid, result, job.expected())
        for job, result in zip(jobs, results, strict=True)
        if result != job.expected()
    ]
    recorded = {key: token for check in checks for key, token in check.recorded.items()}
    runs = ledger_runs(ledger, [worker.log for worker in cluster.started])
    started_runs = Counter(key for _, event, key, _ in runs if event == "started")
    missing, rerun = reexecuted(runs, recorded)
    nondeterminism = [message for check in checks for message in check.nondeterminism]
    task_failures = sum((check.task_failures for check in checks), Counter[str]())
    bad_schedules = [
        (job.pid, check.scheduled)
        for job, check in zip(jobs, checks, strict=True)
        if check.scheduled != 4
    ]

    print(
        f"chaos figures (seed {seed}):\n"
        f"  workflows                          {len(jobs)} "
        f"({sum(j.entry.endswith('lua') for j in jobs)} Lua, "
        f"{sum(j.entry.endswith('py') for j in jobs)} Python)\n"
        f"  worker SIGKILLs                    {worker_kills}\n"
        f"  server SIGKILLs + restarts         {server_kills}\n"
        f"  worker exits not caused by us      {len(cluster.unplanned_exits)}\n"
        f"  completed with the right result    {len(jobs) - len(wrong)}\n"
        f"  function calls recorded            {len(recorded)}\n"
        f"  function runs (started)            {sum(started_runs.values())}\n"
        f"  calls run more than once           {sum(1 for n in started_runs.values() if n > 1)}"
        " (interrupted before their completion was recorded)\n"
        f"  recorded functions re-executed     {len(rerun)}\n"
        f"  nondeterminism errors              {len(nondeterminism)}\n"
        f"  other workflow task failures       {dict(task_failures) or 0}\n"
        f"  duration                           {duration:.0f}s (chaos phase {chaos_seconds:.0f}s)"
    )
    for exit_report in cluster.unplanned_exits:
        print(f"unplanned worker exit: {exit_report}")

    assert worker_kills >= plan.worker_kills and server_kills >= plan.server_kills
    assert not wrong, f"{len(wrong)} workflows with wrong results, e.g. {wrong[:3]}"
    assert not bad_schedules, f"calls scheduled other than 4 times: {bad_schedules[:5]}"
    assert len(recorded) == 4 * len(jobs)
    assert not missing, f"recorded runs missing from the ledger: {missing[:5]}"
    assert not rerun, f"functions ran again after their completion was recorded: {rerun[:5]}"
    assert not nondeterminism, nondeterminism[:5]
