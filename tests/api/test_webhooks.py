"""The Twilio and SendGrid webhooks over the real stack: requests signed as the
providers sign them (computed here from their documentation, not by the code
under test) are recorded; a missing or forged signature, or an unconfigured
secret, is refused with 403 and changes nothing."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.webhooks import WebhookSettings
from config import load_settings
from notifiers import OutgoingMessage, RecordingNotifier
from notifiers.twilio_sms import TwilioSmsNotifier
from store import NotificationRecord, Store
from tests.api.conftest import (
    AUTH_TOKEN,
    PUBLIC_URL,
    SENDGRID_KEY,
    SENDGRID_PUBLIC_KEY,
    TZ,
    WEBHOOK_SETTINGS,
    Api,
    Clock,
    running_api,
    stack_services,
)
from tests.notifiers.fake_twilio import running_fake_twilio

ACCOUNT_SID = "AC" + "fedcba9876543210" * 2
PHONE = "+15555550144"
OUR_NUMBER = "+15005550006"
SMS = "/webhooks/twilio/sms"
STATUS = "/webhooks/twilio/status"
EMAIL_EVENTS = "/webhooks/sendgrid/events"


@pytest.fixture
async def hooked(time_skipping_env: WorkflowEnvironment, database_url: str) -> AsyncIterator[Api]:
    """The stack with the webhooks' secrets set, and consumer c-4 (phone PHONE,
    opted in to texts) referred."""
    async with running_api(
        time_skipping_env, database_url, webhook_settings=WEBHOOK_SETTINGS
    ) as api:
        await api.ok(
            "POST",
            "/consumers",
            api.admin,
            json={
                "id": "c-4",
                "name": "Robin Diaz",
                "specialist": "es-1",
                "timezone": TZ,
                "phone": PHONE,
                "sms_consent": "opted_in",
            },
        )
        await api.ok("POST", "/consumers/c-4/referral", api.admin, json={"event_id": "ref-4"})
        yield api


# ---------------------------------------------------------------- signing, as the providers do


def twilio_signature(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """HMAC-SHA1 of the URL followed by each field's name and value in name order."""
    signed = url + "".join(name + form[name] for name in sorted(form))
    return base64.b64encode(
        hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()
    ).decode()


async def twilio_post(
    api: Api, path: str, form: dict[str, str], *, signature: str | None = None
) -> httpx.Response:
    """A form as Twilio posts it, signed for PUBLIC_URL + path unless `signature` is given."""
    headers = {"X-Twilio-Signature": signature or twilio_signature(PUBLIC_URL + path, form)}
    return await api.http.post(path, data=form, headers=headers)


def text_in(body: str, sid: str = "SM" + "1" * 32, sender: str = PHONE) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }


def status_of(sid: str, status: str, error_code: str | None = None) -> dict[str, str]:
    form = {
        "MessageSid": sid,
        "MessageStatus": status,
        "AccountSid": ACCOUNT_SID,
        "From": OUR_NUMBER,
        "To": PHONE,
    }
    if error_code is not None:
        form["ErrorCode"] = error_code
    return form


def sendgrid_headers(
    payload: bytes, key: ec.EllipticCurvePrivateKey = SENDGRID_KEY
) -> dict[str, str]:
    """ECDSA P-256 / SHA-256 over the timestamp followed by the body, base64."""
    timestamp = str(int(datetime.now(UTC).timestamp()))
    signature = key.sign(timestamp.encode() + payload, ec.ECDSA(hashes.SHA256()))
    return {
        "Content-Type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
    }


# ---------------------------------------------------------------- the outbox


def outbox_row(
    api: Api,
    key: str,
    *,
    channel: str = "sms",
    provider_id: str | None,
    recipient_role: str = "consumer",
) -> NotificationRecord:
    """A message the worker handed to its provider (whose id it saved, or not: it
    stopped before)."""
    api.store.claim_notification(
        NotificationRecord(
            idempotency_key=key,
            channel=channel,
            recipient_role=recipient_role,
            recipient_id="c-4" if recipient_role == "consumer" else "es-1",
            recipient_timezone=TZ,
            consumer_id="c-4",
            rule=None,
            kind="appointment_reminder",
            send_at=datetime.now(UTC),
            status="pending",
            body="Reminder from Your employment team: meeting tomorrow. Reply STOP to opt out.",
            subject="Reminder" if channel == "email" else None,
        )
    )
    if provider_id is None:
        row = api.store.get_notification(key)
        assert row is not None
        return row
    return api.store.update_notification(key, status="sent", provider_id=provider_id)


