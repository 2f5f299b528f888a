"""`wflow.connect(project)`: bare workflow IDs, and connection errors in plain words.

The CLI's view of the same is in tests/cli/test_cli_bare_ids.py and
tests/cli/test_cli_connection_errors.py; these pin the Python API (`Connection.resolve`,
`connect_error`) that they rest on.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

import wflow
from tests.helpers.cli_process import make_project
from wflow.model import ErrorKind, WflowError, format_pid
from wflow.registry import load_project
from wflow.temporal._client import connect_error, connect_failure_cause
from wflow.testing import EmbeddedDevServer


async def test_a_bare_id_works_like_its_pid(dev_server: EmbeddedDevServer, tmp_path: Path) -> None:
    connection = await wflow.connect(make_project(tmp_path / "p", dev_server.address))
    pid = await connection.spawn("app:sleeper")
    workflow_id = pid.partition("/")[2]
    assert await connection.resolve(workflow_id) == pid
    assert await connection.resolve(pid) == pid
    await connection.terminate(workflow_id, "done")
    with pytest.raises(WflowError) as info:
        await connection.result(workflow_id)
    assert info.value.kind is ErrorKind.CANCELED


async def test_an_unknown_bare_id_is_not_found_naming_where_it_looked(
    dev_server: EmbeddedDevServer, tmp_path: Path
) -> None:
    connection = await wflow.connect(make_project(tmp_path / "p", dev_server.address))
    with pytest.raises(WflowError) as info:
        await connection.send("nothing-here", "topic")
    assert info.value.kind is ErrorKind.NOT_FOUND
    assert info.value.message == (
        "no workflow with ID 'nothing-here' on temporal.client app:temporal_client "
        f"({dev_server.address}, namespace default)"
    )
    # A PID is never looked up: its worker names the client.
    pid = format_pid("app:temporal_worker", "nothing-here")
    with pytest.raises(WflowError) as info:
        await connection.cancel(pid)
    assert info.value.message == f"no workflow {pid}"


async def test_a_missing_namespace_is_named_not_taken_for_a_missing_workflow(
    dev_server: EmbeddedDevServer, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "p", dev_server.address)
    index = project / "_index.yaml"
    missing = f"no-such-ns-{uuid.uuid4().hex[:6]}"
    text = index.read_text(encoding="utf-8")
    index.write_text(
        text.replace(
            "kind: temporal.client\n", f"kind: temporal.client\n    namespace: {missing}\n"
        ),
        encoding="utf-8",
    )
    connection = await wflow.connect(load_project(project))
    with pytest.raises(WflowError) as info:
        await connection.result("some-id")
    assert info.value.kind is ErrorKind.NOT_FOUND
    assert f"namespace {missing}" in info.value.message
    assert f"Namespace {missing} is not found" in info.value.message


async def test_connect_to_an_unresolvable_host_keeps_the_transport_error_in_details(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path / "p", "no-such-host.invalid:7233")
    with pytest.raises(WflowError) as info:
        await wflow.connect(project)
    assert info.value.kind is ErrorKind.UNAVAILABLE
    assert "tonic" not in info.value.message
    details = info.value.details
    assert details["address"] == "no-such-host.invalid:7233"
    assert details["client"] == "app:temporal_client"
    assert details["cause"] == "dns"
    assert "dns error" in details["error"]


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        # The shapes temporalio's Rust core gives these failures (seen on this machine).
        ('ConnectError("dns error", Custom { kind: Uncategorized, error: "failed to lookup', "dns"),
        ('ConnectError("tcp connect error", Os { code: 111, kind: ConnectionRefused', "refused"),
        ("kind: InvalidData, error: InvalidMessage(InvalidContentType)", "tls_plain_server"),
        ("error: InvalidCertificate(UnknownIssuer) }))", "tls_certificate"),
        ('Status { code: Unknown, message: "transport error", ... BrokenPipe', "closed"),
        (
            'Status { code: Cancelled, message: "operation was canceled", source: Some(tonic::'
            'transport::Error(Transport, hyper::Error(Canceled, "connection closed"))) }',
            "closed",
        ),
        # Not reproducible without a server that checks credentials: the gRPC status text.
        ('call error: Status { code: Unauthenticated, message: "bad key"', "auth"),
        ('Status { code: PermissionDenied, message: "Request unauthorized."', "auth"),
        ("something nobody has seen yet", "other"),
    ],
)  # fmt: skip
def test_transport_errors_are_sorted_by_cause(text: str, cause: str) -> None:
    assert connect_failure_cause(text) == cause


def test_a_refused_credential_names_auth_of_the_client(tmp_path: Path) -> None:
    entry = load_project(make_project(tmp_path / "p", "temporal.example.internal:7233")).clients()
    error = connect_error(
        RuntimeError('Failed client connect: Status { code: Unauthenticated, message: "x" }'),
        "temporal.example.internal:7233",
        entry[0],
        tls=True,
    )
    assert error.kind is ErrorKind.UNAVAILABLE
    assert error.message.startswith(
        "cannot connect to the Temporal server at temporal.example.internal:7233 "
        "(temporal.client app:temporal_client at "
    )
    assert error.message.endswith(
        ": the server refused the credentials; check `auth` of temporal.client "
        "app:temporal_client: the API key (or its variable / file) or the client certificate "
        "and key, and that they are for this namespace"
    )
