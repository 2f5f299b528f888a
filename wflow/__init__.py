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

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wflow.dsl import channel, crypto, ctx, errors, funcs, process, time, uuid
    from wflow.dsl._decorators import function, workflow
    from wflow.model import ErrorKind, Event, Message, RetryPolicy, SpawnOptions, WflowError
    from wflow.temporal._connection import Connection, connect

# Imported on first use (module `__getattr__`): `import wflow` alone, as the command line and
# Lua-only workers do, loads none of the DSL, the registry's models or Temporal's client.
_WHERE: dict[str, tuple[str, bool]] = {
    # name: (module, whether the name is that module itself)
    **{name: (f"wflow.dsl.{name}", True) for name in ("channel", "errors", "funcs")},
    **{name: (f"wflow.dsl.{name}", True) for name in ("process", "time", "uuid")},
    **{name: (f"wflow.dsl.{name}", True) for name in ("crypto", "ctx")},
    "function": ("wflow.dsl._decorators", False),
    "workflow": ("wflow.dsl._decorators", False),
    **{
        name: ("wflow.model", False)
        for name in ("ErrorKind", "Event", "Message", "RetryPolicy", "SpawnOptions", "WflowError")
    },
    "Connection": ("wflow.temporal._connection", False),
    "connect": ("wflow.temporal._connection", False),
}

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
    "crypto",
    "ctx",
    "errors",
    "funcs",
    "function",
    "process",
    "time",
    "uuid",
    "workflow",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Import an export on its first use (PEP 562)."""
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'wflow' has no attribute {name!r}")
    module = importlib.import_module(where[0])
    value = module if where[1] else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
