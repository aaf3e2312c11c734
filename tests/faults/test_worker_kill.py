"""kill -9 of the worker while it is sending reminders, then a new worker: every
reminder reaches Twilio exactly once.

The worker runs as the agency runs it (`python worker.py`, IPS_* settings) on a
real Temporal dev server, with the app database in a SQLite file and Twilio a
local fake. Thirty specialists' reminders fall due at one moment on the real
clock; the fake takes each text but holds its answer, so when the worker is
killed every one of its sending threads is inside a Twilio call, and the rest
of the reminders have not been handed to Twilio yet. Then the fake answers
(to no one), a new worker starts, and Temporal retries the dead worker's
sends once their attempt times out (`workflows.journey.SEND_TIMEOUT`).

What is not tested here, because no test can make it happen on purpose: the
worker dying after the outbox committed `sending` and before the request left
the socket. A retry finds such a row `sending` with no Message SID and asks
Twilio (its list of messages to that number) whether the text is there; it
sends it only if not (`activities.outbox`).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import temporal_client
from rules.policy import Policy
from store import Store
from tests.e2e.test_messaging import ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID, _wait_for
from tests.faults.stack import (
    add_team,
    callback_key,
    environment,
    pending_activities,
    refer_all,
    reminder_moment,
    reminder_policy,
    reminders_due,
    temporal_dev_server,
    worker_process,
)
from tests.notifiers.fake_twilio import FakeTwilio
from workflows.journey import SEND_TIMEOUT

CONSUMERS = 30
# Time to start the worker and refer the consumers before their reminders are due.
LEAD = timedelta(seconds=25)
# No new text for this long: every sending thread of the worker is in a Twilio call.
QUIET_SECONDS = 1.5


@pytest.mark.skipif(sys.platform != "linux", reason="kills a process with SIGKILL")
@pytest.mark.timeout(300)
def test_a_worker_killed_during_twilio_calls_leaves_every_reminder_sent_exactly_once(
    tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    database_url = f"sqlite:///{tmp_path / 'ips.db'}"
    store = Store(database_url)
    store.upgrade()
    try:
        with temporal_dev_server(tmp_path / "temporal") as address:
            _kill_while_sending(tmp_path, address, store, database_url, fake_twilio)
    finally:
        store.dispose()


def _kill_while_sending(
    tmp_path: Path, address: str, store: Store, database_url: str, fake: FakeTwilio
) -> None:
    moment = reminder_moment(LEAD)
    policy_file = tmp_path / "policy.yaml"
    policy = reminder_policy(policy_file, moment)
    settings = environment(
        IPS_DATABASE_URL=database_url,
        IPS_TEMPORAL_ADDRESS=address,
        IPS_POLICY_FILE=str(policy_file),
        IPS_SMS_NOTIFIER="twilio",
        IPS_EMAIL_NOTIFIER="console",
        IPS_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        IPS_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        IPS_TWILIO_MESSAGING_SERVICE_SID=SERVICE_SID,
        IPS_TWILIO_BASE_URL=fake.base_url,
        # Each text's status callback URL names its outbox key; no API is listening.
        IPS_PUBLIC_URL="http://127.0.0.1:9",
    )
    consumers = add_team(store, CONSUMERS, moment.zone)

    with worker_process(settings, tmp_path / "worker-1.log") as first:
        asyncio.run(_refer(address, store, consumers, policy))
        assert datetime.now(moment.at.tzinfo) < moment.at, "set-up took longer than LEAD"
        fake.hold()
        wait = (moment.at - datetime.now(moment.at.tzinfo)).total_seconds() + 60
        _wait_for("the first reminder texts", lambda: fake.messages, wait)
        in_calls = _until_quiet(fake)
        assert 0 < in_calls < CONSUMERS, (
            f"{in_calls} of {CONSUMERS} texts reached Twilio before the kill: "
            "the kill must come while some are being sent and some are not"
        )
        first.kill()
    fake.release()
    # Twilio has these texts; the worker died before it heard so.
    outbox = {n.idempotency_key: n.status for n in reminders_due(store, consumers, moment.at)}
    assert Counter(outbox.values())["sending"] == in_calls

    with worker_process(settings, tmp_path / "worker-2.log") as second:
        settle = SEND_TIMEOUT.total_seconds() + 90

        def settled() -> bool:
            rows = reminders_due(store, consumers, moment.at)
            return len(rows) == CONSUMERS and all(n.status == "sent" for n in rows)

        _wait_for("every reminder to be sent", settled, settle)
        _wait_for(
            "the journeys to hear back from their sends",
            lambda: asyncio.run(_no_pending(address, consumers)),
            60,
        )
        log = second.output()

    rows = reminders_due(store, consumers, moment.at)
    assert sorted(n.consumer_id or "" for n in rows) == sorted(consumers)  # one each
    texts = Counter(callback_key(m.form["StatusCallback"]) for m in fake.messages)
    assert texts == Counter({n.idempotency_key: 1 for n in rows}), "missing or twice"
    for n in rows:
        # The row has the SID Twilio gave the one text of its key.
        [answer] = [
            a
            for a in fake.answers
            if callback_key(a.request.form["StatusCallback"]) == n.idempotency_key
        ]
        assert (answer.request.form["Body"], answer.sid) == (n.body, n.provider_id)
    assert "Traceback" not in log


def _until_quiet(fake: FakeTwilio) -> int:
    """How many texts Twilio has once no new one came for QUIET_SECONDS."""
    seen = len(fake.messages)
    quiet_since = time.monotonic()
    deadline = quiet_since + 30
    while time.monotonic() - quiet_since < QUIET_SECONDS:
        assert time.monotonic() < deadline, "texts kept coming while Twilio held every answer"
        time.sleep(0.1)
        if len(fake.messages) != seen:
            seen, quiet_since = len(fake.messages), time.monotonic()
    return seen


async def _refer(address: str, store: Store, consumers: list[str], policy: Policy) -> None:
    await refer_all(await temporal_client.connect(address), store, consumers, policy)


async def _no_pending(address: str, consumers: list[str]) -> bool:
    client = await temporal_client.connect(address)
    return await pending_activities(client, consumers) == 0
