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

from wflow.dsl import errors, funcs, time, uuid
from wflow.dsl._decorators import function, workflow
from wflow.model import ErrorKind, RetryPolicy, WflowError

__all__ = [
    "ErrorKind",
    "RetryPolicy",
    "WflowError",
    "errors",
    "funcs",
    "function",
    "time",
    "uuid",
    "workflow",
]

__version__ = "0.1.0"
