"""Function mocks by entry ID: test a workflow without its real functions.

A `FunctionMock` stands in for one function entry. On a real server it replaces the entry's
program in the workers a test's session builds (`WflowEnv`, through the
`wflow.temporal._activities.FUNCTION_OVERRIDES` hook), so the workflow, Lua or Python, calls it
exactly as it would call the real function: same activity, same options, same history. On a
`FakeRuntime` it is a canned result (a callable). Either way it records each call.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from wflow.model import FunctionContext, FunctionProgram
from wflow.temporal._activities import FUNCTION_OVERRIDES

__all__ = ["FunctionMock", "MockCall", "mock_function", "mocks_applied"]

_UNSET: Any = object()


@dataclasses.dataclass(frozen=True)
class MockCall:
    """One call a `FunctionMock` received.

    Attributes:
        entry_id: The mocked function entry.
        args: The call's arguments, as the function would have received them (decoded JSON).
        attempt: The attempt number (1 unless the mock failed and Temporal retried it).
        workflow_id: The calling workflow's ID (None on a `FakeRuntime`).
    """

    entry_id: str
    args: list[Any]
    attempt: int = 1
    workflow_id: str | None = None


class FunctionMock:
    """A stand-in for a function entry that answers as told and records its calls.

    Made with `mock_function` (or `WflowEnv.mock_function`, which also applies it to the
    environment's runs). It is a `wflow.model.FunctionProgram` (what a worker runs for the
    entry) and a callable (a canned result for `FakeRuntime`).

    Attributes:
        entry_id: The function entry it stands in for.
        calls: Every call, in the order received (retries included).
    """

    def __init__(
        self,
        entry_id: str,
        *,
        returns: Any = _UNSET,
        raises: BaseException | None = None,
        side_effect: Callable[..., Any] | None = None,
        log: list[MockCall] | None = None,
    ) -> None:
        """Set what the mock answers; see `mock_function`."""
        given = [returns is not _UNSET, raises is not None, side_effect is not None]
        if sum(given) > 1:
            raise ValueError(
                f"mock_function({entry_id!r}): give one of returns=, raises=, side_effect="
            )
        self.entry_id = entry_id
        self.calls: list[MockCall] = []
        self._returns = None if returns is _UNSET else returns
        self._raises = raises
        self._side_effect = side_effect
        self._log = log
        # Calls arrive on worker threads (`asyncio.to_thread`): record them one at a time.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FunctionMock({self.entry_id!r}, {len(self.calls)} calls)"

    @property
    def call_args(self) -> list[list[Any]]:
        """The arguments of every call, in order (`[call.args for call in calls]`)."""
        return [call.args for call in self.calls]

    def call(self, args: Sequence[Any], context: FunctionContext) -> Any:
        """Record the call and answer it (what a worker runs for the mocked entry)."""
        self._record(MockCall(self.entry_id, list(args), context.attempt, context.workflow_id))
        return self._answer(args)

    def __call__(self, *args: Any) -> Any:
        """Record the call and answer it (what a `FakeRuntime` calls for the mocked entry)."""
        self._record(MockCall(self.entry_id, list(args)))
        return self._answer(args)

    def _record(self, call: MockCall) -> None:
        with self._lock:
            self.calls.append(call)
            if self._log is not None:
                self._log.append(call)

    def _answer(self, args: Sequence[Any]) -> Any:
        if self._raises is not None:
            raise self._raises
        if self._side_effect is not None:
            return self._side_effect(*args)
        return self._returns


def mock_function(
    entry_id: str,
    *,
    returns: Any = _UNSET,
    raises: BaseException | None = None,
    side_effect: Callable[..., Any] | None = None,
) -> FunctionMock:
    """Return a mock for function entry `entry_id`: answers as told, records its calls.

    Give at most one of `returns`, `raises`, `side_effect` (none: the mock returns None).
    Apply it to a run on a real server with `WflowEnv.run(..., mocks=[mock])` (or make it
    with `WflowEnv.mock_function`, which applies it to every run of the test), or hand it to
    a `FakeRuntime` as the entry's canned result.

    A mock raising a `WflowError` fails the call as the real function would: a non-retryable
    kind (`INVALID`, `NOT_FOUND`, ...) or `retryable=False` fails it at once, a retryable one
    is retried by Temporal as the entry's retry policy says (each attempt is recorded).

    Example:
        ```python
        from wflow.model import ErrorKind, WflowError
        from wflow.testing import FakeRuntime, mock_function, run_workflow

        charge = mock_function("app.api:charge_card", returns={"charge": "ch_1"})
        declined = mock_function(
            "app.api:charge_card", raises=WflowError("declined", ErrorKind.INVALID)
        )
        runtime = FakeRuntime({"app.api:charge_card": charge})
        ```

    Args:
        entry_id: The function entry the mock stands in for.
        returns: The value every call returns.
        raises: The exception every call raises.
        side_effect: Called with the call's arguments; its return value (or exception) is the
            call's.

    Returns:
        The mock; `mock.calls` lists its calls.

    Raises:
        ValueError: More than one of `returns`, `raises`, `side_effect` was given.
    """
    return FunctionMock(entry_id, returns=returns, raises=raises, side_effect=side_effect)


@contextlib.contextmanager
def mocks_applied(mocks: Iterable[FunctionMock]) -> Iterator[None]:
    """Make the workers built inside the `with` block run `mocks` for their entries.

    Workers read the mocks when they are built (entering a `wflow.temporal.Session`), so
    enter the session inside the block; leaving it does not change workers already built.

    Example:
        ```python
        with mocks_applied([charge]):
            session = await stack.enter_async_context(Session(registry, client=client))
        ```

    Args:
        mocks: The mocks; a later one for the same entry ID wins.
    """
    table: Mapping[str, FunctionProgram] = {mock.entry_id: mock for mock in mocks}
    token = FUNCTION_OVERRIDES.set(table)
    try:
        yield
    finally:
        FUNCTION_OVERRIDES.reset(token)
