"""The Python authoring style: decorators and the workflow-side modules."""

from wflow.dsl import channel, errors, funcs, process, time, uuid
from wflow.dsl._decorators import entry_id_of, function, workflow

__all__ = [
    "channel",
    "entry_id_of",
    "errors",
    "funcs",
    "function",
    "process",
    "time",
    "uuid",
    "workflow",
]
