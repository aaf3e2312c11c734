"""Text messages through Twilio Programmable Messaging, with the official `twilio` SDK.

Sends through a Messaging Service (preferred: Twilio picks the sender and
handles STOP) or from one number. Settings are checked when the notifier is
built, so malformed credentials stop the worker at start-up, not at the first
reminder.

Privacy: no exception message or log line carries a phone number or a body.
Twilio's own error texts quote the number, so they are never passed on; an
error names the message by its idempotency key, the Twilio error code and the
HTTP status.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
from twilio.base import values
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from notifiers.base import Delivery, NotifierError, OutgoingMessage

if TYPE_CHECKING:
    from config import Settings

log = logging.getLogger("ips.notifiers")

ACCOUNT_SID_SETTING = "IPS_TWILIO_ACCOUNT_SID"
AUTH_TOKEN_SETTING = "IPS_TWILIO_AUTH_TOKEN"
MESSAGING_SERVICE_SID_SETTING = "IPS_TWILIO_MESSAGING_SERVICE_SID"
FROM_NUMBER_SETTING = "IPS_TWILIO_FROM_NUMBER"
STATUS_CALLBACK_SETTING = "IPS_TWILIO_STATUS_CALLBACK_URL"
BASE_URL_SETTING = "IPS_TWILIO_BASE_URL"
# The API's externally visible base URL (behind a proxy, the proxy's): Twilio
# calls back there, and signs what it calls.
PUBLIC_URL_SETTING = "IPS_PUBLIC_URL"
STATUS_CALLBACK_PATH = "/webhooks/twilio/status"
# The query parameter of the status callback URL that names the notification.
CALLBACK_KEY = "key"

INVALID_NUMBER = 21211
UNSUBSCRIBED = 21610
_CODE_WORDS = {
    INVALID_NUMBER: "the 'To' number is not a valid phone number",
    UNSUBSCRIBED: "the recipient has unsubscribed (replied STOP)",
}

# Twilio's message statuses as the outbox's: Twilio has the message (queued to
# sent), then its outcome. Statuses not named here (receiving, partially_delivered)
# change nothing.
OUTBOX_STATUSES = {
    "accepted": "sent",
    "scheduled": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}

_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_AUTH_TOKEN = re.compile(r"[0-9a-fA-F]{32}")
_MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")

# How many of the recipient's latest messages `find_sent` reads: one page.
LOOKUP_PAGE = 50


class TwilioSmsError(NotifierError):
    """A text Twilio did not accept. `code` is Twilio's error code, when it gave one."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        code: int | None = None,
        status: int | None = None,
        maybe_taken: bool = False,
    ) -> None:
        super().__init__(
            message, retryable=retryable, opted_out=code == UNSUBSCRIBED, maybe_taken=maybe_taken
        )
        self.code = code
        self.status = status


def _setting(setting: str, argument: str) -> str:
    return f"{setting} ({argument})"


def _check(value: str, pattern: re.Pattern[str], setting: str, argument: str, shape: str) -> str:
    # The value itself is never echoed: it may be a secret, and it is in the environment anyway.
    if not pattern.fullmatch(value):
        raise ValueError(
            f"{_setting(setting, argument)} is malformed: it must be {shape} "
            f"(got {len(value)} characters)"
        )
    return value


def _check_url(value: str, setting: str, argument: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"{_setting(setting, argument)} is malformed: it must be an absolute http(s) URL"
        )
    return value


def public_url(settings: Settings) -> str | None:
    """IPS_PUBLIC_URL without a trailing slash, None when it is not set; ValueError
    when it is not a base URL (scheme, host and optional path)."""
    value = settings.public_url
    if value is None:
        return None
    _check_url(value, PUBLIC_URL_SETTING, "public_url")
    parts = urlsplit(value)
    if parts.query or parts.fragment:
        raise ValueError(
            f"{PUBLIC_URL_SETTING} is malformed: it must be a base URL such as "
            "https://ips.example.org, without ?query or #fragment"
        )
    return value.rstrip("/")


