"""Local network stand-ins for connection tests: a client project with extra settings, a
closed port, and a listener that accepts and never answers (or hands each connection on)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.helpers.cli_process import make_project

__all__ = ["client_project", "closed_port", "listener"]

def client_project(root: Path, address: str, *extra: str) -> Path:
    """A project whose `temporal.client` has `address` and the `extra` YAML lines."""
    project = make_project(root, address)
    index = project / "_index.yaml"
    lines = index.read_text(encoding="utf-8").splitlines()
    at = lines.index(f'    address: "{address}"') + 1
    index.write_text("\n".join([*lines[:at], *(f"    {x}" for x in extra), *lines[at:]]) + "\n")
    return project


def closed_port(host: str) -> int:
    """A port on `host` that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


@contextlib.contextmanager
def listener(host: str, handle: Callable[[socket.socket], None] | None = None) -> Iterator[int]:
    """Listen on `host`; each connection goes to `handle` (default: accepted, never answered)."""
    server = socket.socket()
    server.bind((host, 0))
    server.listen()
    server.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)
            if handle is not None:
                threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()
