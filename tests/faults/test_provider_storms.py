"""Twilio and SendGrid storms of 500s then 429s: after they recover, every
reminder is delivered exactly once, and the retries backed off.

The worker runs in this process on a real Temporal dev server and the real
clock, with the real `twilio` and `sendgrid` SDKs against the local fakes.
Twelve specialists (six by text, six by email) have reminders due at one
moment; from the first request each provider answers 500 for a few seconds,
then 429 (Twilio's error 20429, SendGrid's rate limit) for a few more, then
takes everything. Temporal's retry policy for the journeys' activities starts
at 1 second and doubles.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from activities.journey import AgencySettings, JourneyActivities
from notifiers.console import ConsoleNotifier
from notifiers.router import ChannelRouter
from notifiers.sendgrid_email import IDEMPOTENCY_ARG, SendGridEmailNotifier
from notifiers.twilio_sms import TwilioSmsNotifier
from store import Store
from tests.e2e.test_messaging import ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID
from tests.faults.stack import (
    add_team,
    callback_key,
    refer_all,
    reminder_moment,
    reminder_policy,
    reminders_due,
    until,
)
from tests.notifiers.conftest import SENDGRID_TEST_KEY
from tests.notifiers.fake_sendgrid import FakeSendGrid
from tests.notifiers.fake_twilio import FakeTwilio
from tests.notifiers.outage import Phase
from worker import build_worker

CONSUMERS = 12
LEAD = timedelta(seconds=10)
STORM = (Phase(500, seconds=3.0), Phase(429, seconds=3.0, code=20429))
# Temporal's backoff: the k-th retry comes at least 2**(k-1) seconds after the
# attempt before it (less a little for timer precision). Load only adds to it.
FIRST_INTERVAL = 1.0
SLACK = 0.9


@pytest.mark.timeout(240)
async def test_after_500_and_429_storms_every_reminder_is_delivered_once_with_backoff(
    tmp_path: Path,
    local_env: WorkflowEnvironment,
    fake_twilio: FakeTwilio,
    fake_sendgrid: FakeSendGrid,
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'ips.db'}")
    store.upgrade()
    notifier = ChannelRouter(
        {
            "sms": TwilioSmsNotifier(
                ACCOUNT_SID,
                AUTH_TOKEN,
                messaging_service_sid=SERVICE_SID,
                # The URL names each text's outbox key; no API is listening.
                status_callback="http://127.0.0.1:9/webhooks/twilio/status",
                base_url=fake_twilio.base_url,
            ),
            "email": SendGridEmailNotifier(
                SENDGRID_TEST_KEY,
                from_email="reminders@wellspring.example.org",
                host=fake_sendgrid.url,
            ),
        },
        ConsoleNotifier(),
    )
    moment = reminder_moment(LEAD)
    policy = reminder_policy(tmp_path / "policy.yaml", moment)
    consumers = add_team(store, CONSUMERS, moment.zone, channels=("sms", "email"))
    fake_twilio.storm(*STORM)
    fake_sendgrid.storm(*(Phase(p.status, p.seconds) for p in STORM))
    activities = JourneyActivities(store, notifier, AgencySettings())
    try:
        with ThreadPoolExecutor(max_workers=16) as executor:
            async with build_worker(local_env.client, activities, executor=executor):
                await refer_all(local_env.client, store, consumers, policy)
                assert datetime.now(moment.at.tzinfo) < moment.at, "set-up took longer than LEAD"

                def all_sent() -> bool:
                    rows = reminders_due(store, consumers, moment.at)
                    return len(rows) == CONSUMERS and all(n.status == "sent" for n in rows)

                wait = (moment.at - datetime.now(moment.at.tzinfo)).total_seconds() + 90
                await until("every reminder to be sent after the storms", all_sent, wait)
        rows = reminders_due(store, consumers, moment.at)
    finally:
        store.dispose()

    # Each reminder's attempts, by its outbox key: (when, HTTP status, provider id).
    attempts: dict[str, list[tuple[float, int, str | None]]] = defaultdict(list)
    for a in fake_twilio.answers:
        attempts[callback_key(a.request.form["StatusCallback"])].append(
            (a.request.at, a.status, a.sid)
        )
    for e in fake_sendgrid.answers:
        [personalization] = e.request.body["personalizations"]
        attempts[personalization["custom_args"][IDEMPOTENCY_ARG]].append(
            (e.request.at, e.status, e.message_id)
        )

    assert sorted(n.channel for n in rows) == ["email"] * 6 + ["sms"] * 6
    assert set(attempts) == {n.idempotency_key for n in rows}
    for n in rows:
        tries = sorted(attempts[n.idempotency_key])
        statuses = [status for _, status, _ in tries]
        # Delivered once, by the last attempt; every one before it was refused.
        assert statuses[-1] in (201, 202) and set(statuses[:-1]) <= {500, 429}, statuses
        assert len(tries) >= 2, f"{n.idempotency_key} fell due after the storm"
        assert n.provider_id == tries[-1][2]
        gaps = [later[0] - earlier[0] for earlier, later in zip(tries, tries[1:], strict=False)]
        for k, gap in enumerate(gaps):
            least = FIRST_INTERVAL * 2**k * SLACK
            assert gap >= least, f"{n.idempotency_key}: retry {k + 1} after {gap:.2f} s: {gaps}"
    # Both storms were met by both providers.
    assert {a.status for a in fake_twilio.answers} == {500, 429, 201}
    assert {e.status for e in fake_sendgrid.answers} == {500, 429, 202}
