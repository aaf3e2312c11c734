"""The outbox: every message goes to its provider once.

`Outbox.deliver` is the one implementation; the journey's and the sweeps'
activities both send through it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from notifiers import Notifier, NotifierError, OutgoingMessage, SentMessages
from notifiers.router import ChannelRouter
from store import NotificationRecord, Store

log = logging.getLogger("ips.activities")

# How far the provider's clock may be behind ours when it dates a message.
CLOCK_SKEW = timedelta(minutes=5)


class Outbox:
    def __init__(self, store: Store, notifier: Notifier) -> None:
        self.store = store
        self.notifier = notifier

    def deliver(
        self,
        record: NotificationRecord,
        address: str,
        *,
        on_opted_out: Callable[[], None] | None = None,
    ) -> str:
        """Send the message once; its outbox status afterwards.

        The row is claimed by its idempotency key, then made `sending`
        (committed) before the provider is called. An attempt that finds it
        `sending` follows one that stopped during the provider call (the worker
        died, or the provider never answered): the provider may have the
        message. Where the provider can say which messages it took (Twilio),
        the attempt waits until the earlier one's call is surely over, asks,
        and sends only if the provider has no such message; elsewhere (email)
        it does not send again, and the provider's status callback settles it.
        A retryable error gives the row back (`pending`) and raises, for
        Temporal to retry with backoff, unless the provider may have the
        message (no answer came): then it stays `sending` for the next attempt
        to ask. Any other exception (a bug, a cancellation) leaves it
        `sending`. `on_opted_out` runs when the provider says the recipient
        unsubscribed.
        """
        key = record.idempotency_key
        stored, _ = self.store.claim_notification(record)
        sent = self._sent_messages(record.channel)
        if stored.status == "sending":
            if sent is None or stored.provider_id is not None:
                log.warning(
                    "%s %s: an earlier attempt stopped during the provider call; "
                    "not sent again (the provider's status callback settles it)",
                    record.channel,
                    key,
                )
                return stored.status
            found = self._ask_provider(stored, address, sent)
            if found is not None:
                return found
        elif stored.status != "pending" or not self.store.start_sending(key):
            return stored.status  # sent (or settled) by an earlier attempt
        try:
            delivery = self.notifier.send(_message(record, address))
        except NotifierError as err:
            if err.retryable:
                if not (err.maybe_taken and sent is not None):
                    self.store.update_notification(key, status="pending")
                raise
            self.store.update_notification(key, status="failed", error=str(err))
            log.warning("%s %s failed: %s", record.channel, key, err)
            if err.opted_out and on_opted_out is not None:
                on_opted_out()
            return "failed"
        self.store.finish_sending(key, status=delivery.status, provider_id=delivery.provider_id)
        return delivery.status

    def _sent_messages(self, channel: str) -> SentMessages | None:
        notifier = self.notifier
        if isinstance(notifier, ChannelRouter):
            notifier = notifier.for_channel(channel)
        return notifier if isinstance(notifier, SentMessages) else None

    def _ask_provider(
        self, stored: NotificationRecord, address: str, sent: SentMessages
    ) -> str | None:
        """The status of a message left `sending` that the provider turns out to
        have; None when it has none: this attempt then owns the row and sends.

        Raises a retryable NotifierError while the earlier attempt may still be
        waiting on the provider, or another attempt is asking."""
        key = stored.idempotency_key
        began = stored.updated_at
        assert began is not None  # the store sets it
        if not self.store.resume_sending(key, began_before=datetime.now(UTC) - sent.send_timeout):
            raise NotifierError(
                f"{stored.channel} {key}: an earlier attempt may still be sending it; "
                "asked again later",
                retryable=True,
            )
        for delivery in sent.find_sent(_message(stored, address), since=began - CLOCK_SKEW):
            if delivery.provider_id is None:
                continue
            # A message of the same text to the same person may be another row's.
            if self.store.notification_of_provider_id(stored.channel, delivery.provider_id):
                continue
            self.store.finish_sending(key, status=delivery.status, provider_id=delivery.provider_id)
            log.warning(
                "%s %s: an earlier attempt stopped during the provider call; the provider "
                "has the message (%s), not sent again",
                stored.channel,
                key,
                delivery.provider_id,
            )
            return delivery.status
        log.warning(
            "%s %s: an earlier attempt stopped before the provider took the message; sent now",
            stored.channel,
            key,
        )
        return None


def _message(record: NotificationRecord, address: str) -> OutgoingMessage:
    return OutgoingMessage(
        channel=record.channel,
        to=address,
        body=record.body,
        subject=record.subject,
        idempotency_key=record.idempotency_key,
    )