def row(api: Api, key: str) -> NotificationRecord:
    found = api.store.get_notification(key)
    assert found is not None
    return found


def stored_consent(api: Api, consumer: str) -> str:
    found = api.store.get_consumer(consumer)
    assert found is not None
    return found.sms_consent


async def journey_consent(api: Api, consumer: str = "c-4") -> str:
    journey = await api.ok("GET", f"/consumers/{consumer}/journey", api.admin)
    return str(journey["sms_consent"])


# ---------------------------------------------------------------- texts that come in


async def test_a_signed_stop_opts_the_consumer_out_through_their_journey(hooked: Api) -> None:
    api = hooked
    before = datetime.now(UTC)

    answer = await twilio_post(api, SMS, text_in(" stop. "))

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/xml")
    assert answer.text.endswith("<Response/>")
    assert await journey_consent(api) == "opted_out"
    assert stored_consent(api, "c-4") == "opted_out"
    change = api.store.list_consent_changes("c-4")[-1]
    assert (change.state, change.source) == ("opted_out", "sms:STOP")
    assert before - timedelta(seconds=5) <= change.at <= datetime.now(UTC) + timedelta(seconds=5)
    trail = await api.ok("GET", "/consumers/c-4/events", api.admin)
    [reply] = [e for e in trail if e["type"] == "sms_reply"]
    assert reply["recorded_by"] == "twilio"
    assert reply["fields"] == {"body": " stop. "}


async def test_a_signed_help_gets_the_help_reply_through_the_outbox(hooked: Api) -> None:
    api = hooked

    answer = await twilio_post(api, SMS, text_in("help"))

    assert answer.status_code == 200, answer.text
    [help_reply] = [n for n in api.store.list_notifications("c-4") if n.kind == "help_reply"]
    assert (help_reply.channel, help_reply.recipient_role, help_reply.status) == (
        "sms",
        "consumer",
        "sent",
    )
    assert "Msg&data rates may apply" in help_reply.body
    assert "Reply STOP to opt out" in help_reply.body
    assert [m.to for m in api.notifier.sent if m.idempotency_key == help_reply.idempotency_key] == [
        PHONE
    ]
    assert await journey_consent(api) == "opted_in"


async def test_twilio_sending_a_message_again_records_it_once(hooked: Api) -> None:
    api = hooked

    first = await twilio_post(api, SMS, text_in("HELP"))
    again = await twilio_post(api, SMS, text_in("HELP"))

    assert (first.status_code, again.status_code) == (200, 200)
    replies = [e for e in api.store.list_events("c-4") if e.type == "sms_reply"]
    assert len(replies) == 1
    assert [n.kind for n in api.store.list_notifications("c-4")] == ["help_reply"]
    assert len(api.notifier.sent) == 1


@pytest.mark.parametrize(
    "signature",
    [
        twilio_signature(PUBLIC_URL + SMS, text_in("STOP"), token="f" * 32),  # another token
        twilio_signature("http://ips" + SMS, text_in("STOP")),  # the URL behind the proxy
        twilio_signature(PUBLIC_URL + SMS, text_in("START")),  # another body
        "",
    ],
    ids=["another-token", "inner-url", "another-body", "missing"],
)
async def test_a_forged_or_missing_signature_is_refused_and_changes_nothing(
    hooked: Api, signature: str
) -> None:
    api = hooked
    events = api.store.list_events("c-4")

    answer = await api.http.post(
        SMS, data=text_in("STOP"), headers={"X-Twilio-Signature": signature} if signature else {}
    )

    assert answer.status_code == 403, answer.text
    assert "X-Twilio-Signature" in answer.json()["error"]["reason"]
    assert api.store.list_events("c-4") == events
    assert api.store.list_consent_changes("c-4") == []
    assert await journey_consent(api) == "opted_in"


async def test_a_text_from_a_number_on_no_file_records_nothing_and_logs_no_number(
    hooked: Api, caplog: pytest.LogCaptureFixture
) -> None:
    api = hooked
    stranger = "+15555550999"
    events = api.store.list_events()

    with caplog.at_level(logging.DEBUG):
        answer = await twilio_post(api, SMS, text_in("STOP", sender=stranger))

    assert answer.status_code == 200, answer.text
    assert answer.text.endswith("<Response/>")
    assert api.store.list_events() == events
    assert "nothing recorded" in caplog.text
    assert stranger not in caplog.text and stranger[1:] not in caplog.text


