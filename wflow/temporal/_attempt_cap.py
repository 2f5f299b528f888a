"""`wflow run --max-attempts N`: cap the retries of every function call of that run.

How: `wflow run` starts its workflow with the memo `wflow.max_attempts = N`. The worker's
interceptor (`AttemptCapInterceptor`, on every worker wflow builds) reads it whenever the
workflow schedules an activity and lowers that activity's `maximum_attempts` to N (an
explicit smaller limit stays); child workflows it starts inherit the memo.

Why a memo rather than a header or an option of the worker: the cap belongs to the workflow,
not to the process that happens to run it. It survives a restart (`wflow dev PROJECT` picking
the workflow up after Ctrl-C keeps it), applies on workers elsewhere, and is visible where
users look (`temporal workflow describe`, the web UI's memo). Workflows started any other way
have no such memo and keep Temporal's unlimited retries.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import temporalio.worker
from temporalio import workflow
from temporalio.common import RetryPolicy

__all__ = ["MAX_ATTEMPTS_MEMO", "AttemptCapInterceptor", "capped_policy"]

MAX_ATTEMPTS_MEMO = "wflow.max_attempts"
"""Memo key of a workflow whose function calls are capped at that many attempts."""


def capped_policy(policy: RetryPolicy | None, max_attempts: int) -> RetryPolicy:
    """Return `policy` (Temporal's default when None) allowing at most `max_attempts` attempts."""
    policy = policy or RetryPolicy()
    if 0 < policy.maximum_attempts <= max_attempts:
        return policy
    return dataclasses.replace(policy, maximum_attempts=max_attempts)


def _cap() -> int | None:
    value = workflow.memo_value(MAX_ATTEMPTS_MEMO, None)
    return value if isinstance(value, int) and value > 0 else None


class _Outbound(temporalio.worker.WorkflowOutboundInterceptor):
    def start_activity(self, input: temporalio.worker.StartActivityInput) -> Any:
        cap = _cap()
        if cap is not None:
            input.retry_policy = capped_policy(input.retry_policy, cap)
        return super().start_activity(input)

    async def start_child_workflow(self, input: temporalio.worker.StartChildWorkflowInput) -> Any:
        cap = _cap()
        if cap is not None:
            input.memo = {**(input.memo or {}), MAX_ATTEMPTS_MEMO: cap}
        return await super().start_child_workflow(input)


class _Inbound(temporalio.worker.WorkflowInboundInterceptor):
    def init(self, outbound: temporalio.worker.WorkflowOutboundInterceptor) -> None:
        super().init(_Outbound(outbound))


class AttemptCapInterceptor(temporalio.worker.Interceptor):
    """Worker interceptor applying a workflow's `wflow.max_attempts` memo to its calls."""

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor] | None:
        """Cap the retry policy of the activities each workflow schedules."""
        return _Inbound
