"""The app database (PostgreSQL) goes away for 30 seconds, with events coming in
and reminders falling due: the API says 503 and names the database, the
journeys' activities retry, and once it is back every event is in the audit
trail once with its effects, and every reminder has reached its provider once.

The second is the narrowest moment of such an outage: the provider has
just answered when the database goes. The outbox still records the answer once
it is back, so a text that went out is `sent`, and one the provider refused
for now is given back and sent on the next attempt. The third is a database
that takes connections and never answers: it is reported down, in seconds.

The real pieces on the real clock: `python worker.py` in its own process
(emails to a fake SendGrid, texts to a fake Twilio), the staff API served by
uvicorn, a Temporal dev server. The worker and the API each reach the database
through a TCP proxy of their own, which the test cuts (every connection closed,
new ones refused) and restores. The worker's goes first: two events the API
has just taken wait in their journeys, whose `record_event` activity fails
until the database is back.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import make_url
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.journey import AgencySettings, JourneyActivities
from api.codec import CodecSettings
from api.server import ApiServer
from api.webhooks import WebhookSettings
from notifiers import Notifier, RecordingNotifier
from notifiers.base import Delivery, NotifierError, OutgoingMessage
from notifiers.twilio_sms import TwilioSmsNotifier
from rules.policy import Policy
from service.errors import Unavailable
from service.journeys import Services, available
from store import Store
from store.scratch import scratch_database
from store.store import POSTGRES_CONNECT_TIMEOUT_SECONDS
from tests.activities.test_outbox import REMINDER, _people
from tests.api.conftest import TZ, Api, Clock, bootstrap_admin, set_up_agency
from tests.conftest import POSTGRES_URL_VARIABLE
from tests.e2e.test_messaging import ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID
from tests.faults.infra import (
    HOST,
    TcpProxy,
    WorkerProcess,
    check_delivered_once,
    clean_env,
    delivered,
    free_port,
    provider_env,
)
from tests.notifiers.fake_sendgrid import FakeSendGrid
from tests.notifiers.fake_twilio import FakeTwilio
from workflows.journey import ConsumerJourney, journey_id

OUTAGE = timedelta(seconds=30)
# How long after the outage everything must have been caught up.
CATCH_UP_SECONDS = 90
# How long the database is away after the provider's answer.
ANSWER_OUTAGE_SECONDS = 3


@pytest.fixture
def postgres_url() -> Iterator[str]:
    server_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server_url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set: no PostgreSQL server to cut off")
    with scratch_database(server_url, prefix="ips_t") as url:
        yield url


def _through(url: str, proxy: TcpProxy) -> str:
    return make_url(url).set(host=HOST, port=proxy.port).render_as_string(hide_password=False)


async def _sleep_until(moment: datetime) -> None:
    await asyncio.sleep(max(0.0, (moment - datetime.now(moment.tzinfo)).total_seconds()))


async def _failing_activity(client: Client, consumer_id: str, activity: str) -> None:
    """Until the journey's `activity` has failed at least once."""
    handle = client.get_workflow_handle(journey_id(consumer_id))
    while True:
        description = await handle.describe()
        if any(
            pending.activity_type.name == activity and pending.attempt >= 2
            for pending in description.raw_description.pending_activities
        ):
            return
        await asyncio.sleep(0.2)


async def _until_accepted(
    http: httpx.AsyncClient, path: str, headers: dict[str, str], body: dict[str, Any]
) -> httpx.Response:
    """POST as the API asks of a client: after a 503, again after Retry-After
    seconds with the same event_id."""
    while True:
        answer = await http.post(path, headers=headers, json=body)
        if answer.status_code != 503:
            return answer
        await asyncio.sleep(int(answer.headers["Retry-After"]))


@pytest.mark.timeout(240)
async def test_a_30_second_database_outage_loses_no_event_and_no_notification(
    local_env: WorkflowEnvironment,
    postgres_url: str,
    fake_twilio: FakeTwilio,
    fake_sendgrid: FakeSendGrid,
) -> None:
    target = make_url(postgres_url)
    direct = Store(postgres_url)  # the test's own look at the database
    with (
        TcpProxy(target.host or HOST, target.port or 5432) as worker_db,
        TcpProxy(target.host or HOST, target.port or 5432) as api_db,
    ):
        worker_env = (
            clean_env()
            | provider_env(fake_twilio, fake_sendgrid, "http://127.0.0.1:9")
            | {
                "IPS_DATABASE_URL": _through(postgres_url, worker_db),
                "IPS_TEMPORAL_ADDRESS": local_env.client.service_client.config.target_host,
            }
        )
        # The worker creates the tables.
        with WorkerProcess(worker_env).running() as worker:
            store = Store(_through(postgres_url, api_db))

            async def connect() -> Client:
                return local_env.client

            services = Services(store=store, connect=connect, policy=Policy())
            server = ApiServer(
                services,
                host=HOST,
                port=free_port(),
                webhook_settings=WebhookSettings(),
                codec_settings=CodecSettings(),
            )
            async with server, httpx.AsyncClient(base_url=server.url, timeout=120) as http:
                clock = Clock()
                api = Api(http, store, services, clock, RecordingNotifier())
                api.tokens["admin"] = bootstrap_admin(store, clock())
                await set_up_agency(api)
                await _run(api, local_env.client, worker_db, api_db, fake_twilio, fake_sendgrid)
                _check(api, direct, fake_twilio, fake_sendgrid)
                for path, headers in (("/consumers/c-1/outreach", api.es1),):
                    outreach = await http.get(path, headers=headers)
                    assert [o["event_id"] for o in outreach.json()] == ["out-1"]
            store.dispose()
            assert worker.alive, f"the worker stopped during the outage:\n{worker.log}"
    direct.dispose()


