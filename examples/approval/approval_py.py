"""The seed's approval workflow as decorated Python, the twin of `approval.lua`.

Same calls, same order, same message: submit the request, wait for one message, fulfill the
order if it says `approved`, else send the rejection.
"""

from __future__ import annotations

from typing import Any

import wflow
from wflow import funcs, process


@wflow.workflow("app.workflows:approval_py")
async def approval(request: dict[str, Any]) -> None:
    """Submit `request`, wait for the decision, act on it."""
    await funcs.call("app.approvals:submit", request)
    msg = await process.inbox().receive()  # blocks until the signal arrives
    if msg.payload.get("approved"):
        await funcs.call("app.orders:fulfill", request["order_id"])
    else:
        await funcs.call("app.notifications:send_rejection", request)
