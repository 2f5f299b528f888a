"""Messages, PIDs and the mailbox a workflow receives them in (Lua: `process.inbox()`).

One mailbox per workflow run. Every message lands in exactly one place: the channel of a
`listen(topic)` for its topic if there is one, else the inbox. Nothing is dropped: the bound
is enforced where a sender can still be told (see `Mailbox.has_room`), and the mailbox keeps
whatever was accepted.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from typing import Any

from wflow.model._channel import Channel
from wflow.model._errors import ErrorKind, WflowError

__all__ = [
    "DEFAULT_MAILBOX_BOUND",
    "UPDATE_PID_PREFIX",
    "Event",
    "Mailbox",
    "Message",
    "format_pid",
    "message_payload",
    "parse_pid",
]

DEFAULT_MAILBOX_BOUND = 1000
"""Messages a workflow may hold unreceived before senders get `RATE_LIMITED`."""

UPDATE_PID_PREFIX = "update:"
"""The `from` of a message that is a Temporal update: `update:<update id>`."""

_UNBOUNDED = sys.maxsize


def message_payload(values: Sequence[Any]) -> Any:
    """Return the one payload a message carries for the values it was sent with.

    No value is null, one value is itself, several are an array: Lua's
    `process.send(pid, topic, ...)` and a Temporal signal with several arguments agree.
    """
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return list(values)


def format_pid(worker_id: str, workflow_id: str) -> str:
    """Return the PID of workflow `workflow_id` on worker entry `worker_id`."""
    return f"{worker_id}/{workflow_id}"


def parse_pid(pid: str) -> tuple[str, str]:
    """Split a PID into (worker entry ID, workflow ID).

    Raises:
        WflowError: `INVALID` when `pid` is not of the form `ns:worker/workflow-id`.
    """
    worker, sep, workflow_id = pid.partition("/")
    if not sep or ":" not in worker or not workflow_id:
        raise WflowError(
            f"invalid PID {pid!r}: expected '<worker entry ID>/<workflow ID>'", ErrorKind.INVALID
        )
    return worker, workflow_id


@dataclasses.dataclass(frozen=True)
class Message:
    """A message delivered to a workflow.

    Attributes:
        topic: The topic (the Temporal signal or update name).
        payload: The JSON payload.
        sender: The sender's PID, `update:<id>` for an update, or None when unknown.
    """

    topic: str
    payload: Any
    sender: str | None = None

    @property
    def is_update(self) -> bool:
        """Whether this message is a Temporal update awaiting a reply."""
        return self.sender is not None and self.sender.startswith(UPDATE_PID_PREFIX)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (used to carry messages over continue-as-new)."""
        return {"topic": self.topic, "payload": self.payload, "from": self.sender}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        """Build a message from `to_dict`'s form."""
        return cls(str(data["topic"]), data.get("payload"), data.get("from"))


@dataclasses.dataclass(frozen=True)
class Event:
    """An event on `process.events()`.

    Attributes:
        kind: `EXIT` (a monitored child finished), `CANCEL` (cancellation requested) or
            `LINK_DOWN` (a linked process or workflow ended abnormally; only with
            `trap_links`, else the link ends the receiver too).
        sender: The PID the event is about (the child for `EXIT`, the linked one for
            `LINK_DOWN`).
        value: The child's result when it succeeded.
        error: The child's error when it failed.
        reason: For `CANCEL`: why (`process.cancel(pid, reason)`), or None.
    """

    kind: str
    sender: str | None = None
    value: Any = None
    error: WflowError | None = None
    reason: str | None = None


class Mailbox:
    """Where a workflow's messages wait until received."""

    def __init__(self, bound: int = DEFAULT_MAILBOX_BOUND) -> None:
        """Create a mailbox accepting up to `bound` unreceived messages from checked senders."""
        self.bound = bound
        self._inbox = Channel(_UNBOUNDED)
        self._topics: dict[str, Channel] = {}
        # Topics listened to with `message=True`: their channels carry whole `Message`s.
        self._whole: set[str] = set()
        self._events = Channel(_UNBOUNDED)
        # Whether the code asked for `events()`: only such code is told of cancellation by a
        # `CANCEL` event (other code is canceled where it waits, as Temporal does).
        self.events_read = False

    def inbox(self) -> Channel:
        """Return the channel of messages no `listen` claims."""
        return self._inbox

    def listen(self, topic: str, *, message: bool = False) -> Channel:
        """Return the channel of messages sent with `topic` (the same channel on every call).

        The channel carries the payloads, or with `message` whole `Message`s (Wippy's
        `process.listen(topic, {message = true})`).

        Raises:
            WflowError: `INVALID` when `topic` is already listened to the other way (one
                channel per topic; `unlisten` it first).
        """
        channel = self._topics.get(topic)
        if channel is None:
            channel = Channel(_UNBOUNDED)
            self._topics[topic] = channel
            if message:
                self._whole.add(topic)
        elif (topic in self._whole) != message:
            have = "messages" if topic in self._whole else "payloads"
            raise WflowError(
                f"topic {topic!r} is already listened to for {have}; unlisten its channel "
                "before listening with another `message` option",
                ErrorKind.INVALID,
            )
        return channel

    def unlisten(self, channel: Channel) -> bool:
        """Stop listening with `channel`: later messages of its topic go to the inbox.

        What the channel still holds moves to the inbox, in order (nothing is dropped), and
        the channel is closed. Returns False when `channel` is no listen channel (any more).
        """
        topic = next((t for t, c in self._topics.items() if c is channel), None)
        if topic is None:
            return False
        for message in self._take(topic):
            self._inbox.try_send(message)
        del self._topics[topic]
        self._whole.discard(topic)
        channel.close()
        return True

    def _take(self, topic: str) -> list[Message]:
        """Remove and return the unreceived messages of `topic`'s listen channel."""
        channel = self._topics[topic]
        taken: list[Message] = []
        while (item := channel.try_receive()) is not None and item[1]:
            value = item[0]
            taken.append(value if isinstance(value, Message) else Message(topic, value))
        return taken

    def events(self) -> Channel:
        """Return the channel of `Event`s."""
        self.events_read = True
        return self._events

    def pending(self) -> int:
        """Return how many messages wait unreceived."""
        return len(self._inbox) + sum(len(channel) for channel in self._topics.values())

    def has_room(self) -> bool:
        """Return whether a checked sender may add a message."""
        return self.pending() < self.bound

    def deliver(self, message: Message) -> None:
        """Put `message` where its receiver will look; never drops it."""
        listener = self._topics.get(message.topic)
        if listener is not None and not message.is_update:
            listener.try_send(message if message.topic in self._whole else message.payload)
        else:
            self._inbox.try_send(message)

    def post_event(self, event: Event) -> None:
        """Put `event` on the events channel."""
        self._events.try_send(event)

    def restore(self, messages: list[Message]) -> None:
        """Put `messages` (carried from an earlier run) ahead of everything received since."""
        later = self.drain()
        for message in [*messages, *later]:
            self.deliver(message)

    def drain(self) -> list[Message]:
        """Remove and return every unreceived message, inbox first, in arrival order per channel."""
        taken: list[Message] = []
        while (item := self._inbox.try_receive()) is not None and item[1]:
            taken.append(item[0])
        for topic in self._topics:
            taken.extend(self._take(topic))
        return taken
