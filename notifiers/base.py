"""What every notifier does: deliver one message over one channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class OutgoingMessage:
    channel: str  # "sms" or "email"
    to: str  # E.164 phone number or email address
    body: str
    idempotency_key: str
    subject: str | None = None


@dataclass(frozen=True)
class Delivery:
    provider_id: str | None
    status: str = "sent"


class NotifierError(Exception):
    """A message that could not be delivered. `retryable` says whether trying again
    may help; `opted_out` that the provider says the recipient unsubscribed;
    `maybe_taken` that the provider may have the message all the same (the
    request went out and no answer came back)."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        opted_out: bool = False,
        maybe_taken: bool = False,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.opted_out = opted_out
        self.maybe_taken = maybe_taken


class Notifier(Protocol):
    def send(self, message: OutgoingMessage) -> Delivery: ...


@runtime_checkable
class SentMessages(Protocol):
    """A notifier whose provider can say which messages it took: the outbox asks
    it about a message an attempt that died may or may not have handed over."""

    # The longest a `send` call lasts before it gives up: an attempt that began
    # longer ago has no request to the provider in flight any more.
    send_timeout: timedelta

    def find_sent(self, message: OutgoingMessage, since: datetime) -> list[Delivery]:
        """The messages the provider took since `since` that are `message` (same
        recipient, same text), newest first."""
        ...
