"""SendGrid email through the real SDK, against a local SendGrid holding it to the contract."""

import logging
import socket
from typing import Any

import pytest
from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from notifiers.base import NotifierError, OutgoingMessage
from notifiers.sendgrid_email import SendGridEmailNotifier, SendGridError
from tests.notifiers.conftest import SENDGRID_TEST_KEY
from tests.notifiers.fake_sendgrid import FakeSendGrid

TO = "dana.reyes@agency.example"
SUBJECT = "Due today: J.R. (case 1042), monthly follow-along"
BODY = "J.R. (case 1042) is due a follow-along contact today.\nhttps://ips.example/consumers/1042"
KEY = "due/1042/follow_along/3/due_today/specialist/email"
FROM = "reminders@agency.example"


def email(**changes: Any) -> OutgoingMessage:
    fields: dict[str, Any] = {
        "channel": "email",
        "to": TO,
        "subject": SUBJECT,
        "body": BODY,
        "idempotency_key": KEY,
    }
    return OutgoingMessage(**(fields | changes))


def notifier(fake: FakeSendGrid, **settings: Any) -> SendGridEmailNotifier:
    return SendGridEmailNotifier(
        SENDGRID_TEST_KEY,
        **({"from_email": FROM, "from_name": "Your employment team", "host": fake.url} | settings),
    )


def assert_private(err: BaseException) -> None:
    text = str(err)
    for secret in (TO, "dana", SUBJECT, "J.R.", BODY, "follow-along contact"):
        assert secret not in text
    assert KEY in text or "not a" in text


# ---------------------------------------------------------------- sending


def test_an_email_reaches_sendgrid_with_recipient_subject_body_sender_and_key(
    fake_sendgrid: FakeSendGrid,
) -> None:
    delivery = notifier(fake_sendgrid).send(email())

    assert fake_sendgrid.request_count == 1
    assert fake_sendgrid.contract_errors == []
    request = fake_sendgrid.requests[0]
    assert (request.method, request.path) == ("POST", "/v3/mail/send")
    assert request.headers["Authorization"] == f"Bearer {SENDGRID_TEST_KEY}"
    assert request.body["from"] == {"email": FROM, "name": "Your employment team"}
    assert request.body["subject"] == SUBJECT
    assert request.body["content"] == [{"type": "text/plain", "value": BODY}]
    assert request.body["personalizations"] == [
        {"to": [{"email": TO}], "custom_args": {"idempotency_key": KEY}}
    ]
    assert delivery.provider_id == fake_sendgrid.message_ids[0]
    assert delivery.status == "sent"


def test_the_sender_name_is_optional(fake_sendgrid: FakeSendGrid) -> None:
    notifier(fake_sendgrid, from_name=None).send(email())

    assert fake_sendgrid.requests[0].body["from"] == {"email": FROM}


def test_each_email_gets_its_own_sendgrid_message_id(fake_sendgrid: FakeSendGrid) -> None:
    sender = notifier(fake_sendgrid)

    first = sender.send(email())
    second = sender.send(email(idempotency_key=KEY.replace("due_today", "overdue")))

    assert [first.provider_id, second.provider_id] == fake_sendgrid.message_ids
    assert first.provider_id != second.provider_id


