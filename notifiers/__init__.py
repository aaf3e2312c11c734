"""Ways of delivering messages: one `Notifier` interface, one module per provider."""

from notifiers.base import Delivery, Notifier, NotifierError, OutgoingMessage, SentMessages
from notifiers.console import ConsoleNotifier, RecordingNotifier

__all__ = [
    "ConsoleNotifier",
    "Delivery",
    "Notifier",
    "NotifierError",
    "OutgoingMessage",
    "RecordingNotifier",
    "SentMessages",
]
