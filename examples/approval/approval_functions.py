"""The functions the seed's approval script calls; each call is written to a SQLite ledger.

The ledger is `.wflow/ledger.sqlite3` next to this file, or the file `WFLOW_EXAMPLE_LEDGER`
names; `python approval_functions.py` prints it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any


def ledger_path() -> Path:
    """Return the ledger file (`WFLOW_EXAMPLE_LEDGER` or `.wflow/ledger.sqlite3` here)."""
    default = Path(__file__).parent / ".wflow" / "ledger.sqlite3"
    return Path(os.environ.get("WFLOW_EXAMPLE_LEDGER", default))


def _record(function: str, arg: Any) -> None:
    path = ledger_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path, timeout=30, isolation_level=None) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS calls (seq INTEGER PRIMARY KEY, function TEXT, arg TEXT)"
        )
        text = arg if isinstance(arg, str) else json.dumps(arg, sort_keys=True)
        db.execute("INSERT INTO calls (function, arg) VALUES (?, ?)", (function, text))


def submit(request: dict[str, Any] | None) -> dict[str, Any]:
    """Submit an approval request (here: record it); returns a receipt."""
    order_id = (request or {}).get("order_id")
    _record("submit", str(order_id))
    return {"submitted": True, "order_id": order_id}


def fulfill(order_id: str | None) -> dict[str, Any]:
    """Fulfill an approved order."""
    _record("fulfill", str(order_id))
    return {"order_id": order_id, "fulfilled": True}


def send_rejection(request: dict[str, Any] | None) -> dict[str, Any]:
    """Tell the requester the order was rejected."""
    order_id = (request or {}).get("order_id")
    _record("send_rejection", str(order_id))
    return {"order_id": order_id, "notified": True}


if __name__ == "__main__":
    if not ledger_path().exists():
        sys.exit("no calls yet")
    with sqlite3.connect(ledger_path()) as db:
        for seq, function, arg in db.execute("SELECT seq, function, arg FROM calls ORDER BY seq"):
            print(seq, function, arg)