def test_the_sdk_logs_no_address_body_or_key_even_at_debug(
    fake_sendgrid: FakeSendGrid, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    notifier(fake_sendgrid).send(email())

    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (TO, BODY, SUBJECT, SENDGRID_TEST_KEY):
        assert secret not in logged


# ---------------------------------------------------------------- the contract check


@pytest.mark.parametrize(
    ("request_body", "headers", "complaint"),
    [
        pytest.param(
            {
                "from": {"email": FROM},
                "subject": SUBJECT,
                "content": [{"type": "text/plain", "value": BODY}],
            },
            None,
            "'personalizations' is a required property",
            id="no personalizations",
        ),
        pytest.param(
            {"personalizations": [{"to": [{"email": TO}]}], "subject": SUBJECT},
            None,
            "'from' is a required property",
            id="no sender",
        ),
        pytest.param(
            {
                "from": {"email": FROM},
                "personalizations": [{"to": [{"email": TO}]}],
                "custom_args": {"idempotency_key": KEY},
            },
            None,
            "is not of type 'string'",
            id="message-level custom_args as an object",
        ),
        pytest.param(
            {"from": {"email": FROM}, "personalizations": [{"to": [{"email": TO}]}]},
            {"Authorization": f"Token {SENDGRID_TEST_KEY}"},
            "Security",
            id="not a Bearer token",
        ),
    ],
)
def test_a_request_the_official_contract_rejects_is_refused_and_recorded(
    fake_sendgrid: FakeSendGrid,
    request_body: dict[str, Any],
    headers: dict[str, str] | None,
    complaint: str,
) -> None:
    client = SendGridAPIClient(SENDGRID_TEST_KEY, host=fake_sendgrid.url)

    with pytest.raises(HTTPError) as refused:
        client.client.mail.send.post(request_body=request_body, request_headers=headers)

    assert refused.value.status_code == 400
    errors = fake_sendgrid.take_contract_errors()
    assert len(errors) == 1
    assert complaint in errors[0]
    assert fake_sendgrid.message_ids == []


def test_a_path_the_contract_does_not_have_is_refused(fake_sendgrid: FakeSendGrid) -> None:
    client = SendGridAPIClient(SENDGRID_TEST_KEY, host=fake_sendgrid.url)

    with pytest.raises(HTTPError):
        client.client.mail.sent.post(request_body={"from": {"email": FROM}})

    assert "PathNotFound" in fake_sendgrid.take_contract_errors()[0]


def test_a_wrong_key_is_answered_401_and_not_retried(fake_sendgrid: FakeSendGrid) -> None:
    other_key = "SG.another-key-id.another-secret-value"
    sender = SendGridEmailNotifier(other_key, from_email=FROM, host=fake_sendgrid.url)

    with pytest.raises(SendGridError) as failed:
        sender.send(email())

    assert (failed.value.status, failed.value.retryable) == (401, False)
    assert other_key not in str(failed.value)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_a_request_that_cannot_succeed_is_not_retried(
    fake_sendgrid: FakeSendGrid, status: int
) -> None:
    fake_sendgrid.fail_next(status)

    with pytest.raises(SendGridError) as failed:
        notifier(fake_sendgrid).send(email())

    assert isinstance(failed.value, NotifierError)
    assert (failed.value.status, failed.value.retryable) == (status, False)
    assert f"HTTP {status}" in str(failed.value)
    assert_private(failed.value)
    assert fake_sendgrid.request_count == 1


def test_a_400_names_the_field_sendgrid_refused_but_not_its_value(
    fake_sendgrid: FakeSendGrid,
) -> None:
    fake_sendgrid.fail_next(
        400,
        errors=[
            {
                "message": f"The to email {TO} does not contain a valid address.",
                "field": "personalizations.0.to.0.email",
            }
        ],
    )

    with pytest.raises(SendGridError) as failed:
        notifier(fake_sendgrid).send(email())

    assert "personalizations.0.to.0.email" in str(failed.value)
    assert_private(failed.value)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_retryable_and_a_retry_goes_through(
    fake_sendgrid: FakeSendGrid, status: int
) -> None:
    sender = notifier(fake_sendgrid)
    fake_sendgrid.fail_next(status)

    with pytest.raises(SendGridError) as failed:
        sender.send(email())
    delivery = sender.send(email())

    assert (failed.value.status, failed.value.retryable) == (status, True)
    assert_private(failed.value)
    assert delivery.provider_id == fake_sendgrid.message_ids[0]
    assert fake_sendgrid.request_count == 2


def test_no_answer_in_time_is_retryable(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.delay_next(5)

    with pytest.raises(SendGridError) as failed:
        notifier(fake_sendgrid, timeout=0.3).send(email())

    assert (failed.value.status, failed.value.retryable) == (None, True)
    assert "in time" in str(failed.value)
    assert_private(failed.value)


def test_an_unreachable_sendgrid_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = SendGridEmailNotifier(
        SENDGRID_TEST_KEY, from_email=FROM, host=f"http://127.0.0.1:{port}"
    )

    with pytest.raises(SendGridError) as failed:
        sender.send(email())

    assert (failed.value.status, failed.value.retryable) == (None, True)
    assert_private(failed.value)


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"subject": None}, "no subject"),
        ({"subject": ""}, "no subject"),
        ({"body": ""}, "no body"),
        ({"to": "dana.reyes at agency"}, "not an address"),
        ({"channel": "sms", "to": "+15555550100"}, "email only"),
    ],
)
def test_an_email_sendgrid_would_refuse_is_failed_without_a_request(
    fake_sendgrid: FakeSendGrid, changes: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(SendGridError) as failed:
        notifier(fake_sendgrid).send(email(**changes))

    assert failed.value.retryable is False
    assert complaint in str(failed.value)
    assert KEY in str(failed.value)
    assert "dana" not in str(failed.value)
    assert fake_sendgrid.request_count == 0


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize(
    "api_key",
    [
        "",
        "not-a-key",
        "SG.only-two-parts",
        "SG.a.b.c",
        "SG..secret",
        " SG.key-id.secret",
        "SG.key-id.secret\n",
        "sg.key-id.secret",
        "AC0123456789abcdef0123456789abcdef",
    ],
)
def test_a_malformed_api_key_fails_at_start_up_naming_the_setting(api_key: str) -> None:
    with pytest.raises(ValueError, match="IPS_SENDGRID_API_KEY") as refused:
        SendGridEmailNotifier(api_key, from_email=FROM)

    if api_key.strip():
        assert api_key.strip() not in str(refused.value)


@pytest.mark.parametrize(
    "from_email",
    ["", "reminders", "reminders@agency", "Team <reminders@agency.example>", "a b@agency.example"],
)
def test_a_malformed_sender_fails_at_start_up_naming_the_setting(from_email: str) -> None:
    with pytest.raises(ValueError, match="IPS_SENDGRID_FROM_EMAIL"):
        SendGridEmailNotifier(SENDGRID_TEST_KEY, from_email=from_email)


def test_a_blank_sender_name_fails_at_start_up_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="IPS_SENDGRID_FROM_NAME"):
        SendGridEmailNotifier(SENDGRID_TEST_KEY, from_email=FROM, from_name="  ")


@pytest.mark.parametrize("host", ["api.sendgrid.com", "ftp://api.sendgrid.com", "https://"])
def test_a_malformed_host_fails_at_start_up_naming_the_setting(host: str) -> None:
    with pytest.raises(ValueError, match="IPS_SENDGRID_HOST"):
        SendGridEmailNotifier(SENDGRID_TEST_KEY, from_email=FROM, host=host)


def test_well_formed_settings_are_accepted_and_default_to_sendgrids_own_host() -> None:
    sender = SendGridEmailNotifier(
        "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", from_email=FROM
    )

    assert sender._client.host == "https://api.sendgrid.com"
