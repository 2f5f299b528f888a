"""Model options to Temporal's types."""

from __future__ import annotations

from typing import Any

import temporalio.common

from wflow.model import RetryPolicy

__all__ = ["conflict_policy", "retry_policy", "reuse_policy"]


def retry_policy(policy: RetryPolicy | None) -> temporalio.common.RetryPolicy | None:
    """Return Temporal's retry policy for `policy` (None: Temporal's default)."""
    if policy is None:
        return None
    kwargs: dict[str, Any] = {}
    if policy.initial_interval is not None:
        kwargs["initial_interval"] = policy.initial_interval
    if policy.backoff_coefficient is not None:
        kwargs["backoff_coefficient"] = policy.backoff_coefficient
    if policy.maximum_interval is not None:
        kwargs["maximum_interval"] = policy.maximum_interval
    if policy.maximum_attempts is not None:
        kwargs["maximum_attempts"] = policy.maximum_attempts
    if policy.non_retryable_error_types:
        kwargs["non_retryable_error_types"] = list(policy.non_retryable_error_types)
    return temporalio.common.RetryPolicy(**kwargs)


def reuse_policy(name: str | None) -> temporalio.common.WorkflowIDReusePolicy:
    """Return the ID reuse policy named as in `SpawnOptions` (Temporal's default for None)."""
    # SpawnOptions checks the name; it is Temporal's member name in lower case.
    return temporalio.common.WorkflowIDReusePolicy[(name or "allow_duplicate").upper()]


def conflict_policy(name: str | None) -> temporalio.common.WorkflowIDConflictPolicy:
    """Return the ID conflict policy named as in `SpawnOptions` (fail for None)."""
    return temporalio.common.WorkflowIDConflictPolicy[(name or "fail").upper()]
