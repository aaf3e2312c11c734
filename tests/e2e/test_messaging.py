"""Real messaging end to end: `ips up` in its own process, with test credentials
pointed at a local Twilio and a local SendGrid that hold every request to the
official contracts.

On the real clock, so the agency's policy file puts the reminder time and the
appointment offsets a few minutes ahead: a specialist reminder goes by SMS and
email, the consumer (who opted in by texting YES) gets an appointment text, a
signed status callback marks it delivered, and after a signed inbound STOP the
next appointment reminder is `skipped_no_consent`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from twilio.request_validator import RequestValidator
from typer.testing import CliRunner

from cli.main import app
from store import NotificationRecord, Store
from tests.cli.test_up import _free_port, _up_command, ips_up_running
from tests.notifiers.conftest import SENDGRID_TEST_KEY
from tests.notifiers.fake_sendgrid import FakeSendGrid
from tests.notifiers.fake_twilio import FakeTwilio, running_fake_twilio

TZ = "America/New_York"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fedcba9876543210" * 2
SERVICE_SID = "MG" + "89abcdef01234567" * 2
CONSUMER_PHONE = "+15555550123"
SPECIALIST_PHONE = "+15555550101"
# How long after start-up the first reminders are due: time enough to set up
# the team, the consent and the appointments first.
LEAD = timedelta(minutes=2)

T = TypeVar("T")


def _wait_for(what: str, check: Callable[[], T | None], timeout: float) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"gave up waiting for {what} after {timeout:.0f} s")


class Stack:
    def __init__(self, data_dir: Path, api_port: int, temporal_port: int, policy: Path) -> None:
        self.api = f"http://127.0.0.1:{api_port}"
        self.store = Store(f"sqlite:///{data_dir / 'ips.db'}")
        # The staff commands, as run beside `ips up` (the journeys they start
        # take the agency's policy file).
        self.env = {
            "IPS_DATABASE_URL": f"sqlite:///{data_dir / 'ips.db'}",
            "IPS_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
            "IPS_POLICY_FILE": str(policy),
            "IPS_TOKEN": "",
        }
        self.validator = RequestValidator(AUTH_TOKEN)

    def ips(self, *args: str) -> str:
        result = CliRunner().invoke(app, list(args), env=self.env)
        assert result.exit_code == 0, (args, result.output)
        return result.stdout

    def twilio_webhook(self, path_and_query: str, params: dict[str, str]) -> httpx.Response:
        """A request as Twilio sends it, signed over the public URL."""
        url = self.api + path_and_query
        signature = self.validator.compute_signature(url, params)
        return httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30)

    def notifications(self, **match: Any) -> list[NotificationRecord]:
        return [
            n
            for n in self.store.list_notifications("c-1")
            if all(getattr(n, k) == v for k, v in match.items())
        ]


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with running_fake_twilio() as server:
        yield server
        assert server.violations == [], "a request broke Twilio's contract"


@pytest.fixture
def fake_sendgrid() -> Iterator[FakeSendGrid]:
    fake = FakeSendGrid(SENDGRID_TEST_KEY).start()
    yield fake
    fake.stop()
    assert not fake.contract_errors, fake.contract_errors


def _clock(at: datetime) -> str:
    return f"{at:%H:%M}"


@pytest.mark.skipif(sys.platform != "linux", reason="runs `ips up` as on the agency's server")
@pytest.mark.timeout(600)
def test_ips_up_texts_and_emails_through_twilio_and_sendgrid_and_hears_back(
    tmp_path: Path, fake_twilio: FakeTwilio, fake_sendgrid: FakeSendGrid
) -> None:
    zone = ZoneInfo(TZ)
    now = datetime.now(zone).replace(second=0, microsecond=0)
    reminder_at = now + LEAD + timedelta(minutes=1)
    if reminder_at.date() != now.date():
        pytest.skip("too close to midnight in New York for a same-day reminder")
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: e2e\n"
        f'reminder_time: "{_clock(reminder_at)}"\n'
        "working_days: [mon, tue, wed, thu, fri, sat, sun]\n"
        # The first meeting's window opens today: its due_soon is today.
        "due_soon_days: 7\n"
        "appointment_reminder_offsets_hours: [1.0]\n"
        'sms_send_window_start: "00:00"\n'
        'sms_send_window_end: "24:00"\n'
        "appointment_reminder_min_lead_minutes: 5\n",
        encoding="utf-8",
    )
    api_port, temporal_port = _free_port(), _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IPS_")} | {
        "IPS_POLICY_FILE": str(policy),
        "IPS_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
        "IPS_SMS_SENDER_LABEL": "Wellspring Works",
        "IPS_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "IPS_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "IPS_TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
        "IPS_TWILIO_BASE_URL": fake_twilio.base_url,
        "IPS_SENDGRID_API_KEY": SENDGRID_TEST_KEY,
        "IPS_SENDGRID_FROM_EMAIL": "reminders@wellspring.example.org",
        "IPS_SENDGRID_HOST": fake_sendgrid.url,
    }
    data_dir = tmp_path / "var"
    stack = Stack(data_dir, api_port, temporal_port, policy)
    try:
        command = _up_command(data_dir, temporal_port, _free_port(), api_port)
        with ips_up_running(command, environment) as up:
            _run(stack, fake_twilio, fake_sendgrid, reminder_at)
    finally:
        stack.store.dispose()
    log = "".join(up.output)
    assert "Traceback" not in log
    # Privacy: no phone number or full name in what `ips up` logged.
    for secret in (CONSUMER_PHONE, SPECIALIST_PHONE, "Alex Smith", AUTH_TOKEN):
        assert secret not in log


def _run(
    stack: Stack,
    fake_twilio: FakeTwilio,
    fake_sendgrid: FakeSendGrid,
    reminder_at: datetime,
) -> None:
    ips = stack.ips
    ips(
        "people", "add", "supervisor", "--id", "sup-1", "--name", "Pat Kim",
        "--email", "pat@example.org", "--timezone", TZ,
    )  # fmt: skip
    ips(
        "people", "add", "specialist", "--id", "es-1", "--name", "Jordan Lee",
        "--email", "jordan@example.org", "--phone", SPECIALIST_PHONE,
        "--channels", "sms,email", "--timezone", TZ, "--supervisor", "sup-1",
    )  # fmt: skip
    ips(
        "people", "add", "consumer", "--id", "c-1", "--name", "Alex Smith",
        "--specialist", "es-1", "--phone", CONSUMER_PHONE, "--timezone", TZ,
    )  # fmt: skip
    ips("refer", "c-1")
    ips("event", "c-1", "sms_consent_recorded", "-f", "disclosure_version=v1")

    # The confirmation text asks for YES; the consumer answers.
    _wait_for("the opt-in confirmation text", lambda: len(fake_twilio.messages) == 1, 60)
    confirmation = fake_twilio.messages[0].form
    assert confirmation["To"] == CONSUMER_PHONE and "YES" in confirmation["Body"]
    answer = stack.twilio_webhook(
        "/webhooks/twilio/sms",
        {"MessageSid": "SM" + "1" * 32, "AccountSid": ACCOUNT_SID, "From": CONSUMER_PHONE,
         "To": "+15005550006", "Body": "Yes"},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    _wait_for(
        "the opt-in",
        lambda: (c := stack.store.get_consumer("c-1")) is not None and c.sms_consent == "opted_in",
        60,
    )

    # Two meetings: the first one's text goes with the specialist's reminder,
    # the second one's a minute later.
    for appointment_id, minutes in (("a-1", 60), ("a-2", 61)):
        start = (reminder_at + timedelta(minutes=minutes)).replace(tzinfo=None)
        ips(
            "event", "c-1", "appointment_scheduled", "-f", f"appointment_id={appointment_id}",
            "-f", f"start={start:%Y-%m-%dT%H:%M}", "-f", "duration_minutes=30",
            "-f", "place=Main St Library",
        )  # fmt: skip
    assert datetime.now(reminder_at.tzinfo) < reminder_at, "set-up took longer than LEAD"

    wait = (reminder_at - datetime.now(reminder_at.tzinfo)).total_seconds() + 90
    _wait_for("the 08:00-style reminders", lambda: len(fake_twilio.messages) >= 3, wait)
    _wait_for("the reminder email", lambda: fake_sendgrid.request_count >= 1, 60)
    texts = {m.form["To"]: m.form for m in fake_twilio.messages[1:]}
    assert set(texts) == {SPECIALIST_PHONE, CONSUMER_PHONE}
    assert "A.S. (c-1)" in texts[SPECIALIST_PHONE]["Body"]
    assert "Alex" not in texts[SPECIALIST_PHONE]["Body"]
    assert texts[CONSUMER_PHONE]["Body"].startswith("Reminder from Wellspring Works: meeting with")
    [email] = stack.notifications(channel="email")
    assert (email.status, email.kind, email.recipient_id) == ("sent", "due_soon", "es-1")

    # Twilio reports the text delivered, on the callback URL the text carried.
    [text] = stack.notifications(kind="appointment_reminder", status="sent")
    assert text.provider_id
    callback = urlsplit(texts[CONSUMER_PHONE]["StatusCallback"])
    assert callback.path == "/webhooks/twilio/status"
    params = {"MessageSid": text.provider_id, "MessageStatus": "delivered",
              "AccountSid": ACCOUNT_SID, "To": CONSUMER_PHONE}  # fmt: skip
    path = callback.path + (f"?{callback.query}" if callback.query else "")
    assert stack.twilio_webhook(path, params).status_code == 200
    # A forged one changes nothing.
    forged = httpx.post(
        stack.api + path,
        data=params | {"MessageStatus": "failed"},
        headers={"X-Twilio-Signature": "forged"},
        timeout=30,
    )
    assert forged.status_code == 403
    [delivered] = stack.notifications(idempotency_key=text.idempotency_key)
    assert delivered.status == "delivered"
    assert dict(parse_qsl(callback.query)).keys() <= {"key"}

    # STOP, before the second meeting's reminder is due.
    stop = stack.twilio_webhook(
        "/webhooks/twilio/sms",
        {"MessageSid": "SM" + "2" * 32, "AccountSid": ACCOUNT_SID, "From": CONSUMER_PHONE,
         "To": "+15005550006", "Body": " stop "},
    )  # fmt: skip
    assert stop.status_code == 200
    assert datetime.now(reminder_at.tzinfo) < reminder_at + timedelta(minutes=1), (
        "the STOP came after the second reminder was due"
    )
    consumer = stack.store.get_consumer("c-1")
    assert consumer is not None and consumer.sms_consent == "opted_out"

    [skipped] = _wait_for(
        "the second appointment reminder",
        lambda: stack.notifications(kind="appointment_reminder", status="skipped_no_consent"),
        200,
    )
    assert skipped.send_at == reminder_at + timedelta(minutes=1)
    assert len(fake_twilio.messages) == 3  # nothing more went to Twilio
    changes = [
        (c.state, c.source, c.disclosure_version) for c in stack.store.list_consent_changes("c-1")
    ]
    assert changes == [
        ("pending", "staff", "v1"),
        ("opted_in", "sms:YES", "v1"),
        ("opted_out", "sms:STOP", "v1"),
    ]