class TwilioSmsNotifier:
    """Sends channel "sms" messages; the Message SID is the provider id."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        messaging_service_sid: str | None = None,
        from_number: str | None = None,
        status_callback: str | None = None,
        base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._account_sid = _check(
            account_sid,
            _ACCOUNT_SID,
            ACCOUNT_SID_SETTING,
            "account_sid",
            "'AC' followed by 32 hexadecimal digits",
        )
        _check(auth_token, _AUTH_TOKEN, AUTH_TOKEN_SETTING, "auth_token", "32 hexadecimal digits")
        sender_settings = (
            f"{_setting(MESSAGING_SERVICE_SID_SETTING, 'messaging_service_sid')} "
            f"or {_setting(FROM_NUMBER_SETTING, 'from_number')}"
        )
        if messaging_service_sid and from_number:
            raise ValueError(f"set only one of {sender_settings}, not both")
        if not messaging_service_sid and not from_number:
            raise ValueError(f"set one of {sender_settings}: Twilio needs a sender")
        if messaging_service_sid:
            _check(
                messaging_service_sid,
                _MESSAGING_SERVICE_SID,
                MESSAGING_SERVICE_SID_SETTING,
                "messaging_service_sid",
                "'MG' followed by 32 hexadecimal digits",
            )
        if from_number:
            _check(
                from_number,
                _E164,
                FROM_NUMBER_SETTING,
                "from_number",
                "an E.164 phone number such as +15551234567",
            )
        if status_callback:
            _check_url(status_callback, STATUS_CALLBACK_SETTING, "status_callback")
        if base_url:
            _check_url(base_url, BASE_URL_SETTING, "base_url")
        self._messaging_service_sid = messaging_service_sid or None
        self._from_number = from_number or None
        self._status_callback = status_callback or None
        # `timeout` is each of connecting and reading, plus slack; shorter than
        # an attempt of the journeys' sends (`workflows.journey.SEND_TIMEOUT`),
        # so that the retry of a dead worker's send finds the call over.
        self.send_timeout = timedelta(seconds=2 * timeout + 5)
        self.http_client = TwilioHttpClient(timeout=timeout)
        # Settings come from IPS_* only: the SDK's own TWILIO_* variables (region,
        # edge) would silently send to another host.
        self._client = Client(account_sid, auth_token, http_client=self.http_client, environment={})
        if base_url:
            # A local fake or mock server standing in for https://api.twilio.com.
            self._client.api.base_url = base_url.rstrip("/")

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioSmsNotifier | None:
        """The notifier the IPS_TWILIO_* settings describe, or None when no Twilio
        credentials are set. Malformed or half-set settings raise ValueError.

        Delivery reports go to IPS_TWILIO_STATUS_CALLBACK_URL, else to the API's
        status webhook under IPS_PUBLIC_URL; without either Twilio sends none."""
        account_sid = settings.twilio_account_sid
        token = settings.twilio_auth_token
        if account_sid is None and token is None:
            return None
        if account_sid is None or token is None:
            missing = ACCOUNT_SID_SETTING if account_sid is None else AUTH_TOKEN_SETTING
            raise ValueError(f"{missing} is not set: Twilio needs both an account SID and token")
        status_callback = settings.twilio_status_callback_url
        base = public_url(settings)
        if status_callback is None and base is not None:
            status_callback = base + STATUS_CALLBACK_PATH
        return cls(
            account_sid,
            token.get_secret_value(),
            messaging_service_sid=settings.twilio_messaging_service_sid,
            from_number=settings.twilio_from_number,
            status_callback=status_callback,
            base_url=settings.twilio_base_url,
        )

    def send(self, message: OutgoingMessage) -> Delivery:
        key = message.idempotency_key
        if message.channel != "sms":
            raise TwilioSmsError(
                f"{message.channel} message {key}: the Twilio notifier sends sms only",
                retryable=False,
            )
        failure: TwilioSmsError
        # The error is raised outside the `except` blocks so that it carries no
        # __context__: Twilio's exception quotes the phone number.
        try:
            created = self._client.api.v2010.accounts(self._account_sid).messages.create(
                to=message.to,
                body=message.body,
                messaging_service_sid=self._messaging_service_sid or values.unset,
                from_=self._from_number or values.unset,
                status_callback=self._status_callback_for(key),
            )
        except (TwilioRestException, TwilioServiceException) as err:
            failure = _refused(key, status=err.status, code=err.code)
        except requests.ConnectTimeout:
            failure = TwilioSmsError(
                f"sms {key}: Twilio could not be reached in time", retryable=True
            )
        except requests.Timeout:
            # The request went out: Twilio may have taken the message.
            failure = TwilioSmsError(
                f"sms {key}: Twilio did not answer in time", retryable=True, maybe_taken=True
            )
        except requests.RequestException as err:
            failure = TwilioSmsError(
                f"sms {key}: Twilio could not be reached ({type(err).__name__})", retryable=True
            )
        else:
            log.info("sms %s accepted by Twilio as %s", key, created.sid)
            return Delivery(provider_id=created.sid, status="sent")
        raise failure

    def find_sent(self, message: OutgoingMessage, since: datetime) -> list[Delivery]:
        """The texts to `message.to` with its body that Twilio created since
        `since`, newest first, among the recipient's latest LOOKUP_PAGE messages.

        Not filtered by DateSent: a text Twilio still has queued has none yet.
        A body Twilio prefixed (a trial account's note) still counts.
        """
        key = message.idempotency_key
        failure: TwilioSmsError
        try:
            listed = self._client.api.v2010.accounts(self._account_sid).messages.list(
                to=message.to, limit=LOOKUP_PAGE, page_size=LOOKUP_PAGE
            )
        except (TwilioRestException, TwilioServiceException) as err:
            failure = _refused(key, status=err.status, code=err.code, asking=True)
        except requests.RequestException as err:
            failure = TwilioSmsError(
                f"sms {key}: Twilio could not be asked for its messages ({type(err).__name__})",
                retryable=True,
            )
        else:
            return [
                Delivery(provider_id=m.sid, status=OUTBOX_STATUSES.get(m.status or "", "sent"))
                for m in listed
                if m.sid
                and m.body is not None
                and m.body.endswith(message.body)
                and m.date_created is not None
                and m.date_created >= since
            ]
        raise failure

    def _status_callback_for(self, key: str) -> str | object:
        """The status callback URL with the notification's key, so that a report
        finds its outbox row even when the Message SID was never saved."""
        if self._status_callback is None:
            return values.unset
        parts = urlsplit(self._status_callback)
        named = urlencode({CALLBACK_KEY: key})
        return urlunsplit(parts._replace(query=f"{parts.query}&{named}" if parts.query else named))


def error_words(code: int | None) -> str:
    """Twilio's error code in words, without anything Twilio's message quotes."""
    what = f"Twilio error {code}" if code is not None else "Twilio error"
    words = _CODE_WORDS.get(code) if code is not None else None
    return f"{what}: {words}" if words else what


def _refused(key: str, *, status: int, code: int | None, asking: bool = False) -> TwilioSmsError:
    retryable = status == 429 or status >= 500
    detail = error_words(code)
    if asking:
        what = "did not list its messages to the recipient"
    else:
        what = f"{'could not take' if retryable else 'refused'} the message"
    return TwilioSmsError(
        f"sms {key}: Twilio {what} ({detail}, HTTP {status})",
        retryable=retryable,
        code=code,
        status=status,
    )
