"""Webhooks for Twilio (texts that come in, delivery status) and SendGrid (email
events). No staff token: each request's provider signature is its authentication,
and a webhook whose secret is not configured refuses every request (403), as
does one whose signature is missing or wrong; nothing is then recorded.

Twilio signs the URL it calls, so the signature is checked against the URL
under IPS_PUBLIC_URL (behind a proxy, the proxy's), not the one this server sees.

Privacy: no log line carries a phone number, a message body or an address.
"""

from __future__ import annotations

import binascii
import json
import logging
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sendgrid.helpers.eventwebhook import EventWebhook
from starlette.datastructures import ImmutableMultiDict
from starlette.exceptions import HTTPException
from twilio.request_validator import RequestValidator

from api.auth import ServicesDep
from api.models import ErrorOut
from config import Settings
from notifiers import twilio_sms
from service import deliveries, journeys
from service.errors import Invalid

log = logging.getLogger("ips.api")

SENDGRID_KEY_SETTING = "IPS_SENDGRID_WEBHOOK_PUBLIC_KEY"
TWILIO_SIGNATURE = "X-Twilio-Signature"
SENDGRID_SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"

# The answer to a text that came in: nothing to send back now (the journey sends
# any reply through the outbox).
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@dataclass(frozen=True)
class WebhookSettings:
    """The secrets the webhooks check signatures with. Each one missing turns its
    webhooks off: they refuse every request, naming the setting."""

    public_url: str | None = None
    twilio_auth_token: str | None = None
    sendgrid_public_key: str | None = None

    def __post_init__(self) -> None:
        if self.sendgrid_public_key is not None:
            sendgrid_key(self.sendgrid_public_key)

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookSettings:
        """IPS_PUBLIC_URL, IPS_TWILIO_AUTH_TOKEN and IPS_SENDGRID_WEBHOOK_PUBLIC_KEY;
        a malformed one raises ValueError naming it."""
        token, key = settings.twilio_auth_token, settings.sendgrid_webhook_public_key
        found = cls(
            public_url=twilio_sms.public_url(settings),
            twilio_auth_token=token.get_secret_value() if token else None,
            sendgrid_public_key=key.get_secret_value() if key else None,
        )
        for missing in (found.twilio_missing(), found.sendgrid_missing()):
            if missing:
                log.warning("%s", missing)
        return found

    def twilio_missing(self) -> str | None:
        for setting, value in (
            (twilio_sms.AUTH_TOKEN_SETTING, self.twilio_auth_token),
            (twilio_sms.PUBLIC_URL_SETTING, self.public_url),
        ):
            if not value:
                return f"the Twilio webhooks are off: {setting} is not set"
        return None

    def sendgrid_missing(self) -> str | None:
        if not self.sendgrid_public_key:
            return f"the SendGrid event webhook is off: {SENDGRID_KEY_SETTING} is not set"
        return None


def sendgrid_key(value: str) -> ec.EllipticCurvePublicKey:
    """The verification key SendGrid shows (base64 DER; a whole PEM block will do)."""
    body = "".join(line for line in value.strip().splitlines() if not line.startswith("-----"))
    try:
        key = EventWebhook().convert_public_key_to_ecdsa(body)
    except (ValueError, UnsupportedAlgorithm):
        key = None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError(
            f"{SENDGRID_KEY_SETTING} is not an elliptic-curve public key: copy the "
            "verification key from SendGrid's Event Webhook settings whole"
        )
    return key


def _settings(request: Request) -> WebhookSettings:
    found: WebhookSettings = request.app.state.webhooks
    return found


def _refuse(request: Request, reason: str) -> HTTPException:
    log.warning("refused %s: %s", request.url.path, reason)
    return HTTPException(403, reason)


async def signed_twilio_form(
    request: Request,
    signature: Annotated[
        str | None,
        Header(
            alias=TWILIO_SIGNATURE,
            description="Twilio's signature of the URL it called and the form it sent.",
        ),
    ] = None,
) -> ImmutableMultiDict[str, str]:
    """The form Twilio sent, once its signature is Twilio's."""
    settings = _settings(request)
    missing = settings.twilio_missing()
    if missing:
        raise _refuse(request, missing)
    assert settings.public_url is not None and settings.twilio_auth_token is not None
    if not signature:
        raise _refuse(request, f"{TWILIO_SIGNATURE} is missing")
    try:
        form = ImmutableMultiDict(
            parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True)
        )
    except UnicodeDecodeError:
        raise _refuse(request, "the form is not UTF-8, as Twilio sends it") from None
    url = settings.public_url + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    if not RequestValidator(settings.twilio_auth_token).validate(url, form, signature):
        raise _refuse(
            request,
            f"{TWILIO_SIGNATURE} does not match this request under "
            f"{twilio_sms.PUBLIC_URL_SETTING} with {twilio_sms.AUTH_TOKEN_SETTING}",
        )
    return form


