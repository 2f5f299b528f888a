"""Reading the SQLite ledger that the example functions write."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def calls(path: Path) -> list[tuple[str, str]]:
    """Return (function, argument) rows in call order; empty when nothing ran yet."""
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        return [(f, a) for f, a in db.execute("SELECT function, arg FROM calls ORDER BY seq")]
