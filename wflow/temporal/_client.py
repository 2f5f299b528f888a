"""Connecting to Temporal as a `temporal.client` entry describes."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from temporalio.client import Client
from temporalio.service import KeepAliveConfig, TLSConfig

from wflow.model import ErrorKind, WflowError, parse_duration
from wflow.registry import TemporalClientEntry
from wflow.temporal._codecs import data_converter_for
from wflow.temporal._payloads import DATA_CONVERTER
from wflow.temporal._servers import DEFAULT_ADDRESS, split_address
from wflow.temporal._telemetry import client_interceptors, metrics_runtime

__all__ = [
    "client_api_key",
    "client_tls",
    "connect_client",
    "connect_error",
    "connect_failure_cause",
    "with_entry_settings",
]


def _describe(entry: TemporalClientEntry | None) -> str:
    return f" (temporal.client {entry.id})" if entry is not None else ""


def _read(entry: TemporalClientEntry, path_text: str, what: str) -> bytes:
    path = Path(path_text)
    if not path.is_absolute() and entry.file is not None:
        path = entry.file.parent / path
    try:
        return path.read_bytes()
    except OSError as exc:
        raise WflowError(
            f"cannot read {what} {path}{_describe(entry)}: {exc.strerror}", ErrorKind.INVALID
        ) from None


def client_api_key(entry: TemporalClientEntry | None) -> str | None:
    """The API key a `temporal.client` entry authenticates with (from its file or variable)."""
    auth = entry.auth if entry is not None else None
    if entry is None or auth is None or auth.type != "api_key":
        return None
    if auth.api_key:
        return str(auth.api_key)
    if auth.api_key_file:
        return _read(entry, auth.api_key_file, "api_key_file").decode().strip()
    value = os.environ.get(auth.api_key_env or "")
    if not value:
        raise WflowError(
            f"environment variable {auth.api_key_env} is not set{_describe(entry)}",
            ErrorKind.INVALID,
        )
    return value


def _client_cert(entry: TemporalClientEntry) -> bytes:
    auth = entry.auth
    if auth.cert_pem:
        return auth.cert_pem.encode()
    return _read(entry, auth.cert_file or "", "auth.cert_file")


def _client_key(entry: TemporalClientEntry) -> bytes:
    auth = entry.auth
    if auth.key_pem:
        return auth.key_pem.encode()
    if auth.key_pem_env:
        value = os.environ.get(auth.key_pem_env)
        if not value:
            raise WflowError(
                f"environment variable {auth.key_pem_env} is not set{_describe(entry)}",
                ErrorKind.INVALID,
            )
        return value.encode()
    return _read(entry, auth.key_file or "", "auth.key_file")


def _keep_alive(entry: TemporalClientEntry | None) -> KeepAliveConfig:
    """Wippy's `keep_alive_time` / `keep_alive_timeout` (a health check's `interval` too)."""
    default = KeepAliveConfig.default
    if entry is None:
        return default
    every = entry.keep_alive_time
    if entry.health_check.enabled and entry.health_check.interval is not None:
        every = entry.health_check.interval
    timeout = entry.keep_alive_timeout
    return KeepAliveConfig(
        interval_millis=int(every.total_seconds() * 1000) if every else default.interval_millis,
        timeout_millis=int(timeout.total_seconds() * 1000) if timeout else default.timeout_millis,
    )


def client_tls(entry: TemporalClientEntry | None) -> TLSConfig | bool:
    """The TLS settings of a `temporal.client` entry: a `TLSConfig`, or whether to use TLS."""
    if entry is None:
        return False
    tls, auth = entry.tls, entry.auth
    mtls = auth.type == "mtls"
    if not mtls and not tls.enabled:
        # An API key is only ever sent over TLS.
        return client_api_key(entry) is not None
    return TLSConfig(
        server_root_ca_cert=_read(entry, tls.ca_file, "tls.ca_file") if tls.ca_file else None,
        domain=tls.server_name,
        # The schema makes an mtls auth name both files.
        client_cert=_client_cert(entry) if mtls else None,
        client_private_key=_client_key(entry) if mtls else None,
    )


# What a failed connect says, in the transport's words, and what that means for the user.
# temporalio raises a RuntimeError whose text is a Rust `tonic::transport::Error` dump; these
# fragments pick the cause out of it (checked in this order: the first match wins).
_CAUSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("dns", ("dns error", "failed to lookup address", "Name or service not known")),
    ("refused", ("ConnectionRefused", "Connection refused")),
    ("tls_plain_server", ("InvalidContentType", "CorruptMessage", "wrong version number")),
    ("tls_certificate", ("InvalidCertificate", "UnknownIssuer", "NotValidForName", "certificate")),
    ("auth", ("Unauthenticated", "PermissionDenied", "code: Unauthorized", "API key")),
    (
        "closed",
        (
            "broken pipe",
            "BrokenPipe",
            "ConnectionReset",
            "connection reset",
            "h2 protocol",
            # hyper's words when the peer hangs up before answering (seen on a loaded machine)
            '"connection closed"',
        ),
    ),
)


def connect_failure_cause(text: str) -> str:
    """Return why a connect failed, from the transport error's text.

    Args:
        text: `str()` of the exception `Client.connect` raised.

    Returns:
        `dns`, `refused`, `tls_plain_server` (TLS was spoken to a plain server),
        `tls_certificate`, `auth`, `closed` (the server hung up: often a plain client at a TLS
        port) or `other`.
    """
    for cause, fragments in _CAUSES:
        if any(fragment.lower() in text.lower() for fragment in fragments):
            return cause
    return "other"


def _source(entry: TemporalClientEntry | None, overridden: bool) -> str:
    """Where the address came from: `--address`, a client entry (with file:line), or default."""
    parts = []
    if overridden:
        parts.append("--address")
    if entry is not None:
        where = f"temporal.client {entry.id}"
        if entry.file is not None:
            where += f" at {entry.file}{f':{entry.line}' if entry.line else ''}"
        parts.append(where)
    elif not overridden:
        parts.append("the default address; the project has no temporal.client")
    return f" ({', '.join(parts)})"


def _advice(
    cause: str, target: str, entry: TemporalClientEntry | None, timeout: str, tls: bool
) -> tuple[str, str]:
    """Return (what happened, what to check) for a connect that failed with `cause`."""
    name = f"temporal.client {entry.id}" if entry is not None else "the client"
    host, _, port = target.rpartition(":")
    if cause == "dns":
        return (
            f"the host name {host!r} does not resolve (DNS)",
            "check the address for typos, and that this machine's DNS (or VPN) knows the host",
        )
    if cause == "refused":
        return (
            f"connection refused: nothing listens on port {port} of {host}",
            "check that the Temporal server is running there and that the port is its frontend "
            "(gRPC) port, 7233 by default; a firewall may also refuse it",
        )
    if cause == "timeout":
        return (
            f"no answer within {timeout} (connection_timeout)",
            "check that the server is running and that no firewall, VPN or proxy drops the "
            "connection; raise connection_timeout for a slow network",
        )
    if cause == "tls_plain_server":
        if entry is not None and not entry.tls.enabled and entry.auth.type == "api_key":
            # TLS was not asked for: the API key turned it on (see `_tls`).
            fix = f"remove `auth` from {name} (an API key is only ever sent over TLS)"
        else:
            fix = f"set `tls: {{enabled: false}}` on {name}"
        return (
            "the server does not speak TLS, but the connection used TLS",
            f"for a plain server such as `wflow dev`'s, {fix}; otherwise check that the port is "
            "the server's TLS port",
        )
    if cause == "tls_certificate":
        return (
            "the server's TLS certificate was not accepted",
            f"check `tls.ca_file` (the CA that signed the server's certificate) and "
            f"`tls.server_name` of {name}",
        )
    if cause == "auth":
        return (
            "the server refused the credentials",
            f"check `auth` of {name}: the API key (or its variable / file) or the client "
            "certificate and key, and that they are for this namespace",
        )
    if cause == "closed":
        hint = (
            "check that the address is a Temporal frontend (gRPC) port"
            if tls
            else f"if the server expects TLS (Temporal Cloud does), set `tls: {{enabled: true}}` "
            f"on {name}; also check that the address is a Temporal frontend (gRPC) port"
        )
        return "the server closed the connection during the first call", hint
    return (
        "the connection failed",
        f"check the address, TLS settings and credentials of {name} "
        "(`wflow -v` shows the transport's own error)",
    )


def connect_error(
    exc: BaseException,
    target: str,
    entry: TemporalClientEntry | None,
    *,
    overridden: bool = False,
    timeout: str = "10s",
    tls: bool = False,
) -> WflowError:
    """Return the `UNAVAILABLE` error for a failed connect, in plain words with what to check.

    The message names the address, where it came from (`--address`, the `temporal.client`
    entry and its file:line) and the likely cause (DNS, refused, timeout, TLS mismatch or
    certificate, credentials), never the transport's dump; that is kept in `details["error"]`.

    Args:
        exc: What `Client.connect` raised (a timeout for no answer in time).
        target: The `host:port` connected to.
        entry: The client entry, or None for the local default.
        overridden: The address came from `--address` / `address=`.
        timeout: The connection timeout, as configured, for the message.
        tls: Whether the connection used TLS.
    """
    if isinstance(exc, asyncio.TimeoutError):
        raw, cause = "timed out", "timeout"
    else:
        raw = str(exc)
        cause = connect_failure_cause(raw)
    what, check = _advice(cause, target, entry, timeout, tls)
    # "No server answers" is true (and what callers and tests look for) unless a server did
    # answer, in TLS or credential terms.
    answered = cause in ("tls_plain_server", "tls_certificate", "auth")
    lead = (
        "cannot connect to the Temporal server at" if answered else "no Temporal server answers at"
    )
    return WflowError(
        f"{lead} {target}{_source(entry, overridden)}: {what}; {check}",
        ErrorKind.UNAVAILABLE,
        details={
            "address": target,
            "client": entry.id if entry is not None else None,
            "cause": cause,
            "error": raw,
        },
    )


async def connect_client(
    entry: TemporalClientEntry | None, *, address: str | None = None
) -> Client:
    """Connect as `entry` (a `temporal.client` entry, or None for the local default).

    Args:
        entry: The client entry, or None for `127.0.0.1:7233`, namespace `default`.
        address: Overrides the entry's address (`--address`).

    Raises:
        WflowError: `INVALID` for an address that is not `host:port`, or unreadable TLS files /
            an unset API key variable; `UNAVAILABLE` naming the address, the entry and what to
            check (see `connect_error`) when the connection fails.
    """
    target = address or (entry.address if entry is not None else DEFAULT_ADDRESS)
    split_address(target)  # `--address nonsense` is a usage error, not an unreachable host
    namespace = entry.temporal_namespace if entry is not None else "default"
    timeout = parse_duration((entry.connection_timeout if entry is not None else None) or "10s")
    tls = client_tls(entry)
    # The entry's codec chain (compression, encryption, ...) on wflow's strict JSON converter,
    # its tracing interceptor and metrics runtime (wflow.temporal._telemetry; off by default).
    data_converter = data_converter_for(entry, DATA_CONVERTER)
    interceptors = client_interceptors(entry)
    runtime = metrics_runtime(entry)
    try:
        return await asyncio.wait_for(
            Client.connect(
                target,
                namespace=namespace,
                tls=tls,
                api_key=client_api_key(entry),
                data_converter=data_converter,
                interceptors=interceptors,
                runtime=runtime,
                keep_alive_config=_keep_alive(entry),
            ),
            timeout.total_seconds(),
        )
    except (asyncio.TimeoutError, RuntimeError, OSError) as exc:
        raise connect_error(
            exc,
            target,
            entry,
            # Session passes the entry's own address too; only a different one is an override.
            overridden=address is not None and (entry is None or address != entry.address),
            timeout=f"{timeout.total_seconds():g}s",
            tls=tls is not False,
        ) from None


def with_entry_settings(client: Client, entry: TemporalClientEntry | None) -> Client:
    """Return a client on `client`'s connection with the entry's converter, codecs and tracing.

    For clients wflow did not connect itself (the time-skipping server's, one a caller gives):
    the same payload rules and codec chain, and the tracing interceptor, as `connect_client`
    would use. Metrics need a runtime of their own and so a connection of their own: they are
    only exported by clients `connect_client` makes.
    """
    config = client.config()
    config["data_converter"] = data_converter_for(entry, DATA_CONVERTER)
    config["interceptors"] = [*config["interceptors"], *client_interceptors(entry)]
    return Client(**config)
