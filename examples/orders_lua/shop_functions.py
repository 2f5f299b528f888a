"""The Python functions the seed's Lua workflows call (the others are `functions/*.lua`).

Every call is written to a small SQLite ledger, so that you (and the tests) can see what ran
and how often. The seed's scripts pass globals that are never set (`payment`, `items`,
`amount`, `order` are nil), so the functions cannot learn from their arguments how an order
should go. They read a *scenario* from the same database instead:

- `card`: the card number charged (default `4242424242424242`). Cards ending in `0002` are
  accepted by `charge_card` and reported `failed` by `check_status` (a charge that bounces);
  cards ending in `0069` are refused by `charge_card` (`INVALID`, "card expired").
- `fail_at`: `inventory`, `payment` or `shipping`: that saga step answers with an `error`
  field (the seed's saga checks `inventory.error`, `payment.error`, `shipping.error`).

Set it with `python shop_functions.py scenario [card=...] [fail_at=...]` (or `set_scenario`);
`python shop_functions.py calls` prints the ledger. The database is `.wflow/ledger.sqlite3`
next to this file, or the file `WFLOW_EXAMPLE_LEDGER` names.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import wflow

DEFAULT_CARD = "4242424242424242"

_FAILURES = {
    "inventory": {"kind": "CONFLICT", "message": "out of stock"},
    "payment": {"kind": "PERMISSION_DENIED", "message": "card declined"},
    "shipping": {"kind": "UNAVAILABLE", "message": "no carrier can take the parcel"},
}


def ledger_path() -> Path:
    """The ledger database this process uses."""
    default = Path(__file__).parent / ".wflow" / "ledger.sqlite3"
    return Path(os.environ.get("WFLOW_EXAMPLE_LEDGER", default))


def _ledger() -> sqlite3.Connection:
    path = ledger_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE IF NOT EXISTS calls (seq INTEGER PRIMARY KEY, function TEXT, arg TEXT)"
    )
    db.execute("CREATE TABLE IF NOT EXISTS scenario (key TEXT PRIMARY KEY, value TEXT)")
    return db


def set_scenario(*, card: str | None = None, fail_at: str | None = None) -> None:
    """Set how the next orders go (None: the default for that setting)."""
    if fail_at is not None and fail_at not in _FAILURES:
        raise ValueError(f"fail_at must be one of {sorted(_FAILURES)}, not {fail_at!r}")
    db = _ledger()
    try:
        db.execute("DELETE FROM scenario")
        for key, value in (("card", card), ("fail_at", fail_at)):
            if value is not None:
                db.execute("INSERT INTO scenario VALUES (?, ?)", (key, value))
    finally:
        db.close()


def _scenario(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM scenario WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def _record(function: str, arg: Any) -> dict[str, str | None]:
    """Record one call; return the scenario it runs under."""
    db = _ledger()
    try:
        db.execute("INSERT INTO calls (function, arg) VALUES (?, ?)", (function, str(arg)))
        return {"card": _scenario(db, "card"), "fail_at": _scenario(db, "fail_at")}
    finally:
        db.close()


def _card() -> str:
    db = _ledger()
    try:
        return _scenario(db, "card") or DEFAULT_CARD
    finally:
        db.close()


# -- order processing ---------------------------------------------------------------------


@wflow.function("app.api:charge_card")
def charge_card(payment: dict[str, Any] | None) -> dict[str, Any]:
    """Charge a card: the payment's, else the scenario's. The ID ends in the card's last four."""
    payment = payment or {}
    card = str(payment.get("card") or _card())
    amount = payment.get("amount", 42)
    if not isinstance(amount, (int, float)) or amount <= 0:
        raise wflow.WflowError("amount must be a positive number", wflow.ErrorKind.INVALID)
    if card.endswith("0069"):
        raise wflow.WflowError("card expired", wflow.ErrorKind.INVALID)
    charge_id = f"ch_{card[-4:]}"
    _record("charge_card", charge_id)
    return {"id": charge_id, "amount": amount, "status": "captured"}


@wflow.function("app.api:refund")
def refund(charge_id: str) -> dict[str, Any]:
    """Refund a charge."""
    _record("refund", charge_id)
    return {"id": charge_id, "refunded": True}


# -- saga -------------------------------------------------------------------------------


@wflow.function("app.inventory:reserve")
def reserve(items: list[Any] | None) -> dict[str, Any]:
    """Reserve the items; `{error = ...}` when the scenario fails the inventory step."""
    scenario = _record("reserve", items)
    if scenario["fail_at"] == "inventory":
        return {"error": _FAILURES["inventory"]}
    return {"id": "res_1", "items": items or []}


@wflow.function("app.payments:charge")
def charge(amount: float | None) -> dict[str, Any]:
    """Take the payment; `{error = ...}` when the scenario fails the payment step."""
    scenario = _record("charge", amount)
    if scenario["fail_at"] == "payment":
        return {"error": _FAILURES["payment"]}
    return {"id": "pay_1", "amount": amount if amount is not None else 42}


@wflow.function("app.payments:refund")
def refund_payment(payment_id: str) -> dict[str, Any]:
    """Give a payment back (the saga's compensation for `charge`)."""
    _record("refund_payment", payment_id)
    return {"id": payment_id, "refunded": True}


@wflow.function("app.shipping:create")
def create_shipment(order: dict[str, Any] | None) -> dict[str, Any]:
    """Book the shipment; `{error = ...}` when the scenario fails the shipping step."""
    scenario = _record("create_shipment", order)
    if scenario["fail_at"] == "shipping":
        return {"error": _FAILURES["shipping"]}
    return {"id": "shp_1", "carrier": "wflow-post"}


def _main(argv: list[str]) -> int:
    if argv[:1] == ["scenario"]:
        settings = dict(arg.split("=", 1) for arg in argv[1:])
        set_scenario(card=settings.get("card"), fail_at=settings.get("fail_at"))
        return 0
    if argv[:1] == ["calls"]:
        db = _ledger()
        try:
            for seq, function, arg in db.execute("SELECT seq, function, arg FROM calls"):
                print(seq, function, arg)
        finally:
            db.close()
        return 0
    print("usage: python shop_functions.py scenario [card=NUMBER] [fail_at=STEP] | calls")
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
