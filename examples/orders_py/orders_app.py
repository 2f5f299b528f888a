"""The seed's order processing: charge the card, wait a day, check the charge, refund if it
failed. Functions keep a small SQLite ledger so that every call is visible afterwards.

Cards ending in `0002` are accepted at first and reported `failed` by the later status check
(like a charge that bounces after settlement).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import wflow
from wflow import funcs, time


def _ledger() -> sqlite3.Connection:
    path = Path(
        os.environ.get("WFLOW_EXAMPLE_LEDGER", Path(__file__).parent / ".wflow" / "ledger.sqlite3")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE IF NOT EXISTS calls (seq INTEGER PRIMARY KEY, function TEXT, arg TEXT)"
    )
    db.execute("CREATE TABLE IF NOT EXISTS charges (id TEXT PRIMARY KEY, card TEXT, amount REAL)")
    return db


def _record(db: sqlite3.Connection, function: str, arg: str) -> None:
    db.execute("INSERT INTO calls (function, arg) VALUES (?, ?)", (function, arg))


@wflow.function("app.api:charge_card")
def charge_card(payment: dict[str, Any]) -> dict[str, Any]:
    """Charge the payment's card; fail with INVALID when the amount is not positive."""
    if not isinstance(payment.get("amount"), (int, float)) or payment["amount"] <= 0:
        raise wflow.WflowError("amount must be a positive number", wflow.ErrorKind.INVALID)
    with _ledger() as db:
        charge_id = f"ch_{payment['order_id']}"
        _record(db, "charge_card", charge_id)
        db.execute(
            "INSERT OR REPLACE INTO charges VALUES (?, ?, ?)",
            (charge_id, str(payment.get("card", "")), payment["amount"]),
        )
    return {"id": charge_id, "amount": payment["amount"], "status": "captured"}


@wflow.function("app.api:check_status")
def check_status(charge_id: str) -> str:
    """Return `settled`, or `failed` for cards ending in 0002."""
    with _ledger() as db:
        _record(db, "check_status", charge_id)
        row = db.execute("SELECT card FROM charges WHERE id = ?", (charge_id,)).fetchone()
    if row is None:
        raise wflow.WflowError(f"no charge {charge_id}", wflow.ErrorKind.NOT_FOUND)
    return "failed" if row[0].endswith("0002") else "settled"


@wflow.function("app.api:refund")
def refund(charge_id: str) -> dict[str, Any]:
    """Refund a charge."""
    with _ledger() as db:
        _record(db, "refund", charge_id)
    return {"id": charge_id, "refunded": True}


@wflow.workflow("app.workflows:order_processor")
async def order_processor(payment: dict[str, Any]) -> dict[str, Any]:
    """Charge, wait for settlement, check the charge, refund if it failed.

    The wait is the seed's 24 hours unless the payment names another `settle_after` (the
    README's quick run uses seconds so that it ends while you watch).
    """
    result = await funcs.call(charge_card, payment)
    await time.sleep(payment.get("settle_after", "24h"))
    status = await funcs.call(check_status, result["id"])
    if status == "failed":
        await funcs.call(refund, result["id"])
    return {"charge": result["id"], "status": status, "refunded": status == "failed"}
