"""The one activity that runs every function entry, whatever its language."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from temporalio import activity
from temporalio.common import RawValue

from wflow.model import FunctionContext, FunctionProgram, WflowError, engine_for
from wflow.registry import Registry
from wflow.temporal._connection import BlockingConnection, Connection
from wflow.temporal._error_mapping import to_application_error
from wflow.temporal._headers import received_context
from wflow.temporal._processes import INTERNAL_TERMINATE
from wflow.temporal._targets import function_entry

__all__ = ["function_activity"]


def function_activity(registry: Registry) -> Callable[..., Any]:
    """Return a dynamic activity serving every function entry of `registry`."""
    programs: dict[str, FunctionProgram] = {}

    def program_of(entry_id: str) -> FunctionProgram:
        program = programs.get(entry_id)
        if program is None:
            try:
                entry = function_entry(registry, entry_id, "")
            except WflowError as exc:
                # Retrying cannot make an unknown function appear: fail the call for good.
                raise to_application_error(exc, non_retryable=True) from None
            program = engine_for(entry.kind).function_program(entry, registry)
            programs[entry_id] = program
        return program

    @activity.defn(dynamic=True)
    async def wflow_function(raw_args: Sequence[RawValue]) -> Any:
        info = activity.info()
        converter = activity.payload_converter()
        args = [converter.from_payload(raw.payload) for raw in raw_args]
        connection = Connection(registry, {None: activity.client()})
        if info.activity_type == INTERNAL_TERMINATE:
            await connection.terminate(str(args[0]), args[1] if len(args) > 1 else None)
            return None
        program = program_of(info.activity_type)
        context = FunctionContext(
            entry_id=info.activity_type,
            attempt=info.attempt,
            workflow_id=info.workflow_id,
            values=received_context(),
            processes=BlockingConnection(connection, asyncio.get_running_loop()),
        )
        try:
            if inspect.iscoroutinefunction(program.call):
                return await program.call(args, context)
            return await asyncio.to_thread(program.call, args, context)
        except WflowError as exc:
            raise to_application_error(exc) from None

    return wflow_function
