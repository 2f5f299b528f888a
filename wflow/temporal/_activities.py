"""The one activity that runs every function entry, whatever its language."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any

from temporalio import activity
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

from wflow.model import ErrorKind, FunctionContext, FunctionProgram, WflowError, engine_for
from wflow.registry import Registry
from wflow.temporal._connection import BlockingConnection, Connection
from wflow.temporal._error_mapping import to_application_error
from wflow.temporal._failure_reports import (
    FailureReport,
    FailureSink,
    error_kind_and_message,
    python_location,
    retry_delay,
    returned_error_location,
)
from wflow.temporal._headers import received_context
from wflow.temporal._payloads import check_payload_sizes, json_problem
from wflow.temporal._processes import INTERNAL_TERMINATE
from wflow.temporal._targets import function_entry

__all__ = ["FUNCTION_OVERRIDES", "function_activity"]

FUNCTION_OVERRIDES: ContextVar[Mapping[str, FunctionProgram] | None] = ContextVar(
    "wflow_function_overrides", default=None
)
"""Test hook: programs standing in for function entries, by entry ID.

Read once by `function_activity` when it is built (so by the workers a `Session` starts while
it is set); `wflow.testing`'s function mocks set it around a test's session. Unset (None)
outside tests: every function runs through its entry's engine.
"""


def _report(failures: FailureSink, registry: Registry, error: BaseException) -> None:
    """Tell `failures` about this attempt's failure: where it was raised, what happens next."""
    info = activity.info()
    if isinstance(error, WflowError):
        type_name, message, retryable = error.kind.value, error.message, error.retryable
    elif isinstance(error, ApplicationError):
        type_name = error.type or type(error).__name__
        message, retryable = error.message, not error.non_retryable
    else:
        type_name, message, retryable = type(error).__name__, str(error), True
    kind, message, location = error_kind_and_message(type_name, message)
    location = location or python_location(error)
    if location is None and isinstance(error, WflowError) and info.activity_type in registry:
        # A Lua `return nil, err` has no line: name the function's file at least.
        location = returned_error_location(registry.get(info.activity_type))
    policy = info.retry_policy
    final: str | None = None
    if not retryable or (policy is not None and kind in (policy.non_retryable_error_types or ())):
        final = "not retryable"
    elif policy is not None and 0 < policy.maximum_attempts <= info.attempt:
        final = f"attempt {info.attempt} of {policy.maximum_attempts}"
    delay = None
    # Without the policy (the time-skipping test server sends none) the next step is unknown.
    if final is None and policy is not None:
        delay = retry_delay(
            info.attempt,
            policy.initial_interval if policy else None,
            policy.backoff_coefficient if policy else None,
            policy.maximum_interval if policy else None,
        )
    failures(
        FailureReport(
            what="call",
            workflow_id=info.workflow_id or "",
            entry_id=info.activity_type,
            kind=kind,
            message=message,
            location=location,
            attempt=info.attempt,
            next_attempt_in=delay,
            final=final,
        )
    )


def function_activity(
    registry: Registry, failures: FailureSink | None = None
) -> Callable[..., Any]:
    """Return a dynamic activity serving every function entry of `registry`.

    Args:
        registry: The project.
        failures: Told about each failed attempt, with where the user's code raised it (see
            `wflow.temporal._failure_reports`); the failure itself still goes to Temporal
            unchanged, so the retry policy decides what happens next.
    """
    # Stand-ins first: a mocked entry never loads its real program.
    programs: dict[str, FunctionProgram] = dict(FUNCTION_OVERRIDES.get() or {})

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
        try:
            program = program_of(info.activity_type)
            loop = asyncio.get_running_loop()

            def heartbeat(*details: Any) -> None:
                # Sync functions run on a worker thread: hand the heartbeat to the loop. An
                # async one runs on the loop: record it now, or a failure raised right after
                # would complete the attempt before the heartbeat (its details then lost).
                try:
                    on_loop = asyncio.get_running_loop() is loop
                except RuntimeError:
                    on_loop = False
                if on_loop:
                    activity.heartbeat(*details)
                else:
                    loop.call_soon_threadsafe(lambda: activity.heartbeat(*details))

            context = FunctionContext(
                entry_id=info.activity_type,
                attempt=info.attempt,
                workflow_id=info.workflow_id,
                values=received_context(),
                processes=BlockingConnection(connection, loop),
                heartbeat_details=list(info.heartbeat_details),
                heartbeater=heartbeat,
                cancel_requested=activity.is_cancelled,
            )
            if inspect.iscoroutinefunction(program.call):
                result = await program.call(args, context)
            else:
                result = await asyncio.to_thread(program.call, args, context)
            # Checked here, not left to the payload converter, so the call fails with INVALID
            # naming the function, not retried: the same code returns the same bad value.
            problem = json_problem(result, "result")
            if problem is not None:
                raise WflowError(
                    f"{info.activity_type}: invalid result: {problem}",
                    ErrorKind.INVALID,
                    retryable=False,
                )
            check_payload_sizes(result, info.activity_type, "result")
            return result
        except WflowError as exc:
            if failures is not None:
                _report(failures, registry, exc)
            # The user's frames go along: Temporal's stack trace of the failure (web UI,
            # `temporal workflow describe`) then ends where the user's code raised it.
            raise to_application_error(exc).with_traceback(exc.__traceback__) from None
        except Exception as exc:
            if failures is not None:
                _report(failures, registry, exc)
            raise

    return wflow_function
