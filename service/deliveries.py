"""What the providers report about the messages they took: each report moves the
message's outbox row forward (never back), and Twilio's 21610 (the recipient
replied STOP to the provider) opts the consumer out of texts.

Texts that consumers send are journey events: `service.journeys.record_text_from_consumer`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from notifiers import sendgrid_email, twilio_sms
from service.journeys import Services, available
from store import ConsentChangeRecord, NotificationRecord

log = logging.getLogger("ips.deliveries")

OPT_OUT_SOURCE = f"twilio:{twilio_sms.UNSUBSCRIBED}"


def record_text_status(
    services: Services,
    *,
    message_sid: str,
    status: str,
    error_code: int | None = None,
    key: str | None = None,
) -> NotificationRecord | None:
    """Twilio's status of a text: the outbox row of its Message SID, else of `key`
    (the idempotency key its status callback URL names), moves forward. None when
    no row is the message's, or the status is one the outbox does not follow."""
    stage = twilio_sms.OUTBOX_STATUSES.get(status)
    if stage is None:
        log.info("sms %s: Twilio status %r changes nothing", message_sid, status)
        return None
    error = twilio_sms.error_words(error_code) if error_code is not None else None
    with available():
        found = services.store.advance_notification(
            "sms", stage, services.now(), provider_id=message_sid, key=key, error=error
        )
        if found is None:
            log.warning(
                "sms %s: Twilio reports %s of a message not in the outbox", message_sid, status
            )
            return None
        row, changed = found
        _log_report(row, changed, message_sid, status)
        if error_code == twilio_sms.UNSUBSCRIBED:
            _opt_out(services, row, message_sid)
        return row


def record_email_events(services: Services, events: Iterable[Any]) -> int:
    """SendGrid's events, each matched to its outbox row by the `idempotency_key`
    custom arg, else by the X-Message-Id that starts its `sg_message_id`. Events
    the outbox does not follow (deferred, open, click, ...) are passed over.
    Returns how many rows moved."""
    moved = 0
    with available():
        for event in events:
            if not isinstance(event, dict):
                continue
            kind = event.get("event")
            stage = sendgrid_email.OUTBOX_STATUSES.get(kind) if isinstance(kind, str) else None
            key = event.get(sendgrid_email.IDEMPOTENCY_ARG)
            message_id = event.get("sg_message_id")
            provider_id = message_id.split(".")[0] if isinstance(message_id, str) else None
            key = key if isinstance(key, str) and key else None
            if stage is None or (key is None and not provider_id):
                continue
            found = services.store.advance_notification(
                "email",
                stage,
                services.now(),
                provider_id=provider_id or None,
                key=key,
                # The event's name only: SendGrid's reason quotes the mail server, and the address.
                error=kind if stage == "failed" else None,
            )
            if found is None:
                log.warning(
                    "email %s: SendGrid reports %s of a message not in the outbox",
                    key or provider_id,
                    kind,
                )
                continue
            row, changed = found
            _log_report(row, changed, provider_id, str(kind))
            moved += changed
    return moved


def _log_report(row: NotificationRecord, changed: bool, provider_id: str | None, said: str) -> None:
    if changed:
        log.info(
            "%s %s is %s (%s reported %s)",
            row.channel,
            row.idempotency_key,
            row.status,
            provider_id,
            said,
        )
    elif provider_id is not None and row.provider_id not in (None, provider_id):
        # A second message for one notification: it went out twice.
        log.warning(
            "%s %s: a report of %s, another message than the one on file (%s)",
            row.channel,
            row.idempotency_key,
            provider_id,
            row.provider_id,
        )


def _opt_out(services: Services, row: NotificationRecord, message_sid: str) -> None:
    """Twilio refused the text because its recipient replied STOP to Twilio."""
    if row.recipient_role != "consumer" or row.consumer_id is None:
        log.warning(
            "sms %s: the %s who was to get it has unsubscribed from our texts (Twilio %s)",
            row.idempotency_key,
            row.recipient_role,
            twilio_sms.UNSUBSCRIBED,
        )
        return
    consumer = services.store.get_consumer(row.consumer_id)
    if consumer is None or consumer.sms_consent == "opted_out":
        return
    services.store.record_consent_change(
        ConsentChangeRecord(
            key=f"{OPT_OUT_SOURCE}/{message_sid}",
            consumer_id=consumer.id,
            state="opted_out",
            at=services.now(),
            source=OPT_OUT_SOURCE,
            disclosure_version=None,
        )
    )
    log.info("consumer %s opted out of texts (Twilio %s)", consumer.id, twilio_sms.UNSUBSCRIBED)
