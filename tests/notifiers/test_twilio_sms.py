"""Twilio SMS through the real `twilio` SDK, against a local fake that holds every
request to Twilio's official OpenAPI spec."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from config import load_settings
from notifiers.base import NotifierError, OutgoingMessage
from notifiers.twilio_sms import TwilioSmsError, TwilioSmsNotifier
from tests.notifiers.fake_twilio import (
    MESSAGES_PATH,
    FakeTwilio,
    basic_auth,
    running_fake_twilio,
)

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fedcba9876543210" * 2
SERVICE_SID = "MG" + "89abcdef01234567" * 2
FROM = "+15005550006"
PHONE = "+15558675309"
BODY = (
    "Reminder from Wellspring Works: meeting with Jordan tomorrow 2:00 PM. Reply STOP to opt out."
)
KEY = "appt-42/consumer/sms"
CALLBACK = "https://ips.example.org/webhooks/twilio/status"
# The callback of the message of KEY: the key URL-encoded in the query.
CALLBACK_OF_KEY = CALLBACK + "?key=appt-42%2Fconsumer%2Fsms"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with running_fake_twilio() as server:
        yield server
        assert server.violations == [], "a request broke Twilio's contract"


def text(to: str = PHONE, body: str = BODY) -> OutgoingMessage:
    return OutgoingMessage(channel="sms", to=to, body=body, idempotency_key=KEY)


def notifier(
    fake: FakeTwilio, *, from_number: str | None = None, status_callback: str | None = None
) -> TwilioSmsNotifier:
    """Through the messaging service, or from `from_number` when given."""
    return TwilioSmsNotifier(
        ACCOUNT_SID,
        AUTH_TOKEN,
        messaging_service_sid=None if from_number else SERVICE_SID,
        from_number=from_number,
        status_callback=status_callback,
        base_url=fake.base_url,
    )


def test_a_text_through_a_messaging_service_reaches_twilio_and_returns_its_sid(
    fake: FakeTwilio,
) -> None:
    delivery = notifier(fake).send(text())

    [request] = fake.messages
    assert request.path == MESSAGES_PATH.format(AccountSid=ACCOUNT_SID)
    assert request.form == {"To": PHONE, "Body": BODY, "MessagingServiceSid": SERVICE_SID}
    assert request.authorization == basic_auth(ACCOUNT_SID, AUTH_TOKEN)
    assert delivery.status == "sent"
    assert delivery.provider_id is not None
    assert delivery.provider_id.startswith("SM") and len(delivery.provider_id) == 34


def test_a_text_from_a_number_with_a_status_callback_that_names_its_key(
    fake: FakeTwilio,
) -> None:
    sms = notifier(fake, from_number=FROM, status_callback=CALLBACK)

    first = sms.send(text())
    second = sms.send(
        OutgoingMessage(channel="sms", to="+15558675310", body=BODY, idempotency_key="a b&c=d")
    )

    assert [r.form for r in fake.messages] == [
        {"To": PHONE, "Body": BODY, "From": FROM, "StatusCallback": CALLBACK_OF_KEY},
        {
            "To": "+15558675310",
            "Body": BODY,
            "From": FROM,
            "StatusCallback": CALLBACK + "?key=a+b%26c%3Dd",
        },
    ]
    assert first.provider_id != second.provider_id


def test_the_key_joins_a_query_the_callback_already_has(fake: FakeTwilio) -> None:
    notifier(fake, status_callback=CALLBACK + "?agency=ww").send(text())

    [request] = fake.messages
    assert request.form["StatusCallback"] == CALLBACK + "?agency=ww&key=appt-42%2Fconsumer%2Fsms"


def test_the_contract_check_rejects_a_request_the_spec_forbids(fake: FakeTwilio) -> None:
    # Through the SDK's own client, a message without To and one with a bad
    # service SID: if the fake let these through, its approval would mean nothing.
    sms = notifier(fake)
    url = f"{fake.base_url}{MESSAGES_PATH.format(AccountSid=ACCOUNT_SID)}"
    auth = (ACCOUNT_SID, AUTH_TOKEN)
    missing_to = sms.http_client.request("POST", url, data={"Body": BODY}, auth=auth)
    bad_service = sms.http_client.request(
        "POST", url, data={"To": PHONE, "MessagingServiceSid": "MG123"}, auth=auth
    )
    unknown_field = sms.http_client.request(
        "POST", url, data={"To": PHONE, "Bodyy": BODY}, auth=auth
    )
    no_auth = sms.http_client.request("POST", url, data={"To": PHONE, "Body": BODY})

    assert [r.status_code for r in (missing_to, bad_service, unknown_field, no_auth)] == [400] * 4
    assert len(fake.violations) == 4
    assert "'To' is a required property" in fake.violations[0]
    assert "MG123" in fake.violations[1]
    assert "Bodyy" in fake.violations[2]
    assert "Security" in fake.violations[3]
    fake.violations.clear()  # seen and expected; the fixture checks for any others


@pytest.mark.parametrize("code", [21211, 21610])
def test_an_invalid_or_unsubscribed_number_is_not_retried(fake: FakeTwilio, code: int) -> None:
    fake.fail(400, code)

    with pytest.raises(NotifierError) as raised:
        notifier(fake).send(text())

    assert isinstance(raised.value, TwilioSmsError)
    assert raised.value.retryable is False
    assert raised.value.code == code
    assert str(code) in str(raised.value)
    assert KEY in str(raised.value)


def test_other_client_errors_are_not_retried(fake: FakeTwilio) -> None:
    fake.fail(401, 20003)

    with pytest.raises(TwilioSmsError) as raised:
        notifier(fake).send(text())

    assert (raised.value.retryable, raised.value.code, raised.value.status) == (False, 20003, 401)


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, None), (503, 20500)])
def test_throttling_and_outages_are_retried(
    fake: FakeTwilio, status: int, code: int | None
) -> None:
    fake.fail(status, code)
    sms = notifier(fake)

    with pytest.raises(TwilioSmsError) as raised:
        sms.send(text())
    delivery = sms.send(text())  # the outage is over

    assert raised.value.retryable is True
    assert raised.value.status == status
    assert delivery.provider_id is not None
    assert len(fake.messages) == 2


def test_a_failure_queued_for_two_requests_hits_exactly_two(fake: FakeTwilio) -> None:
    fake.fail(500, times=2)
    sms = notifier(fake)

    outcomes = []
    for _ in range(3):
        try:
            outcomes.append(sms.send(text()).status)
        except TwilioSmsError as err:
            outcomes.append("retryable" if err.retryable else "failed")

    assert outcomes == ["retryable", "retryable", "sent"]


def test_a_timeout_is_retried() -> None:
    # A listener that accepts connections and never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        host, port = silent.getsockname()
        sms = TwilioSmsNotifier(
            ACCOUNT_SID,
            AUTH_TOKEN,
            messaging_service_sid=SERVICE_SID,
            base_url=f"http://{host}:{port}",
            timeout=0.3,
        )
        with pytest.raises(TwilioSmsError) as raised:
            sms.send(text())

    assert raised.value.retryable is True
    assert "in time" in str(raised.value)
    # The request went out: Twilio may have the message (the outbox asks it).
    assert raised.value.maybe_taken is True


def test_an_unreachable_twilio_is_retried() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        host, port = closed.getsockname()
    sms = TwilioSmsNotifier(
        ACCOUNT_SID, AUTH_TOKEN, messaging_service_sid=SERVICE_SID, base_url=f"http://{host}:{port}"
    )

    with pytest.raises(TwilioSmsError) as raised:
        sms.send(text())

    assert raised.value.retryable is True
    assert raised.value.maybe_taken is False  # nothing went out


def test_twilio_names_the_texts_it_took_to_the_number_with_the_same_words(
    fake: FakeTwilio,
) -> None:
    sms = notifier(fake, status_callback=CALLBACK)
    before = datetime.now(UTC) - timedelta(seconds=2)
    sms.send(text(body="Another text"))
    taken = sms.send(text())
    sms.send(text(to="+15558675310"))

    assert sms.find_sent(text(), since=before) == [taken]
    assert sms.find_sent(text(), since=datetime.now(UTC) + timedelta(minutes=1)) == []
    assert sms.find_sent(text(to="+15558675311"), since=before) == []
    [asked, *_] = [r for r in fake.requests if r.method == "GET"]
    assert asked.query["To"] == PHONE  # and the fake held it to the contract


@pytest.mark.parametrize(("status", "code"), [(400, 21211), (400, 21610), (500, None)])
def test_no_phone_number_or_body_in_errors_or_logs(
    fake: FakeTwilio, caplog: pytest.LogCaptureFixture, status: int, code: int | None
) -> None:
    # Twilio's own 21211 message quotes the number: it must not travel on.
    caplog.set_level(logging.DEBUG)
    fake.fail(status, code)
    sms = notifier(fake)

    with pytest.raises(TwilioSmsError) as raised:
        sms.send(text())
    sms.send(text())

    err = raised.value
    assert err.__cause__ is None and err.__context__ is None
    said = [str(err), repr(err.args), *(r.getMessage() for r in caplog.records)]
    for line in said:
        assert PHONE not in line and PHONE[1:] not in line
        assert BODY not in line and "Jordan" not in line
    assert any(KEY in r.getMessage() for r in caplog.records)  # the success is logged by key


def test_only_sms_is_sent(fake: FakeTwilio) -> None:
    email = OutgoingMessage(
        channel="email", to="es@example.org", body="x", subject="s", idempotency_key=KEY
    )

    with pytest.raises(TwilioSmsError) as raised:
        notifier(fake).send(email)

    assert raised.value.retryable is False
    assert fake.requests == []


SECRET_LOOKING = "AC" + "z" * 32


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"account_sid": SECRET_LOOKING}, "IPS_TWILIO_ACCOUNT_SID (account_sid)"),
        ({"account_sid": "AC123"}, "IPS_TWILIO_ACCOUNT_SID (account_sid)"),
        ({"auth_token": "not-a-token"}, "IPS_TWILIO_AUTH_TOKEN (auth_token)"),
        ({"messaging_service_sid": "MS" + "0" * 32}, "IPS_TWILIO_MESSAGING_SERVICE_SID"),
        ({"messaging_service_sid": None, "from_number": "5558675309"}, "IPS_TWILIO_FROM_NUMBER"),
        ({"messaging_service_sid": None, "from_number": "+0123"}, "IPS_TWILIO_FROM_NUMBER"),
        ({"messaging_service_sid": None}, "set one of IPS_TWILIO_MESSAGING_SERVICE_SID"),
        ({"from_number": FROM}, "set only one of IPS_TWILIO_MESSAGING_SERVICE_SID"),
        ({"status_callback": "ips.example.org/status"}, "IPS_TWILIO_STATUS_CALLBACK_URL"),
        ({"base_url": "localhost:4010"}, "IPS_TWILIO_BASE_URL"),
    ],
)
def test_malformed_settings_fail_at_start_up_naming_the_setting(
    settings: dict[str, str | None], named: str
) -> None:
    arguments: dict[str, str | None] = {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "messaging_service_sid": SERVICE_SID,
        **settings,
    }

    with pytest.raises(ValueError) as raised:
        TwilioSmsNotifier(**arguments)  # type: ignore[arg-type]

    assert named in str(raised.value)
    for value in settings.values():
        if value and len(value) > 8:
            assert value not in str(raised.value)  # secrets are never echoed


def test_settings_from_the_environment(fake: FakeTwilio) -> None:
    assert TwilioSmsNotifier.from_settings(load_settings({})) is None
    with pytest.raises(ValueError, match="IPS_TWILIO_AUTH_TOKEN is not set"):
        TwilioSmsNotifier.from_settings(load_settings({"IPS_TWILIO_ACCOUNT_SID": ACCOUNT_SID}))
    with pytest.raises(ValueError, match="IPS_TWILIO_ACCOUNT_SID"):
        TwilioSmsNotifier.from_settings(
            load_settings({"IPS_TWILIO_ACCOUNT_SID": "ACxyz", "IPS_TWILIO_AUTH_TOKEN": AUTH_TOKEN})
        )

    sms = TwilioSmsNotifier.from_settings(
        load_settings(
            {
                "IPS_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "IPS_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "IPS_TWILIO_FROM_NUMBER": FROM,
                "IPS_TWILIO_MESSAGING_SERVICE_SID": "",
                "IPS_TWILIO_STATUS_CALLBACK_URL": CALLBACK,
                "IPS_TWILIO_BASE_URL": fake.base_url,
            }
        )
    )
    assert sms is not None
    sms.send(text())

    assert [r.form for r in fake.messages] == [
        {"To": PHONE, "Body": BODY, "From": FROM, "StatusCallback": CALLBACK_OF_KEY}
    ]


ENVIRONMENT = {
    "IPS_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "IPS_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "IPS_TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
}


@pytest.mark.parametrize(
    ("settings", "callback"),
    [
        ({"IPS_PUBLIC_URL": "https://ips.example.org/"}, CALLBACK_OF_KEY),
        (
            {"IPS_PUBLIC_URL": "https://example.org/ips"},
            "https://example.org/ips/webhooks/twilio/status?key=appt-42%2Fconsumer%2Fsms",
        ),
        (
            {
                "IPS_PUBLIC_URL": "https://example.org/ips",
                "IPS_TWILIO_STATUS_CALLBACK_URL": CALLBACK,
            },
            CALLBACK_OF_KEY,
        ),
        ({}, None),
    ],
    ids=["public-url", "public-url-with-path", "callback-setting-first", "neither"],
)
def test_reports_go_to_the_status_webhook_under_the_public_url(
    fake: FakeTwilio, settings: dict[str, str], callback: str | None
) -> None:
    sms = TwilioSmsNotifier.from_settings(
        load_settings({**ENVIRONMENT, "IPS_TWILIO_BASE_URL": fake.base_url, **settings})
    )
    assert sms is not None

    sms.send(text())

    [request] = fake.messages
    assert request.form.get("StatusCallback") == callback


@pytest.mark.parametrize(
    "public_url", ["ips.example.org", "https://ips.example.org/?a=1", "https://x.org/#top"]
)
def test_a_malformed_public_url_fails_at_start_up_naming_it(public_url: str) -> None:
    with pytest.raises(ValueError, match="^IPS_PUBLIC_URL .*is malformed"):
        TwilioSmsNotifier.from_settings(
            load_settings({**ENVIRONMENT, "IPS_PUBLIC_URL": public_url})
        )
