"""Email through SendGrid's v3 Mail Send API, with the official `sendgrid` SDK.

Each message goes as one personalization whose custom arg `idempotency_key`
SendGrid carries into its event webhook, so a delivery or bounce event can be
matched to the notification that caused it.

Privacy: error messages name the idempotency key and SendGrid's status and
error fields, never the address, the subject or the body.
"""

from __future__ import annotations

import logging
import re
import urllib.error
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (
    CustomArg,
    From,
    Mail,
    Personalization,
    PlainTextContent,
    Subject,
    To,
)

from notifiers.base import Delivery, NotifierError, OutgoingMessage

if TYPE_CHECKING:
    from config import Settings

# The settings the worker reads; named here so a malformed one is named in its error.
API_KEY_SETTING = "IPS_SENDGRID_API_KEY"
FROM_EMAIL_SETTING = "IPS_SENDGRID_FROM_EMAIL"
FROM_NAME_SETTING = "IPS_SENDGRID_FROM_NAME"
HOST_SETTING = "IPS_SENDGRID_HOST"

IDEMPOTENCY_ARG = "idempotency_key"

# SendGrid's event webhook events as the outbox's statuses. The others (deferred,
# open, click, spamreport, unsubscribe, ...) change nothing.
OUTBOX_STATUSES = {
    "processed": "sent",
    "delivered": "delivered",
    "bounce": "failed",
    "dropped": "failed",
}

# SG.<key id>.<secret>, both parts base64url.
_API_KEY = re.compile(r"SG\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_ADDRESS = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>.]+")

# These and every 5xx may pass later. The rest fail the same way again: 400 bad
# request, 401/403 key or sender refused, 404/405/415 wrong endpoint, 413 too large.
_RETRYABLE_STATUSES = frozenset({408, 429})


class SendGridError(NotifierError):
    """SendGrid refused or did not answer. `status` is SendGrid's HTTP status, None without one."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message, retryable=retryable)
        self.status = status


class SendGridEmailNotifier:
    def __init__(
        self,
        api_key: str,
        *,
        from_email: str,
        from_name: str | None = None,
        host: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        # The value is a secret: the message describes the expected shape only.
        if not _API_KEY.fullmatch(api_key or ""):
            raise ValueError(
                f"{API_KEY_SETTING} is not a SendGrid API key: one has three parts, "
                "SG.<key id>.<secret> (copy it whole from SendGrid's API Keys page)"
            )
        if not _ADDRESS.fullmatch(from_email or ""):
            raise ValueError(
                f"{FROM_EMAIL_SETTING} is not an email address: give the verified sender "
                "address alone, like reminders@agency.org (the display name goes in "
                f"{FROM_NAME_SETTING})"
            )
        if from_name is not None and not from_name.strip():
            raise ValueError(f"{FROM_NAME_SETTING} is blank: leave it unset or give a name")
        if host is not None:
            parts = urlsplit(host)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(
                    f"{HOST_SETTING} is not a URL: give the scheme and host, like "
                    "https://api.sendgrid.com"
                )
        if timeout <= 0:
            raise ValueError("the SendGrid timeout must be a positive number of seconds")
        self._from = From(from_email, from_name)
        self._client = (
            SendGridAPIClient(api_key) if host is None else SendGridAPIClient(api_key, host=host)
        )
        # Without a timeout the SDK waits forever on a silent connection.
        self._client.client.timeout = timeout
        # The SDK's HTTP client logs every payload and the Authorization header at DEBUG.
        logging.getLogger("python_http_client.client").setLevel(logging.INFO)

    @classmethod
    def from_settings(cls, settings: Settings) -> SendGridEmailNotifier | None:
        """The notifier the IPS_SENDGRID_* settings describe, or None when no API key
        is set. Malformed settings, or a key without a sender, raise ValueError."""
        if settings.sendgrid_api_key is None:
            return None
        if settings.sendgrid_from_email is None:
            raise ValueError(f"{FROM_EMAIL_SETTING} is not set: SendGrid needs a sender address")
        return cls(
            settings.sendgrid_api_key.get_secret_value(),
            from_email=settings.sendgrid_from_email,
            from_name=settings.sendgrid_from_name,
            host=settings.sendgrid_host,
        )

    def send(self, message: OutgoingMessage) -> Delivery:
        key = message.idempotency_key
        if message.channel != "email":
            raise SendGridError(
                f"SendGrid sends email only, not {message.channel!r} (message {key})",
                retryable=False,
            )
        if not message.subject:
            raise SendGridError(f"email {key} has no subject", retryable=False)
        if not message.body:
            raise SendGridError(f"email {key} has no body", retryable=False)
        if not _ADDRESS.fullmatch(message.to):
            raise SendGridError(f"email {key}: the recipient is not an address", retryable=False)

        try:
            response = self._client.send(self._mail(message))
        except HTTPError as err:
            status = int(err.status_code)
            raise SendGridError(
                f"SendGrid refused email {key}: HTTP {status}{_fields(err)}",
                retryable=status in _RETRYABLE_STATUSES or status >= 500,
                status=status,
            ) from None
        except TimeoutError:
            raise SendGridError(
                f"SendGrid did not answer in time for email {key}", retryable=True
            ) from None
        except urllib.error.URLError as err:
            raise SendGridError(
                f"could not reach SendGrid for email {key}: {_reason(err)}", retryable=True
            ) from None
        except OSError as err:
            raise SendGridError(
                f"could not reach SendGrid for email {key}: {type(err).__name__}", retryable=True
            ) from None
        return Delivery(provider_id=response.headers.get("X-Message-Id"), status="sent")

    def _mail(self, message: OutgoingMessage) -> Mail:
        personalization = Personalization()
        personalization.add_to(To(message.to))
        # Per personalization: SendGrid's contract types the message-level custom_args as a string.
        personalization.add_custom_arg(CustomArg(IDEMPOTENCY_ARG, message.idempotency_key))
        mail = Mail(
            from_email=self._from,
            subject=Subject(message.subject),
            plain_text_content=PlainTextContent(message.body),
        )
        mail.add_personalization(personalization)
        return mail


def _fields(err: HTTPError) -> str:
    """The fields SendGrid's error names, without its messages, which may quote values."""
    try:
        errors = err.to_dict.get("errors") or []
        fields = sorted({str(e["field"]) for e in errors if e.get("field")})
    except (ValueError, AttributeError, TypeError, KeyError):
        return ""
    return f" (fields: {', '.join(fields)})" if fields else ""


def _reason(err: urllib.error.URLError) -> str:
    reason = err.reason
    if isinstance(reason, TimeoutError):
        return "timed out"
    return reason if isinstance(reason, str) else type(reason).__name__
