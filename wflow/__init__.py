"""wflow: durable workflows in Lua or decorated Python, on Temporal.

Example:
    ```python
    import wflow
    from wflow import funcs, time

    @wflow.function("app.api:charge_card")
    def charge_card(payment: dict) -> dict: ...

    @wflow.workflow("app.workflows:order_processor")
    async def order_processor(order: dict) -> dict:
        receipt = await funcs.call(charge_card, order)
        await time.sleep("24h")
        return receipt
    ```
"""

from wflow.dsl import channel, errors, funcs, process, time, uuid
from wflow.dsl._decorators import function, workflow
from wflow.model import ErrorKind, Event, Message, RetryPolicy, SpawnOptions, WflowError
from wflow.temporal._connection import Connection, connect

__all__ = [
    "Connection",
    "ErrorKind",
    "Event",
    "Message",
    "RetryPolicy",
    "SpawnOptions",
    "WflowError",
    "channel",
    "connect",
    "errors",
    "funcs",
    "function",
    "process",
    "time",
    "uuid",
    "workflow",
]

__version__ = "0.1.0"
