"""Stop the Temporal dev server and start it again on the same SQLite file: the
journeys are there with the state they had, their timers fire, the reminders
that fell due while it was down go out late but once, and events are applied.

On the real clock, as the agency runs it: `temporal server start-dev
--db-filename`, `python worker.py` in its own process (texts to a fake Twilio,
emails to a fake SendGrid), and staff commands (`ips refer`, `ips event`,
`ips show`). A policy file puts the journeys' first reminders a minute or so
ahead. The worker is never restarted: it must find the server again itself.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.test_messaging import Stack
from tests.faults.infra import (
    DevServer,
    WorkerProcess,
    check_delivered_once,
    clean_env,
    free_port,
    provider_env,
    wait_for,
)
from tests.notifiers.fake_sendgrid import FakeSendGrid
from tests.notifiers.fake_twilio import FakeTwilio
from workflows.journey import ConsumerJourney

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="signals the servers as on the agency's"),
    pytest.mark.timeout(180),
]

TZ = "America/New_York"
SPECIALIST_PHONE = "+15555550101"
CONSUMER_PHONE = "+15555550123"
CONSUMERS = ("c-1", "c-2", "c-3")
JOURNEYS = {f"journey-{c}" for c in CONSUMERS}
# Time enough between the referrals and the reminders to look at the journeys
# and stop the server.
LEAD = timedelta(seconds=20)
# How long after the reminders were due, or the server came back, they must
# have gone out.
DELIVERY_TIMEOUT = 60


@dataclass
class Agency:
    """The agency's stack, one specialist (texts and emails) and three consumers."""

    stack: Stack
    server: DevServer
    worker: WorkerProcess
    twilio: FakeTwilio
    sendgrid: FakeSendGrid
    policy: Path
    zone = ZoneInfo(TZ)

    def now(self) -> datetime:
        return datetime.now(self.zone)

    def ips(self, *args: str) -> str:
        return self.stack.ips(*args)

    def refer_all(self) -> datetime:
        """Refer every consumer with a policy that makes their first meeting's
        reminder due at the next whole minute at least LEAD ahead; that minute."""
        now = self.now()
        due = (now + LEAD + timedelta(minutes=1)).replace(second=0, microsecond=0)
        if due.date() != now.date():
            pytest.skip("too close to midnight in New York for same-day reminders")
        self.policy.write_text(
            "version: faults\n"
            f'reminder_time: "{due:%H:%M}"\n'
            "working_days: [mon, tue, wed, thu, fri, sat, sun]\n"
            # The first meeting's window opens today: its due_soon is today.
            "due_soon_days: 7\n"
            'sms_send_window_start: "00:00"\n'
            'sms_send_window_end: "24:00"\n',
            encoding="utf-8",
        )
        # The journeys take the agency's policy file as it is when they start.
        self.stack.env["IPS_POLICY_FILE"] = str(self.policy)
        for consumer_id in CONSUMERS:
            self.ips("refer", consumer_id)
        return due

    def journeys(self) -> dict[str, Any]:
        """What `ips show --json` says of each journey."""
        return {c: json.loads(self.ips("show", c, "--json")) for c in CONSUMERS}

    def running_journeys(self) -> set[str]:
        """The journeys Temporal lists as running, once it lists them all (its
        list lags a little behind)."""

        async def listed() -> set[str]:
            client = await self.server.connect()
            query = f"WorkflowType = '{ConsumerJourney.__name__}' AND ExecutionStatus = 'Running'"
            return {w.id async for w in client.list_workflows(query)}

        running: set[str] = set()
        for _ in range(50):
            running = asyncio.run(listed())
            if running >= JOURNEYS:
                break
            time.sleep(0.2)
        return running

    def reminder_texts(self, consumer_id: str) -> list[str]:
        return [
            m.form["Body"]
            for m in self.twilio.messages
            if m.form["To"] == SPECIALIST_PHONE and f"({consumer_id})" in m.form["Body"]
        ]

    def reminder_emails(self, consumer_id: str) -> list[Any]:
        return [
            r.body
            for r in self.sendgrid.requests
            if r.body and f"({consumer_id})" in json.dumps(r.body.get("subject", ""))
        ]

    def reminded(self, consumer_id: str) -> bool:
        return bool(self.reminder_texts(consumer_id) and self.reminder_emails(consumer_id))

    def wait_for_reminders(self, timeout: float) -> None:
        for consumer_id in CONSUMERS:
            wait_for(f"{consumer_id}'s reminder", partial(self.reminded, consumer_id), timeout)

    def check_each_reminder_went_once(self) -> None:
        time.sleep(2)  # time for a second copy, were one on its way
        for consumer_id in CONSUMERS:
            assert len(self.reminder_texts(consumer_id)) == 1, consumer_id
            assert len(self.reminder_emails(consumer_id)) == 1, consumer_id
            sent = [
                (n.kind, n.channel, n.status)
                for n in self.stack.store.list_notifications(consumer_id)
                if n.recipient_id == "es-1"
            ]
            assert sorted(sent) == [("due_soon", "email", "sent"), ("due_soon", "sms", "sent")]
        check_delivered_once(self.stack.store.list_notifications(), self.twilio, self.sendgrid)


