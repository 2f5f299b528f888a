"""Connection failures in plain words: the address, the client entry, the cause, what to check.

Every address here is on this machine: a name under `.invalid` (never resolves), closed or
silent ports on 127.0.0.2, a TLS listener on 127.0.0.1 and the session's plain dev server.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.cli_process import failed, make_project, wflow
from tests.helpers.listeners import client_project, closed_port, listener
from wflow.testing import EmbeddedDevServer

# What the transport's own error looks like; none of it may reach the user.
TRANSPORT_WORDS = ("tonic", "transport::Error", "ConnectError", "Traceback", "Status {")


def clean(stderr: str) -> str:
    for word in TRANSPORT_WORDS:
        assert word not in stderr, stderr
    return stderr


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for `localhost` and its key (made with the openssl tool)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl tool is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextlib.contextmanager
def tls_listener(certificate: tuple[Path, Path]) -> Iterator[int]:
    """A TLS server on 127.0.0.1 that is no Temporal server: it handshakes, then hangs up."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    context.set_alpn_protocols(["h2"])

    def handle(conn: socket.socket) -> None:
        with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True) as tls:
            tls.settimeout(5)
            tls.recv(100)

    with listener("127.0.0.1", handle) as port:
        yield port


def test_host_that_does_not_resolve_names_address_entry_and_dns(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "no-such-host.invalid:7233")
    stderr = clean(failed(wflow("ls", str(project))))
    assert (
        "error: no Temporal server answers at no-such-host.invalid:7233 (temporal.client "
        f"app:temporal_client at {project / '_index.yaml'}:4): the host name "
        "'no-such-host.invalid' does not resolve (DNS); check the address for typos"
    ) in stderr
    assert "wflow dev" not in stderr  # not a local address: wflow would never start it


def test_run_and_worker_report_an_unresolvable_host_the_same_way(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "no-such-host.invalid:7233")
    for command in (("run", str(project), "app:waiter", '"x"'), ("worker", str(project))):
        stderr = clean(failed(wflow(*command)))
        assert "error: UNAVAILABLE: no Temporal server answers at no-such-host.invalid:7233" in (
            stderr
        )
        assert "(temporal.client app:temporal_client at" in stderr
        assert "does not resolve (DNS)" in stderr


def test_address_option_is_named_as_the_source(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "127.0.0.1:7233")
    stderr = clean(failed(wflow("ls", str(project), "--address", "no-such-host.invalid:7233")))
    assert "no-such-host.invalid:7233 (--address, temporal.client app:temporal_client at" in (
        stderr
    )


def test_address_that_is_not_host_port_exits_2(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", "127.0.0.1:7233")
    stderr = clean(failed(wflow("result", str(project), "some-id", "--address", "nope"), 2))
    assert "error: INVALID: invalid Temporal address 'nope': expected host:port" in stderr


def test_refused_port_says_nothing_listens(tmp_path: Path) -> None:
    port = closed_port("127.0.0.2")
    project = make_project(tmp_path / "p", f"127.0.0.2:{port}")
    stderr = clean(failed(wflow("ls", str(project))))
    assert (
        f"no Temporal server answers at 127.0.0.2:{port} (temporal.client app:temporal_client "
        f"at {project / '_index.yaml'}:4): connection refused: nothing listens on port {port} "
        "of 127.0.0.2; check that the Temporal server is running there"
    ) in stderr
    assert f"hint: no server runs there; start one with `wflow dev {project}`" in stderr


def test_silent_server_times_out_with_connection_timeout(tmp_path: Path) -> None:
    with listener("127.0.0.2") as port:
        address = f"127.0.0.2:{port}"
        project = client_project(tmp_path / "p", address, "connection_timeout: 1s")
        stderr = clean(failed(wflow("ls", str(project))))
    assert f"no Temporal server answers at {address} (temporal.client" in stderr
    assert "no answer within 1s (connection_timeout); check that the server is running" in stderr
    assert "firewall" in stderr
    assert "wflow dev" not in stderr  # something listens there: starting a server would not help


def test_tls_against_a_plain_server_suggests_turning_tls_off(
    dev_server: EmbeddedDevServer, tmp_path: Path
) -> None:
    project = client_project(tmp_path / "p", dev_server.address, "tls: {enabled: true}")
    stderr = clean(failed(wflow("ls", str(project))))
    assert f"error: cannot connect to the Temporal server at {dev_server.address} (" in stderr
    assert (
        "the server does not speak TLS, but the connection used TLS; for a plain server such "
        "as `wflow dev`'s, set `tls: {enabled: false}` on temporal.client app:temporal_client"
    ) in stderr
    assert "wflow dev " not in stderr  # a server runs there: no "start one" hint


def test_api_key_against_a_plain_server_suggests_removing_auth(
    dev_server: EmbeddedDevServer, tmp_path: Path
) -> None:
    project = client_project(
        tmp_path / "p", dev_server.address, "auth: {type: api_key, api_key: not-a-secret}"
    )
    stderr = clean(failed(wflow("ls", str(project))))
    assert "the server does not speak TLS, but the connection used TLS" in stderr
    assert (
        "remove `auth` from temporal.client app:temporal_client (an API key is only ever sent "
        "over TLS)"
    ) in stderr


def test_plain_client_at_a_tls_port_suggests_turning_tls_on(
    certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    with tls_listener(certificate) as port:
        project = make_project(tmp_path / "p", f"127.0.0.1:{port}")
        stderr = clean(failed(wflow("ls", str(project))))
    assert "the server closed the connection during the first call" in stderr
    assert (
        "if the server expects TLS (Temporal Cloud does), set `tls: {enabled: true}` on "
        "temporal.client app:temporal_client"
    ) in stderr


def test_untrusted_server_certificate_points_at_ca_file(
    certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    with tls_listener(certificate) as port:
        project = client_project(tmp_path / "p", f"127.0.0.1:{port}", "tls: {enabled: true}")
        stderr = clean(failed(wflow("ls", str(project))))
    assert f"error: cannot connect to the Temporal server at 127.0.0.1:{port} (" in stderr
    assert "the server's TLS certificate was not accepted; check `tls.ca_file`" in stderr