async def test_a_stop_from_a_consumer_without_an_open_journey_still_opts_them_out(
    hooked: Api,
) -> None:
    api = hooked
    consumer = {"id": "c-5", "name": "Lee Park", "specialist": "es-1", "timezone": TZ}
    await api.ok(
        "POST",
        "/consumers",
        api.admin,
        json={**consumer, "phone": "+15555550155", "sms_consent": "opted_in"},
    )

    answer = await twilio_post(api, SMS, text_in("Unsubscribe", sender="+15555550155"))

    assert answer.status_code == 200, answer.text
    assert stored_consent(api, "c-5") == "opted_out"
    [change] = api.store.list_consent_changes("c-5")
    assert (change.state, change.source) == ("opted_out", "sms:UNSUBSCRIBE")


async def test_unconfigured_webhooks_refuse_naming_the_setting(api: Api) -> None:
    form = text_in("STOP")

    for path in (SMS, STATUS):
        answer = await twilio_post(api, path, form)
        assert answer.status_code == 403, answer.text
        assert "IPS_TWILIO_AUTH_TOKEN is not set" in answer.json()["error"]["reason"]
    email = await api.http.post(EMAIL_EVENTS, content=b"[]", headers=sendgrid_headers(b"[]"))
    assert email.status_code == 403
    assert "IPS_SENDGRID_WEBHOOK_PUBLIC_KEY is not set" in email.json()["error"]["reason"]


async def test_without_a_public_url_the_twilio_webhooks_refuse(
    time_skipping_env: WorkflowEnvironment, tmp_path: Any
) -> None:
    settings = WebhookSettings(twilio_auth_token=AUTH_TOKEN)
    async with running_api(
        time_skipping_env, f"sqlite:///{tmp_path / 'ips.db'}", webhook_settings=settings
    ) as api:
        answer = await twilio_post(api, SMS, text_in("STOP"))

    assert answer.status_code == 403
    assert "IPS_PUBLIC_URL is not set" in answer.json()["error"]["reason"]


async def test_temporal_down_answers_503_so_that_twilio_sends_the_text_again(
    hooked: Api,
) -> None:
    async def unreachable() -> Client:
        raise RuntimeError("Failed client connect: connection refused")

    services = dataclasses.replace(hooked.services, connect=unreachable, _client=None)
    transport = httpx.ASGITransport(app=create_app(services, WEBHOOK_SETTINGS))
    events = hooked.store.list_events("c-4")
    form = text_in("STOP")
    async with httpx.AsyncClient(transport=transport, base_url="http://ips") as http:
        answer = await http.post(
            SMS, data=form, headers={"X-Twilio-Signature": twilio_signature(PUBLIC_URL + SMS, form)}
        )

    assert answer.status_code == 503, answer.text
    assert int(answer.headers["Retry-After"]) > 0
    assert "Temporal" in answer.json()["error"]["reason"]
    assert hooked.store.list_events("c-4") == events
    assert stored_consent(hooked, "c-4") == "opted_in"


async def test_a_database_that_does_not_answer_gives_503_to_every_webhook(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    # Nothing listens on port 1.
    store = Store("postgresql+psycopg://ips@127.0.0.1:1/ips")

    async def connect() -> Client:
        return time_skipping_env.client

    app = create_app(stack_services(store, connect, Clock()), WEBHOOK_SETTINGS)
    payload = json.dumps([email_event("delivered")]).encode()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ips"
    ) as http:
        services = app.state.services
        api = Api(http, store, services, Clock(), notifier=RecordingNotifier())
        answers = [
            await twilio_post(api, SMS, text_in("STOP")),
            await twilio_post(api, STATUS, status_of(SID, "delivered")),
            await http.post(EMAIL_EVENTS, content=payload, headers=sendgrid_headers(payload)),
        ]
    store.dispose()

    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert "database" in answer.json()["error"]["reason"]


# ---------------------------------------------------------------- delivery status of texts

SID = "SM" + "a" * 32


