"""One Temporal workflow class per workflow entry, all running the same interpreter.

Temporal's sandbox setting is per class and its type name is the entry ID, so each entry gets
a small generated class. The classes live as attributes of this module, which the sandbox
passes through, so the sandbox finds them by name.
"""

from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Sequence
from typing import Any

from temporalio import workflow

from wflow._engines import workflow_program
from wflow.model import WflowError
from wflow.temporal._errors import to_application_error
from wflow.temporal._runtime import TemporalRuntime

__all__ = ["run_workflow_entry", "workflow_class"]

_serial = itertools.count(1)


async def run_workflow_entry(entry_id: str, registry: Any, args: Sequence[Any]) -> Any:
    """Run one workflow entry inside the current Temporal workflow."""
    entry = registry.get(entry_id)
    # The program's module is imported here, inside the run, on purpose: that gives each run
    # a fresh copy under the sandbox's restrictions, so the sandbox's notice is not needed.
    with workflow.unsafe.sandbox_import_notification_policy(
        workflow.SandboxImportNotificationPolicy.SILENT
    ):
        program = workflow_program(entry, registry)
    runtime = TemporalRuntime(entry.id, entry.namespace, registry)
    try:
        return await program.run(runtime, list(args))
    except WflowError as exc:
        raise to_application_error(exc) from None


def workflow_class(entry: Any, registry: Any) -> type:
    """Return a new Temporal workflow class whose type name is `entry`'s ID."""
    entry_id: str = entry.id
    sandboxed = entry.kind == "workflow.py" and bool(getattr(entry, "sandboxed", True))
    name = f"Workflow{next(_serial)}_{re.sub(r'[^0-9A-Za-z_]', '_', entry_id)}"

    async def run(self: Any, *args: Any) -> Any:
        return await run_workflow_entry(entry_id, registry, args)

    run.__qualname__ = f"{name}.run"
    namespace = {"run": workflow.run(run), "__module__": __name__, "__qualname__": name}
    cls = workflow.defn(name=entry_id, sandboxed=sandboxed)(type(name, (), namespace))
    setattr(sys.modules[__name__], name, cls)
    return cls
