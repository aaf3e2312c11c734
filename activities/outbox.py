"""The outbox: every message goes to its provider at most once.

`Outbox.deliver` is the one implementation; the journey's and the sweeps'
activities both send through it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from notifiers import Notifier, NotifierError, OutgoingMessage
from store import NotificationRecord, Store

log = logging.getLogger("ips.activities")


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
        """Send the message at most once; its outbox status afterwards.

        The row is claimed by its idempotency key, then made `sending`
        (committed) before the provider is called. An attempt that finds it
        `sending` is a retry after a worker died during the provider call: the
        provider may have the message, so it is not sent again; the provider's
        status callback settles it. A retryable error gives the row back
        (`pending`) and raises, for Temporal to retry with backoff. Any other
        exception (a bug, a cancellation) leaves it `sending`: the provider may
        have it. `on_opted_out` runs when the provider says the recipient
        unsubscribed.
        """
        key = record.idempotency_key
        stored, _ = self.store.claim_notification(record)
        if stored.status == "sending":
            log.warning(
                "%s %s: an earlier attempt stopped during the provider call; "
                "not sent again (the provider's status callback settles it)",
                record.channel,
                key,
            )
            return stored.status
        if stored.status != "pending" or not self.store.start_sending(key):
            return stored.status  # sent (or settled) by an earlier attempt
        try:
            delivery = self.notifier.send(
                OutgoingMessage(
                    channel=record.channel,
                    to=address,
                    body=record.body,
                    subject=record.subject,
                    idempotency_key=key,
                )
            )
        except NotifierError as err:
            if err.retryable:
                self.store.update_notification(key, status="pending")
                raise
            self.store.update_notification(key, status="failed", error=str(err))
            log.warning("%s %s failed: %s", record.channel, key, err)
            if err.opted_out and on_opted_out is not None:
                on_opted_out()
            return "failed"
        self.store.finish_sending(key, status=delivery.status, provider_id=delivery.provider_id)
        return delivery.status
