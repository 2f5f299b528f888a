"""Connecting to Temporal as a `temporal.client` entry describes."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from temporalio.client import Client
from temporalio.service import TLSConfig

from wflow.model import ErrorKind, WflowError, parse_duration
from wflow.registry import TemporalClientEntry
from wflow.temporal._servers import DEFAULT_ADDRESS

__all__ = ["connect_client"]


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


def _api_key(entry: TemporalClientEntry | None) -> str | None:
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


def _tls(entry: TemporalClientEntry | None) -> TLSConfig | bool:
    if entry is None:
        return False
    tls, auth = entry.tls, entry.auth
    mtls = auth.type == "mtls"
    if not mtls and not tls.enabled:
        # An API key is only ever sent over TLS.
        return _api_key(entry) is not None
    return TLSConfig(
        server_root_ca_cert=_read(entry, tls.ca_file, "tls.ca_file") if tls.ca_file else None,
        domain=tls.server_name,
        # The schema makes an mtls auth name both files.
        client_cert=_read(entry, auth.cert_file or "", "auth.cert_file") if mtls else None,
        client_private_key=_read(entry, auth.key_file or "", "auth.key_file") if mtls else None,
    )


async def connect_client(
    entry: TemporalClientEntry | None, *, address: str | None = None
) -> Client:
    """Connect as `entry` (a `temporal.client` entry, or None for the local default).

    Raises:
        WflowError: `UNAVAILABLE` naming the address and entry when no server answers.
    """
    target = address or (entry.address if entry is not None else DEFAULT_ADDRESS)
    namespace = entry.temporal_namespace if entry is not None else "default"
    timeout = parse_duration((entry.connection_timeout if entry is not None else None) or "10s")
    try:
        return await asyncio.wait_for(
            Client.connect(target, namespace=namespace, tls=_tls(entry), api_key=_api_key(entry)),
            timeout.total_seconds(),
        )
    except (asyncio.TimeoutError, RuntimeError, OSError) as exc:
        reason = "timed out" if isinstance(exc, asyncio.TimeoutError) else str(exc).splitlines()[0]
        raise WflowError(
            f"no Temporal server answers at {target}{_describe(entry)}: {reason}",
            ErrorKind.UNAVAILABLE,
        ) from None
