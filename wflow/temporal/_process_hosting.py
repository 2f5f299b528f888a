"""Running a project's `process.host` entries inside a session (`wflow worker/dev/run`)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping

from temporalio.client import Client

from wflow.registry import ProcessHostEntry, ProcessServiceEntry, Registry
from wflow.temporal._connection import BlockingConnection, Connection
from wflow.temporal._exit_scope import ExitStackScope
from wflow.temporal._process_clock import SkipGuard, detect_time_skipping
from wflow.temporal._process_host import ProcessHost
from wflow.temporal._process_router import LOCAL_HOSTS
from wflow.temporal._process_services import Supervisor
from wflow.temporal._process_transport import host_workers

__all__ = ["ProcessHosting"]


class ProcessHosting(ExitStackScope):
    """Every auto-started `process.host` of a project, for the lifetime of an `async with`.

    On entry each host starts (its Temporal workers on the host and instance queues, then its
    services in `depends_on` order); on exit its services stop being restarted, its processes
    are terminated and its workers stop.

    Args:
        registry: The project.
        clients: Connected clients by `temporal.client` entry ID (None: the default).
        report: Told one line per service start, exit, restart and exhaustion.
    """

    def __init__(
        self,
        registry: Registry,
        clients: Mapping[str | None, Client],
        report: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        self.registry = registry
        self._clients = clients
        self._report = report
        self.hosts: list[ProcessHost] = []
        self.supervisors: list[Supervisor] = []

    async def _open(self) -> None:
        entries = [
            entry
            for entry in self.registry.of_kind("process.host")
            if isinstance(entry, ProcessHostEntry) and entry.lifecycle.auto_start
        ]
        if not entries:
            return
        client = self._clients.get(None) or next(iter(self._clients.values()))
        connection = Connection(self.registry, self._clients)
        loop = asyncio.get_running_loop()
        blocking = BlockingConnection(connection, loop)
        time_skipping = await detect_time_skipping(client)
        for entry in entries:
            host = ProcessHost(
                entry, self.registry, connection.processes, client.namespace, lambda: blocking
            )
            if time_skipping:
                host.guard = SkipGuard(client)
                self._stack.push_async_callback(host.guard.close)
            LOCAL_HOSTS[host.instance] = host
            self._stack.callback(LOCAL_HOSTS.pop, host.instance, None)
            self._stack.push_async_callback(host.stop)
            for worker in host_workers(client, host, connection.processes):
                await self._stack.enter_async_context(worker)
            self.hosts.append(host)
        for host in self.hosts:
            services = [
                entry
                for entry in self.registry.of_kind("process.service")
                if isinstance(entry, ProcessServiceEntry)
                and self.registry.resolve(entry.host, entry.namespace, ("process.host",))
                == host.host_id
            ]
            supervisor = Supervisor(
                host, services, self._report, stop_host=functools.partial(_stop_soon, host)
            )
            self._stack.callback(supervisor.stop)
            self.supervisors.append(supervisor)
            supervisor.start()


def _stop_soon(host: ProcessHost) -> None:
    task = asyncio.get_running_loop().create_task(host.stop())
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