async def _run(
    api: Api,
    client: Client,
    worker_db: TcpProxy,
    api_db: TcpProxy,
    twilio: FakeTwilio,
    sendgrid: FakeSendGrid,
) -> None:
    zone = ZoneInfo(TZ)
    now = datetime.now(zone)
    due = (now + timedelta(seconds=75)).replace(second=0, microsecond=0)
    if due.date() != now.date():
        pytest.skip("too close to midnight in New York for a same-day reminder")
    # The agency's policy, with its reminder time set to fall in the outage.
    api.services.policy = Policy(
        reminder_time=f"{due:%H:%M}",
        working_days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
        due_soon_days=7,
    )
    staff = {"c-1": api.es1, "c-2": api.es2, "c-3": api.es3}
    for n, (consumer_id, headers) in enumerate(staff.items(), 1):
        referral = {"event_id": f"ref-{n}"}
        await api.ok("POST", f"/consumers/{consumer_id}/referral", headers, json=referral)
    # The reminders fall due 5 to 20 seconds into the outage.
    cut_at = max(datetime.now(zone), due - timedelta(seconds=20))
    assert due - cut_at >= timedelta(seconds=5), "the referrals took longer than planned"
    await _sleep_until(cut_at)

    # The worker loses the database first: two events the API has taken wait in
    # their journeys.
    worker_db.cut()
    at = api.now_local()
    outreach = {"type": "outreach_attempt", "event_id": "out-1", "at": at, "by": "es-1",
                "role": "specialist", "method": "phone", "reached": False}  # fmt: skip
    job = {"type": "job_started", "event_id": "job-3", "at": at, "job_id": "j-1",
           "employer": "Acme", "title": "Stock associate", "start_date": api.today().isoformat(),
           "hours_per_week": 20, "hourly_wage": 15.5, "competitive": True}  # fmt: skip
    waiting = [
        asyncio.create_task(api.http.post("/consumers/c-1/events", headers=api.es1, json=outreach)),
        asyncio.create_task(api.http.post("/consumers/c-3/events", headers=api.es3, json=job)),
    ]
    await asyncio.wait_for(
        asyncio.gather(
            _failing_activity(client, "c-1", "record_event"),
            _failing_activity(client, "c-3", "record_event"),
        ),
        timeout=20,
    )

    # Then the API: it refuses, naming the database.
    api_db.cut()
    meeting = {"type": "first_meeting", "event_id": "meet-2", "at": at}
    refused = await api.http.post("/consumers/c-2/events", headers=api.es2, json=meeting)
    ready = await api.http.get("/readyz")
    assert refused.status_code == 503, refused.text
    assert int(refused.headers["Retry-After"]) > 0
    reason = refused.json()["error"]["reason"]
    assert "database" in reason and "nothing was changed" in reason, reason
    for text in ("psycopg", "Traceback", str(api_db.port), "sqlalchemy"):
        assert text not in refused.text
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": "unavailable", "temporal": "ok"}
    retrying = asyncio.create_task(
        _until_accepted(api.http, "/consumers/c-2/events", api.es2, meeting)
    )

    await _sleep_until(cut_at + OUTAGE)
    assert datetime.now(zone) > due, "the reminders were not due during the outage"
    assert not any(task.done() for task in waiting), "an event was stored with no database"
    assert delivered(twilio, sendgrid) == {}, "a reminder went out with no database to record it"
    worker_db.restore()
    api_db.restore()

    answers = await asyncio.wait_for(asyncio.gather(*waiting, retrying), CATCH_UP_SECONDS)
    assert [a.status_code for a in answers] == [202, 202, 202], [a.text for a in answers]
    # Each journey has done everything due by now (the reminders too) when it
    # answers this.
    await asyncio.wait_for(
        asyncio.gather(
            *(
                client.get_workflow_handle_for(ConsumerJourney.run, journey_id(c)).execute_update(
                    ConsumerJourney.catch_up
                )
                for c in staff
            )
        ),
        CATCH_UP_SECONDS,
    )