async def test_sent_then_delivered_is_delivered_at_the_time_it_was_reported(hooked: Api) -> None:
    api = hooked
    outbox_row(api, "t-1", provider_id=SID)

    sent = await twilio_post(api, STATUS, status_of(SID, "sent"))
    before = datetime.now(UTC)
    delivered = await twilio_post(api, STATUS, status_of(SID, "delivered"))

    assert (sent.status_code, delivered.status_code) == (200, 200)
    assert (row(api, "t-1").status, row(api, "t-1").error) == ("delivered", None)
    updated = row(api, "t-1").updated_at
    assert updated is not None and before <= updated <= datetime.now(UTC)


async def test_a_late_or_repeated_status_changes_nothing(hooked: Api) -> None:
    api = hooked
    outbox_row(api, "t-1", provider_id=SID)
    await twilio_post(api, STATUS, status_of(SID, "delivered"))
    settled = row(api, "t-1")

    for status in ("sent", "queued", "delivered", "undelivered"):
        answer = await twilio_post(api, STATUS, status_of(SID, status, error_code="30003"))
        assert answer.status_code == 200, answer.text

    assert row(api, "t-1") == settled
    assert row(api, "t-1").updated_at == settled.updated_at


async def test_an_undelivered_text_records_the_error_code_only(hooked: Api) -> None:
    api = hooked
    outbox_row(api, "t-1", provider_id=SID)

    await twilio_post(api, STATUS, status_of(SID, "undelivered", error_code="30003"))

    assert (row(api, "t-1").status, row(api, "t-1").error) == ("undelivered", "Twilio error 30003")


async def test_a_text_whose_sid_was_never_saved_is_settled_by_the_key_in_its_callback(
    hooked: Api,
) -> None:
    api = hooked
    key = "c-4/r1/appointment/a-1/0/consumer/sms"
    outbox_row(api, key, provider_id=None)
    with running_fake_twilio() as fake:
        # The worker's call reached Twilio, and the worker stopped before saving the SID.
        notifier = TwilioSmsNotifier.from_settings(
            load_settings(
                {
                    "IPS_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                    "IPS_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                    "IPS_TWILIO_FROM_NUMBER": OUR_NUMBER,
                    "IPS_TWILIO_BASE_URL": fake.base_url,
                    "IPS_PUBLIC_URL": PUBLIC_URL,
                }
            )
        )
        assert notifier is not None
        sid = notifier.send(OutgoingMessage("sms", PHONE, "Reminder", key)).provider_id
        [request] = fake.messages
        assert fake.violations == []
    assert sid is not None
    callback = request.form["StatusCallback"]
    assert callback.startswith(PUBLIC_URL + STATUS + "?key=")
    target = urlsplit(callback)
    path = f"{target.path.removeprefix(urlsplit(PUBLIC_URL).path)}?{target.query}"
    form = status_of(sid, "sent")

    answer = await api.http.post(
        path, data=form, headers={"X-Twilio-Signature": twilio_signature(callback, form)}
    )

    assert answer.status_code == 200, answer.text
    assert (row(api, key).status, row(api, key).provider_id) == ("sent", sid)
    # Later reports find it by the SID alone.
    await twilio_post(api, STATUS, status_of(sid, "delivered"))
    assert row(api, key).status == "delivered"


async def test_error_21610_opts_the_consumer_out_once(hooked: Api) -> None:
    api = hooked
    outbox_row(api, "t-1", provider_id=SID)
    before = datetime.now(UTC)

    for _ in range(2):
        answer = await twilio_post(api, STATUS, status_of(SID, "failed", error_code="21610"))
        assert answer.status_code == 200, answer.text

    assert stored_consent(api, "c-4") == "opted_out"
    changes = [c for c in api.store.list_consent_changes("c-4") if c.source == "twilio:21610"]
    assert [c.state for c in changes] == ["opted_out"]
    assert before <= changes[0].at <= datetime.now(UTC)
    assert row(api, "t-1").status == "failed"
    assert "21610" in str(row(api, "t-1").error)


async def test_error_21610_of_a_text_to_staff_leaves_the_consumer_as_they_were(
    hooked: Api,
) -> None:
    api = hooked
    outbox_row(api, "t-1", provider_id=SID, recipient_role="specialist")

    await twilio_post(api, STATUS, status_of(SID, "failed", error_code="21610"))

    assert stored_consent(api, "c-4") == "opted_in"
    assert row(api, "t-1").status == "failed"


