"""`Mailbox.listen(message=)` / `unlisten` and `Peers`: the shared bookkeeping of both hosts."""

from __future__ import annotations

from wflow.model import (
    EVENT_KINDS,
    ErrorKind,
    Event,
    Mailbox,
    Message,
    Peers,
    WflowError,
    link_failure,
)


def test_message_listener_gets_whole_messages_and_unlisten_returns_the_rest_to_the_inbox() -> None:
    box = Mailbox()
    whole = box.listen("req", message=True)
    box.deliver(Message("req", {"n": 1}, "app:w/a"))
    box.deliver(Message("req", {"n": 2}, "app:w/b"))
    assert whole.try_receive() == (Message("req", {"n": 1}, "app:w/a"), True)
    assert box.unlisten(whole) is True
    box.deliver(Message("req", {"n": 3}, "app:w/c"))
    inbox = box.inbox()
    assert [inbox.try_receive(), inbox.try_receive()] == [
        (Message("req", {"n": 2}, "app:w/b"), True),
        (Message("req", {"n": 3}, "app:w/c"), True),
    ]
    assert whole.closed and box.unlisten(whole) is False
    assert box.listen("req") is not whole  # a new listen is a new channel


def test_drain_keeps_senders_of_message_listeners() -> None:
    box = Mailbox()
    box.listen("a", message=True)
    box.listen("b")
    box.deliver(Message("a", 1, "app:w/x"))
    box.deliver(Message("b", 2, "app:w/y"))
    assert box.drain() == [Message("a", 1, "app:w/x"), Message("b", 2, None)]


def test_link_down_is_an_event_when_trapped_else_the_end_and_only_once() -> None:
    error = WflowError("boom", ErrorKind.CONFLICT)
    peers = Peers()
    peers.link("app:w/p")
    failure = peers.link_down("app:w/p", error)
    assert isinstance(failure, WflowError) and failure.kind is ErrorKind.CANCELED
    assert failure.message == link_failure("app:w/p", error).message
    assert failure.message == "linked process app:w/p ended abnormally: CONFLICT: boom"
    assert failure.details["link_down"] == "app:w/p"
    assert peers.link_down("app:w/p", error) is None  # the second notice of the same end
    trapping = Peers()
    trapping.set_options({"trap_links": True})
    trapping.link("app:w/p")
    assert trapping.link_down("app:w/p", error) == Event("LINK_DOWN", "app:w/p", None, error)
    assert trapping.link_down("app:w/q", None) is None  # a normal end dissolves the link


def test_unlink_and_unmonitor_drop_later_notices() -> None:
    peers = Peers()
    peers.link("app:w/p")
    peers.unlink("app:w/p")
    assert peers.link_down("app:w/p", WflowError("x", ErrorKind.INTERNAL)) is None
    peers.unmonitor("app:w/p")
    assert peers.exit_event("app:w/p", 1, None) is None
    peers.monitor("app:w/p")
    assert peers.exit_event("app:w/p", 1, None) == Event("EXIT", "app:w/p", 1, None)
    assert EVENT_KINDS == {"EXIT": "EXIT", "CANCEL": "CANCEL", "LINK_DOWN": "LINK_DOWN"}
