"""The Python authoring style: decorators, the workflow-side modules and the Python engine.

The workflow-side modules mirror Lua's, one file each: `funcs`, `time`, `uuid`, `process`,
`channel`, `errors` and `workflow` (`wflow/dsl/workflow.py`). The name `workflow` exported
here is the decorator, which carries the `workflow` module's functions too
(`wflow.workflow.info()`).
"""

from wflow.dsl import channel, crypto, ctx, errors, funcs, process, time, uuid
from wflow.dsl._decorators import entry_id_of, function, workflow
from wflow.dsl._python_engine import PythonEngine, current_function_context

__all__ = [
    "PythonEngine",
    "channel",
    "crypto",
    "ctx",
    "current_function_context",
    "entry_id_of",
    "errors",
    "funcs",
    "function",
    "process",
    "time",
    "uuid",
    "workflow",
]
