"""The Python authoring style: decorators and the workflow-side modules."""

from wflow.dsl import errors, funcs, time, uuid
from wflow.dsl._decorators import entry_id_of, function, workflow

__all__ = ["entry_id_of", "errors", "funcs", "function", "time", "uuid", "workflow"]