def _sent_reminders(store: Store) -> list[tuple[str | None, str, str | None]]:
    return sorted(
        (n.consumer_id, n.kind, n.rule)
        for n in store.list_notifications()
        if n.status == "sent" and n.rule == "first_meeting"
    )


def _check(api: Api, store: Store, twilio: FakeTwilio, sendgrid: FakeSendGrid) -> None:
    assert _sent_reminders(store) == [
        ("c-1", "due_soon", "first_meeting"),
        ("c-2", "due_soon", "first_meeting"),
        ("c-3", "due_soon", "first_meeting"),
    ]
    notifications = store.list_notifications()
    assert {n.status for n in notifications if n.consumer_id} == {"sent"}, notifications
    check_delivered_once(notifications, twilio, sendgrid)

    # Every event is in the audit trail once, with its effects.
    trail = sorted((e.consumer_id, e.event_id) for e in store.list_events())
    assert trail == [
        ("c-1", "out-1"),
        ("c-1", "ref-1"),
        ("c-2", "meet-2"),
        ("c-2", "ref-2"),
        ("c-3", "job-3"),
        ("c-3", "ref-3"),
    ]
    assert [o.event_id for o in store.list_outreach("c-1")] == ["out-1"]
    meeting = {dc.rule: dc.status for dc in store.list_due_contacts("c-2")}
    assert meeting == {
        "first_meeting": "done",
        "first_employer_contact": "open",
        "vocational_profile": "open",
    }
    assert [j.job_id for j in store.list_jobs("c-3")] == ["j-1"]
    job_contacts = [dc for dc in store.list_due_contacts("c-3") if dc.job_id == "j-1"]
    assert job_contacts
    for dc in job_contacts:
        assert len(store.list_due_contact_changes(dc.key)) == 1, dc.key


class DatabaseGoesWithTheAnswer:
    """Twilio's notifier; as Twilio answers (taking the message or refusing
    it), the database goes away for a few seconds."""

    def __init__(self, notifier: Notifier, proxy: TcpProxy) -> None:
        self.notifier = notifier
        self.proxy = proxy
        self.comeback: threading.Timer | None = None

    def send(self, message: OutgoingMessage) -> Delivery:
        try:
            return self.notifier.send(message)
        finally:
            self.proxy.cut()
            self.comeback = threading.Timer(ANSWER_OUTAGE_SECONDS, self.proxy.restore)
            self.comeback.start()


@pytest.mark.parametrize("answer", ["taken", "refused for now"])
def test_the_answer_of_a_provider_as_the_database_goes_is_not_lost(
    postgres_url: str, fake_twilio: FakeTwilio, answer: str
) -> None:
    target = make_url(postgres_url)
    direct = Store(postgres_url)
    if answer == "refused for now":
        fake_twilio.fail(503)
    with TcpProxy(target.host or HOST, target.port or 5432) as db:
        store = _people(Store(_through(postgres_url, db)))
        twilio = TwilioSmsNotifier(
            ACCOUNT_SID,
            AUTH_TOKEN,
            messaging_service_sid=SERVICE_SID,
            base_url=fake_twilio.base_url,
        )
        notifier = DatabaseGoesWithTheAnswer(twilio, db)
        reminders = JourneyActivities(store, notifier, AgencySettings())
        env = ActivityEnvironment()
        try:
            if answer == "taken":
                env.run(reminders.send_staff_reminder, REMINDER)
            else:
                with pytest.raises(NotifierError):
                    env.run(reminders.send_staff_reminder, REMINDER)
                [row] = direct.list_notifications("c-1")
                assert row.status == "pending"  # given back, for Temporal's next attempt
                reminders.notifier = twilio
                env.run(reminders.send_staff_reminder, REMINDER)
        finally:
            if notifier.comeback is not None:
                notifier.comeback.join()
            store.dispose()
    [row] = direct.list_notifications("c-1")
    direct.dispose()
    # Taken at once; or refused, then taken on the next attempt.
    assert len(fake_twilio.messages) == (1 if answer == "taken" else 2)
    assert row.status == "sent" and row.provider_id and row.provider_id.startswith("SM")


def test_a_database_that_takes_connections_and_never_answers_is_reported_down(
    postgres_url: str,
) -> None:
    target = make_url(postgres_url)
    with TcpProxy(target.host or HOST, target.port or 5432) as db:
        store = Store(_through(postgres_url, db))
        store.create_schema()
        db.hang()
        outcome: list[BaseException] = []

        def look_up() -> None:
            try:
                with available():
                    store.get_consumer("c-1")
            except BaseException as err:
                outcome.append(err)

        caller = threading.Thread(target=look_up, daemon=True)
        caller.start()
        caller.join(timeout=POSTGRES_CONNECT_TIMEOUT_SECONDS + 20)
        assert not caller.is_alive(), "a database that never answers holds its caller for ever"
        [error] = outcome
        assert isinstance(error, Unavailable) and error.what == "database", repr(error)

        db.restore()
        assert store.get_consumer("c-1") is None  # it answers again
        store.dispose()