async def signed_sendgrid_events(
    request: Request,
    signature: Annotated[
        str | None,
        Header(alias=SENDGRID_SIGNATURE, description="SendGrid's ECDSA signature, base64."),
    ] = None,
    timestamp: Annotated[
        str | None,
        Header(alias=SENDGRID_TIMESTAMP, description="The time SendGrid signed at."),
    ] = None,
) -> list[Any]:
    """The events SendGrid sent, once its signature is SendGrid's."""
    settings = _settings(request)
    missing = settings.sendgrid_missing()
    if missing:
        raise _refuse(request, missing)
    assert settings.sendgrid_public_key is not None
    if not signature or not timestamp:
        raise _refuse(request, f"{SENDGRID_SIGNATURE} or {SENDGRID_TIMESTAMP} is missing")
    body = await request.body()
    try:
        payload = body.decode("utf-8")
        signed = EventWebhook().verify_signature(
            payload, signature, timestamp, sendgrid_key(settings.sendgrid_public_key)
        )
    except (UnicodeDecodeError, binascii.Error, ValueError):
        signed = False
    if not signed:
        raise _refuse(
            request, f"{SENDGRID_SIGNATURE} does not match this request with {SENDGRID_KEY_SETTING}"
        )
    try:
        events = json.loads(payload)
    except ValueError:
        raise Invalid("body", "is not valid JSON") from None
    if not isinstance(events, list):
        raise Invalid("body", "must be an array of events")
    return events


TwilioForm = Annotated[ImmutableMultiDict[str, str], Depends(signed_twilio_form)]
SendGridEvents = Annotated[list[Any], Depends(signed_sendgrid_events)]


def _required(form: ImmutableMultiDict[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise Invalid(name, "is required")
    return value


def _twilio_form(fields: dict[str, str]) -> dict[str, Any]:
    properties = {name: {"type": "string", "description": words} for name, words in fields.items()}
    schema = {
        "type": "object",
        "properties": properties,
        "additionalProperties": {"type": "string"},
    }
    return {
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": schema}},
        }
    }


def _refusals(description: str) -> dict[int | str, dict[str, Any]]:
    return {
        403: {
            "model": ErrorOut,
            "description": "The signature is missing or wrong, or the webhook's setting is "
            "not configured (the reason names it); nothing was recorded.",
        },
        422: {"model": ErrorOut, "description": description},
        503: {
            "model": ErrorOut,
            "description": "The database or Temporal is not answering; nothing was recorded. "
            "The provider sends it again.",
        },
    }


router = APIRouter(tags=["webhooks"])


@router.post(
    "/webhooks/twilio/sms",
    response_class=Response,
    summary="Twilio: a text came in (set as the number's or Messaging Service's incoming webhook)",
    description="The text is an `sms_reply` event of the journey of the consumer with the "
    "sending number; the journey decides what it means for consent (STOP, START, HELP, "
    "plain words) and sends any reply itself. Twilio's retry of a message is recorded "
    "once. A number on no consumer's file is answered the same, and nothing is recorded.",
    responses={
        200: {
            "content": {"text/xml": {"schema": {"type": "string"}}},
            "description": "Empty TwiML: nothing to send back now.",
        },
        **_refusals("A signed form without MessageSid or From."),
    },
    openapi_extra=_twilio_form(
        {
            "MessageSid": "Twilio's id of the message.",
            "From": "The sender's number, E.164.",
            "To": "Our number.",
            "Body": "The text.",
        }
    ),
)
async def text_came_in(form: TwilioForm, services: ServicesDep) -> Response:
    message_sid = _required(form, "MessageSid")
    consumers = await journeys.record_text_from_consumer(
        services,
        message_sid=message_sid,
        from_number=_required(form, "From"),
        body=form.get("Body", ""),
    )
    if not consumers:
        log.info("text %s came from a number on no consumer's file: nothing recorded", message_sid)
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post(
    "/webhooks/twilio/status",
    response_class=Response,
    summary="Twilio: how far a text got (the status callback of each text we send)",
    description="Moves the text's outbox row forward (queued to sent, then delivered, "
    "undelivered or failed), never back: a repeated or late status changes nothing. "
    "Error 21610 (the recipient replied STOP to Twilio) opts the consumer out of texts.",
    responses={
        200: {"description": "Recorded, or nothing to record."},
        **_refusals("A signed form without MessageSid or MessageStatus."),
    },
    openapi_extra=_twilio_form(
        {
            "MessageSid": "Twilio's id of the message.",
            "MessageStatus": "queued, sent, delivered, undelivered, failed, ...",
            "ErrorCode": "Twilio's error code, when the message failed.",
        }
    ),
)
def text_status(
    form: TwilioForm,
    services: ServicesDep,
    key: Annotated[
        str | None,
        Query(description="The idempotency key of the notification, as the callback URL names it."),
    ] = None,
) -> Response:
    code = form.get("ErrorCode", "").strip()
    deliveries.record_text_status(
        services,
        message_sid=_required(form, "MessageSid"),
        status=_required(form, "MessageStatus"),
        error_code=int(code) if code.isdigit() else None,
        key=key or None,
    )
    return Response(status_code=200)


@router.post(
    "/webhooks/sendgrid/events",
    response_class=Response,
    summary="SendGrid: email events (the Event Webhook, signed)",
    description="processed, delivered, bounce and dropped move the email's outbox row "
    "forward (sent, delivered, failed), never back; other events change nothing.",
    responses={
        200: {"description": "Recorded, or nothing to record."},
        **_refusals("A signed body that is not a JSON array."),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "event": {"type": "string"},
                                "sg_message_id": {"type": "string"},
                                "idempotency_key": {"type": "string"},
                                "timestamp": {"type": "integer"},
                            },
                        },
                    }
                }
            },
        }
    },
)
def email_events(events: SendGridEvents, services: ServicesDep) -> Response:
    deliveries.record_email_events(services, events)
    return Response(status_code=200)
