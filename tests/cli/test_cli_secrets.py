"""Secrets (API keys, the mTLS private key) never appear in wflow's output: not in
`wflow validate`'s report, not in configuration errors about the `auth` block, not in
connection errors, whichever way the key was given (inline, file, environment variable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.listeners import client_project, closed_port, listener
from tests.helpers.processes import run_wflow
from wflow.testing import EmbeddedDevServer

SECRET = "sk-wflow-test-7f3a9c-SECRET"
KEY_TEXT = f"-----BEGIN PRIVATE KEY-----\n{SECRET}\n-----END PRIVATE KEY-----\n"


def output(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = run_wflow(*args, timeout=60, env=env)
    return result.returncode, result.stdout + result.stderr


def assert_secret_free(text: str) -> None:
    assert SECRET not in text and "7f3a9c" not in text, text


@pytest.mark.parametrize(
    "auth",
    [
        f"auth: {{type: api_key, api_key: {SECRET}}}",
        f"auth: {{type: api_key, api_key: {SECRET}, api_key_env: OTHER}}",
        f"auth: {{type: mtls, api_key: {SECRET}}}",
        f"auth: {{type: api_key, api_key: {SECRET}, unknown_field: 1}}",
        f"auth: {{type: api_keys, api_key: {SECRET}}}",
        f"auth: {{type: api_key, api_key: [{SECRET}]}}",
        f"auth: {SECRET}",
    ],
    ids=["valid", "two-sources", "wrong-type", "unknown-field", "bad-type", "list", "string"],
)
def test_validate_never_prints_the_key(tmp_path: Path, auth: str) -> None:
    project = client_project(tmp_path / "p", "127.0.0.1:7233", auth, "tls: {enabled: true}")
    code, text = output("validate", str(project))
    assert code in (0, 2)
    assert_secret_free(text)
    if "unknown" in auth or "OTHER" in auth or "mtls" in auth or "[" in auth or "api_keys" in auth:
        assert code == 2 and "auth" in text
    elif auth.startswith("auth: {"):
        assert code == 0


def test_connection_errors_never_print_the_key(
    tmp_path: Path, dev_server: EmbeddedDevServer
) -> None:
    inline = f"auth: {{type: api_key, api_key: {SECRET}}}"
    # A plain server (TLS refused), a closed port, a silent one.
    project = client_project(tmp_path / "a", dev_server.address, inline)
    code, text = output("ls", str(project))
    assert code != 0 and "does not speak TLS" in text
    assert_secret_free(text)
    port = closed_port("127.0.0.2")
    project = client_project(tmp_path / "b", f"127.0.0.2:{port}", inline, "tls: {enabled: true}")
    code, text = output("ls", str(project))
    assert code != 0 and "connection refused" in text
    assert_secret_free(text)
    with listener("127.0.0.2") as silent:
        project = client_project(
            tmp_path / "c",
            f"127.0.0.2:{silent}",
            "auth: {type: api_key, api_key_env: WFLOW_TEST_KEY}",
            "tls: {enabled: true}",
            "connection_timeout: 1s",
        )
        code, text = output("ls", str(project), env={"WFLOW_TEST_KEY": SECRET})
    assert code != 0 and "no answer within 1s" in text
    assert_secret_free(text)


def test_a_bad_mtls_key_file_is_named_not_printed(
    tmp_path: Path, dev_server: EmbeddedDevServer
) -> None:
    (tmp_path / "client.pem").write_text(KEY_TEXT.replace("PRIVATE KEY", "CERTIFICATE"))
    (tmp_path / "client.key").write_text(KEY_TEXT)
    (tmp_path / "api.key").write_text(SECRET + "\n")
    mtls = client_project(
        tmp_path / "m",
        dev_server.address,
        f"auth: {{type: mtls, cert_file: {tmp_path / 'client.pem'}, "
        f"key_file: {tmp_path / 'client.key'}}}",
    )
    for project in (mtls,):
        code, text = output("validate", str(project))
        assert_secret_free(text)
        code, text = output("ls", str(project))
        assert code != 0
        assert_secret_free(text)
    from_file = client_project(
        tmp_path / "f",
        dev_server.address,
        f"auth: {{type: api_key, api_key_file: {tmp_path / 'api.key'}}}",
    )
    code, text = output("ls", str(from_file))
    assert code != 0
    assert_secret_free(text)