@pytest.fixture
def agency(
    tmp_path: Path, fake_twilio: FakeTwilio, fake_sendgrid: FakeSendGrid
) -> Iterator[Agency]:
    server = DevServer(tmp_path / "temporal.db", tmp_path / "temporal.log")
    api_port = free_port()
    stack = Stack(tmp_path / "var", api_port, server.port, tmp_path / "policy.yaml")
    stack.env["IPS_POLICY_FILE"] = ""  # written once the reminder time is known
    worker_env = (
        clean_env()
        | provider_env(fake_twilio, fake_sendgrid, f"http://127.0.0.1:{api_port}")
        | {
            "IPS_DATABASE_URL": stack.env["IPS_DATABASE_URL"],
            "IPS_TEMPORAL_ADDRESS": server.address,
        }
    )
    try:
        with server.running(), WorkerProcess(worker_env).running() as worker:
            agency = Agency(
                stack, server, worker, fake_twilio, fake_sendgrid, tmp_path / "policy.yaml"
            )
            agency.ips(
                "people", "add", "specialist", "--id", "es-1", "--name", "Jordan Lee",
                "--email", "jordan@example.org", "--phone", SPECIALIST_PHONE,
                "--channels", "sms,email", "--timezone", TZ,
            )  # fmt: skip
            for consumer_id in CONSUMERS:
                agency.ips(
                    "people", "add", "consumer", "--id", consumer_id, "--name", "Alex Smith",
                    "--specialist", "es-1", "--phone", CONSUMER_PHONE, "--timezone", TZ,
                )  # fmt: skip
            yield agency
            assert worker.alive, f"the worker stopped:\n{worker.log}"
    finally:
        stack.store.dispose()
    assert "Traceback" not in worker.log, worker.log


def _sleep_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(moment.tzinfo)).total_seconds()))


def test_reminders_due_while_temporal_was_stopped_go_out_once_it_is_back(agency: Agency) -> None:
    due = agency.refer_all()
    assert agency.running_journeys() == JOURNEYS
    before = agency.journeys()
    assert agency.now() < due - timedelta(seconds=3), "the referrals took longer than LEAD"

    # Down (politely: SIGTERM) across the moment the reminders are due.
    _sleep_until(due - timedelta(seconds=2))
    agency.server.stop(signal.SIGTERM)
    _sleep_until(due + timedelta(seconds=3))
    assert agency.twilio.messages == [], "a reminder went out with Temporal down"
    assert agency.worker.alive, f"the worker died when Temporal went away:\n{agency.worker.log}"
    agency.server.start()

    assert agency.running_journeys() == JOURNEYS
    agency.wait_for_reminders(DELIVERY_TIMEOUT)
    # The journeys are where they were: a reminder changes no due contact.
    assert agency.journeys() == before
    # An event after the restart is applied: the consumer is asked to opt in.
    agency.ips("event", "c-1", "sms_consent_recorded", "-f", "disclosure_version=v1")
    wait_for(
        "the opt-in confirmation text",
        lambda: [m for m in agency.twilio.messages if m.form["To"] == CONSUMER_PHONE],
        DELIVERY_TIMEOUT,
    )
    consumer = agency.stack.store.get_consumer("c-1")
    assert consumer is not None and consumer.sms_consent == "pending"
    agency.check_each_reminder_went_once()
    assert len([m for m in agency.twilio.messages if m.form["To"] == CONSUMER_PHONE]) == 1


def test_timers_set_before_temporal_was_killed_fire_after_it_is_back(agency: Agency) -> None:
    due = agency.refer_all()
    before = agency.journeys()

    # Killed (SIGKILL: no shutdown at all), and started again before anything is due.
    agency.server.stop(signal.SIGKILL)
    time.sleep(2)
    assert agency.worker.alive, f"the worker died when Temporal was killed:\n{agency.worker.log}"
    agency.server.start()
    assert agency.now() < due, "the restart took longer than LEAD"

    assert agency.running_journeys() == JOURNEYS
    assert agency.journeys() == before
    assert agency.twilio.messages == [] and agency.sendgrid.request_count == 0
    agency.wait_for_reminders((due - agency.now()).total_seconds() + DELIVERY_TIMEOUT)
    # An event after the restart is applied.
    agency.ips("event", "c-2", "first_meeting")
    shown = json.loads(agency.ips("show", "c-2", "--json"))
    assert [e["type"] for e in shown["recent_events"]] == ["referred", "first_meeting"]
    assert shown != before["c-2"]
    agency.check_each_reminder_went_once()
