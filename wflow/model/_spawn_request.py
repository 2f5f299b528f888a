"""One spawn request: the entry, its host, its arguments and options, as one value.

A spawn from a workflow, a process, a function or a client outside workflows asks for the same
four things. `WorkflowRuntime.spawn` and `ProcessClient.spawn` take them as one `SpawnRequest`,
and so do the process router and the spawn plan behind them, so a new spawn field is one
attribute here rather than a parameter added to every signature on the way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wflow.model._options import SpawnOptions

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
