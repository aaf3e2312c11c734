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
    """A message that could not be delivered. `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Notifier(Protocol):
    def send(self, message: OutgoingMessage) -> Delivery: ...
