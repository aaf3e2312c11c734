"""Stop the Temporal dev server and start it again on the same SQLite file: the
journeys are there with the state they had, their timers fire, the reminders
that fell due while it was down go out late but once, and events are applied.

On the real clock, as the agency runs it: `temporal server start-dev
--db-filename`, `python worker.py` in its own process (texts to a fake Twilio,
emails to a fake SendGrid), and staff commands (`ips refer`, `ips event`,
`ips show`). A policy file puts the reminders a minute or two ahead:

- c-1, c-2, c-3 are due at `first`, which falls while the server is down
  (stopped with SIGTERM): they go out once it is back;
- c-4, c-5 are due a minute later, after a second restart (this time the server
  is killed with SIGKILL).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
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

TZ = "America/New_York"
SPECIALIST_PHONE = "+15555550101"
CONSUMER_PHONE = "+15555550123"
DUE_WHILE_DOWN = ("c-1", "c-2", "c-3")
DUE_AFTER_RESTART = ("c-4", "c-5")
CONSUMERS = DUE_WHILE_DOWN + DUE_AFTER_RESTART
# Time enough between start-up and the first reminders to refer everyone and
# look at their journeys.
LEAD = timedelta(seconds=20)
# How long after the reminders were due they must have gone out.
DELIVERY_TIMEOUT = 60


def _policy(path: Path, reminder_at: datetime) -> Path:
    path.write_text(
        "version: faults\n"
        f'reminder_time: "{reminder_at:%H:%M}"\n'
        "working_days: [mon, tue, wed, thu, fri, sat, sun]\n"
        # The first meeting's window opens today: its due_soon is today.
        "due_soon_days: 7\n"
        'sms_send_window_start: "00:00"\n'
        'sms_send_window_end: "24:00"\n',
        encoding="utf-8",
    )
    return path


def _sleep_until(moment: datetime) -> None:
    delay = (moment - datetime.now(moment.tzinfo)).total_seconds()
    if delay > 0:
        time.sleep(delay)


def _reminder_texts(twilio: FakeTwilio, consumer_id: str) -> list[str]:
    return [
        m.form["Body"]
        for m in twilio.messages
        if m.form["To"] == SPECIALIST_PHONE and f"({consumer_id})" in m.form["Body"]
    ]


def _reminder_emails(sendgrid: FakeSendGrid, consumer_id: str) -> list[Any]:
    return [
        r.body
        for r in sendgrid.requests
        if r.body and f"({consumer_id})" in json.dumps(r.body.get("subject", ""))
    ]


def _reminded(twilio: FakeTwilio, sendgrid: FakeSendGrid, consumer_id: str) -> bool:
    return bool(_reminder_texts(twilio, consumer_id) and _reminder_emails(sendgrid, consumer_id))


def _running_journeys(server: DevServer) -> set[str]:
    async def listed() -> set[str]:
        client = await server.connect()
        query = f"WorkflowType = '{ConsumerJourney.__name__}' AND ExecutionStatus = 'Running'"
        return {w.id async for w in client.list_workflows(query)}

    return asyncio.run(listed())


@pytest.mark.skipif(sys.platform != "linux", reason="signals the servers as on the agency's")
@pytest.mark.timeout(240)
def test_journeys_timers_and_reminders_survive_a_temporal_restart(
    tmp_path: Path, fake_twilio: FakeTwilio, fake_sendgrid: FakeSendGrid
) -> None:
    zone = ZoneInfo(TZ)
    server = DevServer(tmp_path / "temporal.db", tmp_path / "temporal.log")
    data_dir = tmp_path / "var"
    api_port = free_port()
    stack = Stack(data_dir, api_port, server.port, tmp_path / "policy-first.yaml")
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
            _run(stack, server, worker, zone, tmp_path, fake_twilio, fake_sendgrid)
            assert worker.alive, worker.log
    finally:
        stack.store.dispose()
    assert "Traceback" not in worker.log, worker.log


def _run(
    stack: Stack,
    server: DevServer,
    worker: WorkerProcess,
    zone: ZoneInfo,
    tmp_path: Path,
    twilio: FakeTwilio,
    sendgrid: FakeSendGrid,
) -> None:
    ips = stack.ips
    stack.env["IPS_POLICY_FILE"] = ""  # written once the reminder times are known
    ips(
        "people", "add", "specialist", "--id", "es-1", "--name", "Jordan Lee",
        "--email", "jordan@example.org", "--phone", SPECIALIST_PHONE,
        "--channels", "sms,email", "--timezone", TZ,
    )  # fmt: skip
    for consumer_id in CONSUMERS:
        ips(
            "people", "add", "consumer", "--id", consumer_id, "--name", "Alex Smith",
            "--specialist", "es-1", "--phone", CONSUMER_PHONE, "--timezone", TZ,
        )  # fmt: skip

    now = datetime.now(zone)
    first = (now + LEAD + timedelta(minutes=1)).replace(second=0, microsecond=0)
    second = first + timedelta(minutes=1)
    if second.date() != now.date():
        pytest.skip("too close to midnight in New York for same-day reminders")
    policies = {
        first: _policy(tmp_path / "policy-first.yaml", first),
        second: _policy(tmp_path / "policy-second.yaml", second),
    }
    for due, consumers in ((first, DUE_WHILE_DOWN), (second, DUE_AFTER_RESTART)):
        # The journey takes the agency's policy file as it is when it starts.
        stack.env["IPS_POLICY_FILE"] = str(policies[due])
        for consumer_id in consumers:
            ips("refer", consumer_id)
    journeys = {f"journey-{c}" for c in CONSUMERS}
    assert _running_journeys(server) == journeys
    before = {c: json.loads(ips("show", c, "--json")) for c in CONSUMERS}
    assert datetime.now(zone) < first - timedelta(seconds=3), "set-up took longer than LEAD"
    assert twilio.messages == [] and sendgrid.request_count == 0

    # Down (politely) across the moment c-1..c-3 are due.
    _sleep_until(first - timedelta(seconds=2))
    server.stop(signal.SIGTERM)
    _sleep_until(first + timedelta(seconds=3))
    assert twilio.messages == [], "a reminder went out with Temporal down"
    assert worker.alive, f"the worker died when Temporal went away:\n{worker.log}"
    server.start()

    assert _running_journeys(server) == journeys
    for consumer_id in DUE_WHILE_DOWN:
        wait_for(
            f"{consumer_id}'s reminder, due while Temporal was down",
            partial(_reminded, twilio, sendgrid, consumer_id),
            DELIVERY_TIMEOUT,
        )
    # An event after the restart is applied: the consumer is asked to opt in.
    ips("event", "c-1", "sms_consent_recorded", "-f", "disclosure_version=v1")
    wait_for(
        "the opt-in confirmation text",
        lambda: [m for m in twilio.messages if m.form["To"] == CONSUMER_PHONE],
        DELIVERY_TIMEOUT,
    )
    assert stack.store.get_consumer("c-1").sms_consent == "pending"  # type: ignore[union-attr]

    # Killed, and started again before c-4 and c-5 are due.
    assert datetime.now(zone) < second - timedelta(seconds=15), "the first restart took too long"
    server.stop(signal.SIGKILL)
    time.sleep(2)
    assert worker.alive, f"the worker died when Temporal was killed:\n{worker.log}"
    server.start()
    assert _running_journeys(server) == journeys
    after = {c: json.loads(ips("show", c, "--json")) for c in DUE_AFTER_RESTART}
    assert after == {c: before[c] for c in DUE_AFTER_RESTART}
    assert all(_reminder_texts(twilio, c) == [] for c in DUE_AFTER_RESTART)

    for consumer_id in DUE_AFTER_RESTART:
        wait_for(
            f"{consumer_id}'s reminder, due after Temporal came back",
            partial(_reminded, twilio, sendgrid, consumer_id),
            (second - datetime.now(zone)).total_seconds() + DELIVERY_TIMEOUT,
        )
    ips("event", "c-4", "first_meeting")
    c4 = json.loads(ips("show", "c-4", "--json"))
    assert [e["type"] for e in c4["recent_events"]] == ["referred", "first_meeting"]

    # Each reminder went once, by SMS and by email; the rows say so.
    time.sleep(2)
    for consumer_id in CONSUMERS:
        assert len(_reminder_texts(twilio, consumer_id)) == 1, consumer_id
        assert len(_reminder_emails(sendgrid, consumer_id)) == 1, consumer_id
        sent = [
            (n.kind, n.channel, n.status)
            for n in stack.store.list_notifications(consumer_id)
            if n.recipient_id == "es-1"
        ]
        assert sorted(sent) == [("due_soon", "email", "sent"), ("due_soon", "sms", "sent")]
    assert len([m for m in twilio.messages if m.form["To"] == CONSUMER_PHONE]) == 1
    check_delivered_once(stack.store.list_notifications(), twilio, sendgrid)
