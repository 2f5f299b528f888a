"""`@wflow.workflow` and `@wflow.function`: register Python callables as entries."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from wflow.dsl.workflow import attrs, exec, history_length, history_size, info, set_state, version
from wflow.model import DEFAULT_MAILBOX_BOUND

__all__ = ["entry_id_of", "function", "workflow"]

F = TypeVar("F", bound=Callable[..., Any])

_ENTRY_ATTR = "__wflow_entry__"


class _WorkflowDecorator:
    """`@wflow.workflow(...)` registers a workflow; it also carries `wflow.dsl.workflow`."""

    def __call__(
        self,
        entry_id: str,
        *,
        sandboxed: bool = True,
        worker: str | None = None,
        mailbox_bound: int = DEFAULT_MAILBOX_BOUND,
    ) -> Callable[[F], F]:
        """Register an `async def` function as the workflow entry `entry_id`.

        The function is returned unchanged, so it stays callable and typed.

        Args:
            entry_id: The entry ID, `namespace:name`; also the Temporal workflow type.
            sandboxed: Run in Temporal's Python sandbox (the default). Pass False for code
                that is deterministic by other means and needs modules the sandbox refuses.
            worker: The `temporal.worker` entry to run on; the project's only worker by
                default.
            mailbox_bound: Unreceived messages kept; past it, senders outside workflows get
                `RATE_LIMITED` and nothing is sent.

        Example:
            ```python
            @wflow.workflow("app.workflows:order_processor")
            async def order_processor(order: dict) -> dict:
                result = await funcs.call(charge_card, order)
                await time.sleep("24h")
                ...
            ```
        """

        def register(fn: F) -> F:
            if not inspect.iscoroutinefunction(fn):
                raise TypeError(f"@wflow.workflow({entry_id!r}) needs an async def function")
            from wflow.registry import register_decorated

            register_decorated(
                "workflow.py",
                entry_id,
                fn,
                sandboxed=sandboxed,
                worker=worker,
                mailbox_bound=mailbox_bound,
            )
            setattr(fn, _ENTRY_ATTR, entry_id)
            return fn

        return register

    # The workflow-side functions, so that `wflow.workflow.info()` works where the name
    # `wflow.workflow` is this decorator. Their one definition is `wflow.dsl.workflow`.
    info = staticmethod(info)
    history_length = staticmethod(history_length)
    history_size = staticmethod(history_size)
    version = staticmethod(version)
    set_state = staticmethod(set_state)
    attrs = staticmethod(attrs)
    exec = staticmethod(exec)


workflow = _WorkflowDecorator()
"""Decorator for workflow functions; its attributes are the functions of `wflow.dsl.workflow`."""


def function(entry_id: str, *, worker: str | None = None) -> Callable[[F], F]:
    """Register a callable (sync or async) as the function entry `entry_id`.

    Workflows call it with `funcs.call(entry_id_or_the_function, ...)`; it runs as a Temporal
    activity named `entry_id`. Raise `WflowError` to fail with a kind.

    Args:
        entry_id: The entry ID, `namespace:name`; also the activity name.
        worker: The `temporal.worker` entry to run on; the project's only worker by default.
    """

    def register(fn: F) -> F:
        from wflow.registry import register_decorated

        register_decorated("function.py", entry_id, fn, worker=worker)
        setattr(fn, _ENTRY_ATTR, entry_id)
        return fn

    return register


def entry_id_of(target: Any) -> str | None:
    """Return the entry ID a decorated callable was registered under, or None."""
    value = getattr(target, _ENTRY_ATTR, None)
    return value if isinstance(value, str) else None