async def test_a_forged_status_is_refused_and_changes_nothing(hooked: Api) -> None:
    api = hooked
    outbox_row(api, "t-1", provider_id=SID)
    form = status_of(SID, "failed", error_code="21610")

    answer = await twilio_post(
        api, STATUS, form, signature=twilio_signature(PUBLIC_URL + STATUS, form, token="e" * 32)
    )

    assert answer.status_code == 403
    assert (row(api, "t-1").status, row(api, "t-1").error) == ("sent", None)
    assert stored_consent(api, "c-4") == "opted_in"


# ---------------------------------------------------------------- email events

X_MESSAGE_ID = "14c5d75ce93"


def email_event(event: str, **fields: Any) -> dict[str, Any]:
    return {
        "email": "es-1@example.org",
        "timestamp": int(datetime.now(UTC).timestamp()),
        "event": event,
        "sg_event_id": f"ev-{event}",
        "sg_message_id": f"{X_MESSAGE_ID}.filterdrecv-p3las1-16816-5A2C9A9D-2.0",
        **fields,
    }


async def post_events(api: Api, events: list[dict[str, Any]], **signing: Any) -> httpx.Response:
    payload = json.dumps(events).encode()
    return await api.http.post(
        EMAIL_EVENTS, content=payload, headers=sendgrid_headers(payload, **signing)
    )


async def test_a_signed_batch_of_processed_and_delivered_is_delivered(hooked: Api) -> None:
    api = hooked
    outbox_row(api, "e-1", channel="email", provider_id=X_MESSAGE_ID)
    outbox_row(api, "e-2", channel="email", provider_id=None)

    answer = await post_events(
        api,
        [
            email_event("processed"),
            email_event("delivered"),
            # Matched by its custom arg, before SendGrid's id was saved.
            email_event("processed", sg_message_id="9f8e7d.filter-2", idempotency_key="e-2"),
            email_event("open"),
        ],
    )

    assert answer.status_code == 200, answer.text
    assert row(api, "e-1").status == "delivered"
    assert (row(api, "e-2").status, row(api, "e-2").provider_id) == ("sent", "9f8e7d")


async def test_a_bounce_fails_the_email_and_a_later_event_does_not_undo_it(hooked: Api) -> None:
    api = hooked
    outbox_row(api, "e-1", channel="email", provider_id=X_MESSAGE_ID)

    await post_events(
        api,
        [
            email_event("deferred", idempotency_key="e-1"),
            email_event(
                "bounce", idempotency_key="e-1", reason="550 5.1.1 es-1@example.org unknown"
            ),
            email_event("delivered", idempotency_key="e-1"),
        ],
    )

    assert (row(api, "e-1").status, row(api, "e-1").error) == ("failed", "bounce")


async def test_a_forged_or_tampered_batch_is_refused_and_changes_nothing(hooked: Api) -> None:
    api = hooked
    outbox_row(api, "e-1", channel="email", provider_id=X_MESSAGE_ID)
    events = [email_event("delivered")]
    payload = json.dumps(events).encode()
    tampered = sendgrid_headers(json.dumps([email_event("bounce")]).encode())

    forged = await post_events(api, events, key=ec.generate_private_key(ec.SECP256R1()))
    altered = await api.http.post(EMAIL_EVENTS, content=payload, headers=tampered)
    unsigned = await api.http.post(EMAIL_EVENTS, content=payload)

    for answer in (forged, altered, unsigned):
        assert answer.status_code == 403, answer.text
        assert "X-Twilio-Email-Event-Webhook" in answer.json()["error"]["reason"]
    assert row(api, "e-1").status == "sent"


def test_a_malformed_verification_key_stops_start_up_naming_it() -> None:
    with pytest.raises(ValueError, match="^IPS_SENDGRID_WEBHOOK_PUBLIC_KEY is not"):
        WebhookSettings.from_settings(
            load_settings({"IPS_SENDGRID_WEBHOOK_PUBLIC_KEY": "not-a-key"})
        )
    with pytest.raises(ValueError, match="^IPS_PUBLIC_URL"):
        WebhookSettings.from_settings(load_settings({"IPS_PUBLIC_URL": "ips.example.org"}))
    settings = WebhookSettings.from_settings(
        load_settings(
            {
                "IPS_PUBLIC_URL": PUBLIC_URL + "/",
                "IPS_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "IPS_SENDGRID_WEBHOOK_PUBLIC_KEY": SENDGRID_PUBLIC_KEY,
            }
        )
    )
    assert settings == WEBHOOK_SETTINGS
