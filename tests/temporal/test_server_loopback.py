"""The embedded dev server listens on loopback only: every listening socket of its process
(frontend, HTTP API, web UI, internal membership ports) is bound to 127.0.0.1, none to a
public or wildcard address."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from wflow.testing import EmbeddedDevServer

LISTEN = "0A"


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def listening_addresses(pid: int) -> list[str]:
    """`ip:port` of each listening TCP socket of process `pid` (IPv4 and IPv6)."""
    inodes = socket_inodes(pid)
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == LISTEN and inode in inodes:
                    hex_ip, hex_port = local.split(":")
                    found.append(f"{_ip(hex_ip)}:{int(hex_port, 16)}")
    return found


def _ip(hex_ip: str) -> str:
    raw = bytes.fromhex(hex_ip)
    if len(raw) == 4:
        return ".".join(str(b) for b in reversed(raw))
    words = [raw[i : i + 4][::-1].hex() for i in range(0, 16, 4)]
    return "[" + "".join(words) + "]"


async def test_dev_server_with_ui_listens_on_loopback_only(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    port = free_port()
    server = await EmbeddedDevServer.start(tmp_path, address=f"127.0.0.1:{port}", ui=True)
    try:
        addresses = listening_addresses(server.pid)
    finally:
        await server.stop()
    assert f"127.0.0.1:{port}" in addresses
    assert server.ui_url is not None and server.ui_url.replace("http://", "") in addresses
    assert [a for a in addresses if not a.startswith("127.0.0.1:")] == []
