"""The default notifier: records messages and writes a one-line log of each.

Used when no provider credentials are configured, and by `ips simulate`. The
log line names the channel and the idempotency key only, never the body.
"""

from __future__ import annotations

import logging
import threading

from notifiers.base import Delivery, OutgoingMessage

log = logging.getLogger("ips.notifiers")


class RecordingNotifier:
    """Keeps every message it is asked to send; sends nothing."""

    def __init__(self, *, echo: bool = False) -> None:
        self.sent: list[OutgoingMessage] = []
        self._echo = echo
        self._lock = threading.Lock()

    def send(self, message: OutgoingMessage) -> Delivery:
        with self._lock:
            self.sent.append(message)
            number = len(self.sent)
        if self._echo:
            log.info("%s message %s recorded (not sent)", message.channel, message.idempotency_key)
        return Delivery(provider_id=f"recorded-{number}")


class ConsoleNotifier(RecordingNotifier):
    def __init__(self) -> None:
        super().__init__(echo=True)
