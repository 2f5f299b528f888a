"""Deterministic channels and select, shared by Lua (`channel.*`) and Python workflows.

They run on whatever asyncio loop is current; inside a workflow that is Temporal's
deterministic loop, so the order in which waiters are served replays identically. When several
cases of a `select` are ready, the first listed wins (never a random pick, which would not
replay).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import deque
from collections.abc import Sequence
from typing import Any

from wflow.model._errors import ErrorKind, WflowError

__all__ = ["Channel", "SelectResult", "select"]


@dataclasses.dataclass
class _Waiter:
    future: asyncio.Future[tuple[int, Any, bool]]
    tag: int


@dataclasses.dataclass(frozen=True)
class SelectResult:
    """The outcome of `select`.

    Attributes:
        index: Position of the case that fired, or -1 for the default case.
        channel: The channel that fired, or None for the default case.
        value: The value received (None when the channel was closed, or for default).
        ok: False when the channel was closed or the default case fired.
    """

    index: int
    channel: Channel | None
    value: Any
    ok: bool


class Channel:
    """A FIFO channel with an optional buffer, like Go's.

    A send on an unbuffered (capacity 0) or full channel waits for a receiver. Receiving from
    a closed, drained channel returns `(None, False)`.
    """

    def __init__(self, capacity: int = 0) -> None:
        """Create a channel holding up to `capacity` values without a receiver."""
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
            raise WflowError(
                f"channel capacity must be a whole number >= 0, got {capacity!r}",
                ErrorKind.INVALID,
            )
        self._capacity = capacity
        self._buffer: deque[Any] = deque()
        # Waiting parties are few: lists (an empty deque is ~0.6 KiB, and every cached
        # workflow holds a few channels, most of them never waited on).
        self._receivers: list[_Waiter] = []
        self._senders: list[tuple[asyncio.Future[None], Any]] = []
        self._closed = False

    @property
    def capacity(self) -> int:
        """How many values the buffer holds."""
        return self._capacity

    @property
    def closed(self) -> bool:
        """Whether `close` was called."""
        return self._closed

    def __len__(self) -> int:
        return len(self._buffer)

    def try_receive(self) -> tuple[Any, bool] | None:
        """Receive without waiting; None when a receive would block."""
        if self._buffer:
            value = self._buffer.popleft()
            self._admit_waiting_sender()
            return value, True
        while self._senders:
            future, value = self._senders.pop(0)
            if not future.done():
                future.set_result(None)
                return value, True
        if self._closed:
            return None, False
        return None

    async def receive(self) -> tuple[Any, bool]:
        """Receive a value, waiting for one; `(None, False)` once closed and drained."""
        ready = self.try_receive()
        if ready is not None:
            return ready
        waiter = _Waiter(asyncio.get_running_loop().create_future(), 0)
        self._receivers.append(waiter)
        try:
            _, value, ok = await waiter.future
        finally:
            if waiter in self._receivers:
                self._receivers.remove(waiter)
        return value, ok

    def try_send(self, value: Any) -> bool:
        """Send without waiting; False when a send would block.

        Raises:
            WflowError: `INVALID` when the channel is closed.
        """
        if self._closed:
            raise WflowError("send on a closed channel", ErrorKind.INVALID)
        if self._hand_to_receiver(value):
            return True
        if len(self._buffer) < self._capacity:
            self._buffer.append(value)
            return True
        return False

    async def send(self, value: Any) -> None:
        """Send a value, waiting while no receiver or buffer space is there.

        Raises:
            WflowError: `INVALID` when the channel is or gets closed.
        """
        if self.try_send(value):
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._senders.append((future, value))
        await future

    def close(self) -> None:
        """Close the channel: waiting receivers get `(None, False)`, waiting senders an error."""
        if self._closed:
            return
        self._closed = True
        while self._receivers:
            waiter = self._receivers.pop(0)
            if not waiter.future.done():
                waiter.future.set_result((waiter.tag, None, False))
        while self._senders:
            future, _ = self._senders.pop(0)
            if not future.done():
                future.set_exception(WflowError("send on a closed channel", ErrorKind.INVALID))

    def _hand_to_receiver(self, value: Any) -> bool:
        while self._receivers:
            waiter = self._receivers.pop(0)
            if not waiter.future.done():
                waiter.future.set_result((waiter.tag, value, True))
                return True
        return False

    def _admit_waiting_sender(self) -> None:
        while self._senders and len(self._buffer) < self._capacity:
            future, value = self._senders.pop(0)
            if not future.done():
                self._buffer.append(value)
                future.set_result(None)

    def _add_waiter(self, waiter: _Waiter) -> None:
        self._receivers.append(waiter)

    def _drop_waiter(self, waiter: _Waiter) -> None:
        if waiter in self._receivers:
            self._receivers.remove(waiter)


async def select(channels: Sequence[Channel], *, default: bool = False) -> SelectResult:
    """Receive from whichever channel is ready first.

    Args:
        channels: The channels to receive from, in priority order.
        default: Return at once with `index == -1` when none is ready.

    Returns:
        Which case fired and what it received.
    """
    for index, channel in enumerate(channels):
        ready = channel.try_receive()
        if ready is not None:
            return SelectResult(index, channel, ready[0], ready[1])
    if default:
        return SelectResult(-1, None, None, False)
    if not channels:
        raise WflowError("select needs at least one case or a default", ErrorKind.INVALID)
    future: asyncio.Future[tuple[int, Any, bool]] = asyncio.get_running_loop().create_future()
    waiters = [_Waiter(future, index) for index in range(len(channels))]
    for channel, waiter in zip(channels, waiters, strict=True):
        channel._add_waiter(waiter)
    try:
        index, value, ok = await future
    finally:
        for channel, waiter in zip(channels, waiters, strict=True):
            channel._drop_waiter(waiter)
    return SelectResult(index, channels[index], value, ok)
