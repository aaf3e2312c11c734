"""The worker's notifier: each channel goes to its provider when configured,
else it is only logged; a malformed setting stops start-up."""

import logging

import pytest

from config import load_settings
from notifiers import OutgoingMessage
from notifiers.console import ConsoleNotifier
from notifiers.router import ChannelRouter, notifier_from_settings
from tests.notifiers.conftest import SENDGRID_TEST_KEY
from tests.notifiers.fake_sendgrid import FakeSendGrid
from tests.notifiers.fake_twilio import running_fake_twilio

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fedcba9876543210" * 2
SERVICE_SID = "MG" + "89abcdef01234567" * 2

SMS = OutgoingMessage(channel="sms", to="+15555550101", body="Due today", idempotency_key="k1")
EMAIL = OutgoingMessage(
    channel="email",
    to="jordan@example.org",
    body="Due today",
    subject="Due today",
    idempotency_key="k2",
)


def test_each_channel_reaches_its_provider(fake_sendgrid: FakeSendGrid) -> None:
    with running_fake_twilio() as twilio:
        notifier = notifier_from_settings(
            load_settings(
                {
                    "IPS_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                    "IPS_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                    "IPS_TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
                    "IPS_TWILIO_BASE_URL": twilio.base_url,
                    "IPS_SENDGRID_API_KEY": SENDGRID_TEST_KEY,
                    "IPS_SENDGRID_FROM_EMAIL": "reminders@example.org",
                    "IPS_SENDGRID_HOST": fake_sendgrid.url,
                }
            )
        )
        sms = notifier.send(SMS)
        email = notifier.send(EMAIL)
        assert len(twilio.requests) == 1
    assert sms.provider_id is not None and sms.provider_id.startswith("SM")
    assert fake_sendgrid.request_count == 1
    assert email.provider_id == fake_sendgrid.message_ids[0]


def test_without_settings_messages_are_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ips.notifiers"):
        notifier = notifier_from_settings(load_settings({}))
    assert isinstance(notifier, ChannelRouter)
    assert "text messages are logged, not sent" in caplog.text
    assert "emails are logged, not sent" in caplog.text
    assert notifier.send(SMS).provider_id == "recorded-1"


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"IPS_TWILIO_ACCOUNT_SID": "ACnope", "IPS_TWILIO_AUTH_TOKEN": AUTH_TOKEN},
         "IPS_TWILIO_ACCOUNT_SID"),
        ({"IPS_TWILIO_ACCOUNT_SID": ACCOUNT_SID}, "IPS_TWILIO_AUTH_TOKEN"),
        ({"IPS_SENDGRID_API_KEY": SENDGRID_TEST_KEY}, "IPS_SENDGRID_FROM_EMAIL"),
        ({"IPS_SENDGRID_API_KEY": "not-a-key", "IPS_SENDGRID_FROM_EMAIL": "a@example.org"},
         "IPS_SENDGRID_API_KEY"),
    ],
)  # fmt: skip
def test_a_malformed_setting_is_named(settings: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        notifier_from_settings(load_settings(settings))


def test_console_fallback_records_without_sending() -> None:
    console = ConsoleNotifier()
    router = ChannelRouter({}, console)
    router.send(EMAIL)
    assert [m.idempotency_key for m in console.sent] == ["k2"]


def test_a_chosen_provider_without_its_credentials_stops_start_up() -> None:
    with pytest.raises(ValueError, match="^IPS_SMS_NOTIFIER is twilio, but IPS_TWILIO_ACCOUNT_SID"):
        notifier_from_settings(load_settings({"IPS_SMS_NOTIFIER": "twilio"}))
    with pytest.raises(ValueError, match="^IPS_EMAIL_NOTIFIER is sendgrid, but IPS_SENDGRID_API"):
        notifier_from_settings(load_settings({"IPS_EMAIL_NOTIFIER": "sendgrid"}))


def test_the_console_chosen_logs_even_with_credentials_set(
    fake_sendgrid: FakeSendGrid, caplog: pytest.LogCaptureFixture
) -> None:
    with running_fake_twilio() as twilio, caplog.at_level(logging.WARNING, "ips.notifiers"):
        notifier = notifier_from_settings(
            load_settings(
                {
                    "IPS_SMS_NOTIFIER": "console",
                    "IPS_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                    "IPS_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                    "IPS_TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
                    "IPS_TWILIO_BASE_URL": twilio.base_url,
                    "IPS_EMAIL_NOTIFIER": "console",
                    "IPS_SENDGRID_API_KEY": SENDGRID_TEST_KEY,
                    "IPS_SENDGRID_FROM_EMAIL": "reminders@example.org",
                    "IPS_SENDGRID_HOST": fake_sendgrid.url,
                }
            )
        )
        assert notifier.send(SMS).provider_id == "recorded-1"
        assert notifier.send(EMAIL).provider_id == "recorded-2"
        assert twilio.requests == []
    assert fake_sendgrid.request_count == 0
    assert "IPS_SMS_NOTIFIER is console: text messages are logged, not sent" in caplog.text
    assert "IPS_EMAIL_NOTIFIER is console: emails are logged, not sent" in caplog.text
