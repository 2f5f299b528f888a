"""The benchmark's variants: the same workflows as plain temporalio, Python DSL and Lua."""

from __future__ import annotations

import dataclasses

__all__ = ["LIVE", "ORDER", "Variant"]

ORDER = {"order_id": "o-1", "items": ["book", "lamp"], "amount": 42.5, "steps": 0}
"""Every workflow's argument (`steps` counts the calls)."""


@dataclasses.dataclass(frozen=True)
class Variant:
    """One way to run the workload.

    Attributes:
        key: Short name (`plain`, `plain_raw`, `py`, `lua`).
        label: Column heading.
        family: Worker process kind (`bench._worker`): `plain-sandboxed`, `plain-unsandboxed`
            or `wflow`.
        prefix: Workflow type prefix: `bench:plain_`, `bench:py_`, `bench:lua_`.
    """

    key: str
    label: str
    family: str
    prefix: str

    @property
    def is_wflow(self) -> bool:
        return self.family == "wflow"

    def workflow_type(self, name: str) -> str:
        """The workflow type of `three_calls`, `one_call`, `calls` or `sleeper`."""
        return self.prefix + name

    def task_queue(self, worker_queue: str) -> str:
        """The task queue a worker started with `worker_queue` polls."""
        return worker_queue + "bench" if self.is_wflow else worker_queue


LIVE = (
    Variant("plain", "plain temporalio, sandboxed", "plain-sandboxed", "bench:plain_"),
    Variant("plain_raw", "plain temporalio, unsandboxed", "plain-unsandboxed", "bench:plain_"),
    Variant("py", "wflow Python DSL (sandboxed, as shipped)", "wflow", "bench:py_"),
    Variant("lua", "wflow Lua (unsandboxed, as shipped)", "wflow", "bench:lua_"),
)
"""The variants run on the dev server, in this order (rotated each round)."""
