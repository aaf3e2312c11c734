"""The outbox: every message goes to its provider at most once.

`Outbox.deliver` is the one implementation; the journey's and the sweeps'
activities both send through it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError

from notifiers import Notifier, NotifierError, OutgoingMessage
from store import NotificationRecord, Store

log = logging.getLogger("ips.activities")

# Once the provider has answered, how long (the pauses between tries, in
# seconds) the outbox keeps trying to record its answer in a database that does
# not answer: about 30 s, well within the activity's 60 s.
RECORD_RETRY_PAUSES = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)

_T = TypeVar("_T")


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
        (`pending`) and raises, for Temporal to retry with backoff. The
        provider's answer is recorded even when the database stops answering
        for a while just then (`_recorded`). Any other
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
