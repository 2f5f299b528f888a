"""One spawn request, the value the process code passes instead of four arguments.

A spawn from a workflow, a process or a client outside workflows is the same four things (the
entry, its host, its arguments, its options); the router, the workflow-side process calls and
the spawn plan take them as one `SpawnRequest`. (The `WorkflowRuntime.spawn` signature, which
the Lua bridge calls, keeps its four arguments.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wflow.model import SpawnOptions

__all__ = ["SpawnRequest"]


@dataclass(frozen=True)
class SpawnRequest:
    """What a spawn asks for, whoever asks: the entry, its host, its arguments and options.

    Attributes:
        entry: The process or workflow entry to start.
        host: The `process.host` (or worker) to start it on; None for the default.
        args: Its arguments.
        options: Its spawn options.
    """

    entry: str
    host: str | None
    args: Sequence[Any]
    options: SpawnOptions
