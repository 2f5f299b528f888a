"""The local-server probe uses the client's TLS and auth, and never binds a busy port.

Before, `wflow run` probed a local address without TLS, took a TLS Temporal server for
"nothing answers" and started its own dev server on the same port (`bind: address already
in use`).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.cli_greetings import make_project, wflow
from tests.helpers.listeners import listener
from wflow.testing import EmbeddedDevServer


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A CA and a server certificate it signed for localhost/127.0.0.1 (made with openssl).

    rustls accepts neither a name only in the CN nor a CA certificate as the server's own.
    """
    if shutil.which("openssl") is None:
        pytest.skip("the openssl tool is not installed")
    folder = tmp_path_factory.mktemp("tls-ca")
    ca, ca_key = folder / "ca.pem", folder / "ca-key.pem"
    cert, key, csr = folder / "cert.pem", folder / "key.pem", folder / "cert.csr"
    ext = folder / "ext.cnf"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    for command in (
        f"req -x509 -newkey rsa:2048 -nodes -days 1 -keyout {ca_key} -out {ca} -subj /CN=test-ca",
        f"req -newkey rsa:2048 -nodes -keyout {key} -out {csr} -subj /CN=localhost",
        f"x509 -req -in {csr} -CA {ca} -CAkey {ca_key} -CAcreateserial -days 1 -out {cert} "
        f"-extfile {ext}",
    ):
        subprocess.run(["openssl", *command.split()], check=True, capture_output=True)
    return ca, cert, key


def client_project(root: Path, address: str, extra: str) -> Path:
    """test_cli_run's greeting project, its `temporal.client` given the `extra` YAML line."""
    project = make_project(root, address)
    index = project / "_index.yaml"
    line = f'    address: "{address}"\n'
    index.write_text(index.read_text().replace(line, f"{line}    {extra}\n"))
    return project


def _pump(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def tls_front(certificate: tuple[Path, Path, Path], upstream: str) -> Iterator[int]:
    """A TLS Temporal server on 127.0.0.1: TLS terminated here, gRPC passed to `upstream`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificate[1]), str(certificate[2]))
    context.set_alpn_protocols(["h2"])

    def handle(conn: socket.socket) -> None:
        try:
            tls = context.wrap_socket(conn, server_side=True)
        except OSError:
            return  # a plain client: the handshake fails, as at a real TLS server
        host, _, port = upstream.rpartition(":")
        with tls, socket.create_connection((host, int(port))) as backend:
            back = threading.Thread(target=_pump, args=(backend, tls), daemon=True)
            back.start()
            _pump(tls, backend)
            back.join(10)

    with listener("127.0.0.1", handle) as port:
        yield port


def test_run_uses_a_local_tls_server_with_the_client_s_tls_settings(
    certificate: tuple[Path, Path, Path], dev_server: EmbeddedDevServer, tmp_path: Path
) -> None:
    cert = certificate[0]
    with tls_front(certificate, dev_server.address) as port:
        project = client_project(
            tmp_path / "p",
            f"127.0.0.1:{port}",
            f'tls: {{enabled: true, ca_file: "{cert}", server_name: localhost}}',
        )
        assert "tls: {enabled: true" in (project / "_index.yaml").read_text()
        result = wflow("run", str(project), "app:hello", '"tls"', timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == "hello tls"
    assert "address already in use" not in result.stderr
    assert not (project / ".wflow").exists()  # no dev server was started


def test_run_never_starts_a_server_on_a_port_something_else_listens_on(
    tmp_path: Path,
) -> None:
    with listener("127.0.0.1") as port:  # accepts, never answers
        project = make_project(tmp_path / "p", f"127.0.0.1:{port}")
        result = wflow("run", str(project), "app:hello", '"x"', timeout=120)
    assert result.returncode == 1, result.stderr
    assert (
        f"error: UNAVAILABLE: something listens at 127.0.0.1:{port} "
        "(temporal.client app:temporal_client) but does not answer as a Temporal server "
        "(without TLS); wflow starts a dev server only on a free port: check the client's "
        "address, `tls` and `auth`, or stop what listens there"
    ) in result.stderr, result.stderr
    assert "address already in use" not in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / ".wflow" / "temporal.db").exists()
