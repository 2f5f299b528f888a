"""The Python twins of the seed's two Lua scripts, line for line.

The seed's scripts read globals that nothing sets (`payment`, `items`, `amount`, `order`), so
they pass nil; the twins pass None the same way. Both languages go through the same
intercepted calls, so a Lua script and its twin leave the same Temporal history
(`tests/test_same_history.py` compares them).
"""

from __future__ import annotations

from typing import Any

import wflow
from wflow import funcs, time

# The seed's scripts read these as unset globals.
payment: Any = None
items: Any = None
amount: Any = None
order: Any = None


@wflow.workflow("app.twins:order_processor")
async def order_processor() -> None:
    """Twin of `workflows/order_processor.lua`."""
    result = await funcs.call("app.api:charge_card", payment)
    await time.sleep("24h")
    status = await funcs.call("app.api:check_status", result["id"])
    if status == "failed":
        await funcs.call("app.api:refund", result["id"])


@wflow.workflow("app.twins:order_saga")
async def order_saga() -> dict[str, Any]:
    """Twin of `workflows/order_saga.lua`."""
    inventory = await funcs.call("app.inventory:reserve", items)
    if inventory.get("error"):
        raise wflow.WflowError.from_dict(inventory["error"])
    payment = await funcs.call("app.payments:charge", amount)
    if payment.get("error"):
        await funcs.call("app.inventory:release", inventory["id"])
        raise wflow.WflowError.from_dict(payment["error"])
    shipping = await funcs.call("app.shipping:create", order)
    if shipping.get("error"):
        await funcs.call("app.payments:refund", payment["id"])
        await funcs.call("app.inventory:release", inventory["id"])
        raise wflow.WflowError.from_dict(shipping["error"])
    return {"inventory": inventory, "payment": payment, "shipping": shipping}
