"""The outbox: every message goes to its provider once.

`Outbox.deliver` is the one implementation; the journey's and the sweeps'
activities both send through it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError

from notifiers import Notifier, NotifierError, OutgoingMessage, SentMessages
from notifiers.router import ChannelRouter
from store import NotificationRecord, Store

log = logging.getLogger("ips.activities")

# Once the provider has answered, how long (the pauses between tries, in
# seconds) the outbox keeps trying to record its answer in a database that does
# not answer: about 15 s, so that with the provider's call it mostly fits in a
# send's attempt (`workflows.journey.SEND_TIMEOUT`, 30 s). An attempt Temporal
# gives up on still finishes recording in its thread, and the next attempt that
# finds the text `sending` asks Twilio.
RECORD_RETRY_PAUSES = (0.5, 1.0, 2.0, 4.0, 8.0)

_T = TypeVar("_T")

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
        `sending`. The provider's answer is recorded even when the database
        stops answering for a while just then (`_recorded`). `on_opted_out`
        runs when the provider says the recipient
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
                    _recorded(key, lambda: self.store.update_notification(key, status="pending"))
                raise
            error = str(err)
            _recorded(
                key, lambda: self.store.update_notification(key, status="failed", error=error)
            )
            log.warning("%s %s failed: %s", record.channel, key, err)
            if err.opted_out and on_opted_out is not None:
                _recorded(key, on_opted_out)
            return "failed"
        _recorded(
            key,
            lambda: self.store.finish_sending(
                key, status=delivery.status, provider_id=delivery.provider_id
            ),
        )
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


def _recorded(key: str, write: Callable[[], _T]) -> _T:
    """Record what the provider answered, trying again while the database does
    not answer (RECORD_RETRY_PAUSES), then raising its error.

    Only this attempt knows the answer: a later one finds the row `sending` and,
    rightly, does not hand the message over again. An answer lost that way
    leaves a message that went out waiting for the provider's status callback,
    and one the provider refused for now (to be given back, `pending`) never
    sent at all.
    """
    for pause in RECORD_RETRY_PAUSES:
        try:
            return write()
        except (OperationalError, InterfaceError) as err:
            log.warning(
                "%s: the database did not take the provider's answer (%s); trying again in %s s",
                key,
                type(err.orig).__name__ if err.orig is not None else type(err).__name__,
                pause,
            )
            time.sleep(pause)
    return write()
