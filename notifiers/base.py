"""What every notifier does: deliver one message over one channel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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
    may help; `opted_out` that the provider says the recipient unsubscribed."""

    def __init__(self, message: str, *, retryable: bool, opted_out: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.opted_out = opted_out


class Notifier(Protocol):
    def send(self, message: OutgoingMessage) -> Delivery: ...
