"""The outbox: a message reaches the provider at most once, whatever fails and
whenever the worker dies; final provider errors are recorded, not retried.

The provider is the real `twilio` SDK against a local fake that counts every
request and holds each to Twilio's official contract.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from temporalio.testing import ActivityEnvironment

from activities.journey import AgencySettings, JourneyActivities, TextOutcome
from notifiers.base import Delivery, NotifierError, OutgoingMessage
from notifiers.twilio_sms import TwilioSmsNotifier
from rules.journey import ConsumerText, StaffReminder
from store import ConsentChangeRecord, ConsumerRecord, SpecialistRecord, Store
from tests.notifiers.fake_twilio import FakeTwilio, running_fake_twilio

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fedcba9876543210" * 2
SERVICE_SID = "MG" + "89abcdef01234567" * 2
WHEN = datetime(2041, 3, 4, 13, 0, tzinfo=UTC)
LATER = datetime(2041, 3, 5, 9, 0, tzinfo=UTC)


class WorkerDiesAfterTheProvider(Store):
    """A store whose first record of a provider's answer never happens: the
    worker is killed after Twilio took the message and before the outbox knew."""

    died = False

    def finish_sending(self, key: str, *, status: str, provider_id: str | None) -> None:
        if not self.died:
            self.died = True
            raise SystemExit("worker killed")
        super().finish_sending(key, status=status, provider_id=provider_id)


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with running_fake_twilio() as server:
        yield server
        assert server.violations == [], "a request broke Twilio's contract"


def _people(store: Store) -> Store:
    store.create_schema()
    store.upsert_specialist(
        SpecialistRecord(
            id="es-1",
            name="Jordan Lee",
            email="jordan@example.org",
            timezone="America/Chicago",
            phone="+15555550101",
            channels=["sms"],
        )
    )
    store.upsert_consumer(
        ConsumerRecord(
            id="c-1",
            name="Alex Smith",
            specialist_id="es-1",
            timezone="America/New_York",
            phone="+15555550123",
            sms_consent="opted_in",
        )
    )
    store.record_consent_change(
        ConsentChangeRecord(
            key="c-1/consent/1",
            consumer_id="c-1",
            state="opted_in",
            at=WHEN,
            source="sms:YES",
            disclosure_version="v3",
        )
    )
    return store


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = _people(Store(database_url))
    yield store
    store.dispose()


# How long after an attempt began the outbox takes it to be over (in production
# 25 s, after Twilio's 10-second timeouts to connect and to read): the tests'
# dead attempts are.
SEND_TIMEOUT = 0.5


def activities(store: Store, fake: FakeTwilio, *, http_timeout: float = 10.0) -> JourneyActivities:
    twilio = TwilioSmsNotifier(
        ACCOUNT_SID,
        AUTH_TOKEN,
        messaging_service_sid=SERVICE_SID,
        base_url=fake.base_url,
        timeout=http_timeout,
    )
    twilio.send_timeout = timedelta(seconds=SEND_TIMEOUT)
    return JourneyActivities(store, twilio, AgencySettings(sender_label="Wellspring Works"))


REMINDER = StaffReminder(
    key="c-1/r1/first_meeting/-/-/due_today",
    consumer_id="c-1",
    due_contact_key="c-1/r1/first_meeting/-/-",
    rule="first_meeting",
    kind="due_today",
    window_start=date(2041, 2, 25),
    due=date(2041, 3, 4),
    send_at=WHEN,
    recipient_roles=["specialist"],
)


def help_reply(n: int) -> ConsumerText:
    return ConsumerText(
        key=f"c-1/sms/SM{n:032d}/help",
        consumer_id="c-1",
        kind="help_reply",
        send_at=WHEN,
        status="sent",
    )


def appointment_text(n: int = 0) -> ConsumerText:
    return ConsumerText(
        key=f"c-1/r1/appointment/a-1/{n}",
        consumer_id="c-1",
        kind="appointment_reminder",
        send_at=WHEN,
        status="sent",
        appointment_id="a-1",
        appointment_start=datetime(2041, 3, 5, 19, 0, tzinfo=UTC),
        place="Main St Library",
    )


def test_a_worker_killed_between_the_provider_call_and_the_record_never_sends_twice(
    database_url: str, fake: FakeTwilio
) -> None:
    store = _people(WorkerDiesAfterTheProvider(database_url))
    try:
        env = ActivityEnvironment()
        with pytest.raises(SystemExit):
            env.run(activities(store, fake).send_staff_reminder, REMINDER)
        assert len(fake.messages) == 1  # Twilio has it
        [row] = store.list_notifications("c-1")
        assert (row.status, row.provider_id) == ("sending", None)

        # A retry at once: the dead attempt's call might still be in flight.
        with pytest.raises(NotifierError) as raised:
            env.run(activities(store, fake).send_staff_reminder, REMINDER)
        assert raised.value.retryable and "may still be sending" in str(raised.value)

        # Later retries, on a new worker: Twilio says it has the text.
        time.sleep(SEND_TIMEOUT)
        for _ in range(3):
            env.run(activities(store, fake).send_staff_reminder, REMINDER)

        assert len(fake.messages) == 1
        [row] = store.list_notifications("c-1")
        [answer] = fake.answers
        assert (row.status, row.provider_id, row.recipient_id) == ("sent", answer.sid, "es-1")
    finally:
        store.dispose()


class DiesBeforeTheRequest:
    """A notifier whose worker is killed after the outbox committed `sending`
    and before the request left for Twilio."""

    def __init__(self) -> None:
        self.died = False

    def send(self, message: OutgoingMessage) -> Delivery:
        self.died = True
        raise SystemExit("worker killed")


def test_a_worker_killed_before_the_request_left_has_the_text_sent_by_the_retry(
    store: Store, fake: FakeTwilio
) -> None:
    env = ActivityEnvironment()
    dying = activities(store, fake)
    dying.notifier = DiesBeforeTheRequest()
    with pytest.raises(SystemExit):
        env.run(dying.send_staff_reminder, REMINDER)
    assert fake.messages == []

    time.sleep(SEND_TIMEOUT)
    for _ in range(3):
        env.run(activities(store, fake).send_staff_reminder, REMINDER)

    [text] = fake.messages
    [row] = store.list_notifications("c-1")
    assert text.form["Body"] == row.body
    assert (row.status, row.provider_id) == ("sent", fake.answers[0].sid)


def test_a_text_twilio_took_without_answering_in_time_is_not_sent_again(
    store: Store, fake: FakeTwilio
) -> None:
    env = ActivityEnvironment()
    fake.hold()
    with pytest.raises(NotifierError) as raised:
        env.run(activities(store, fake, http_timeout=0.3).send_staff_reminder, REMINDER)
    fake.release()
    assert raised.value.retryable and raised.value.maybe_taken
    [row] = store.list_notifications("c-1")
    assert row.status == "sending"  # not given back: Twilio may have it

    time.sleep(SEND_TIMEOUT)
    env.run(activities(store, fake).send_staff_reminder, REMINDER)

    assert len(fake.messages) == 1
    [row] = store.list_notifications("c-1")
    assert (row.status, row.provider_id) == ("sent", fake.answers[0].sid)


def test_the_same_words_to_the_same_number_sent_for_another_reminder_do_not_count(
    store: Store, fake: FakeTwilio
) -> None:
    """Two HELP replies have the same text: Twilio's copy of the first is not
    taken for the second, which a dead worker never handed over."""
    env = ActivityEnvironment()
    env.run(activities(store, fake).send_consumer_text, help_reply(1))
    dying = activities(store, fake)
    dying.notifier = DiesBeforeTheRequest()
    with pytest.raises(SystemExit):
        env.run(dying.send_consumer_text, help_reply(2))

    time.sleep(SEND_TIMEOUT)
    env.run(activities(store, fake).send_consumer_text, help_reply(2))

    first, second = fake.messages
    assert first.form["Body"] == second.form["Body"]
    rows = store.list_notifications("c-1")
    assert [r.status for r in rows] == ["sent", "sent"]
    assert {r.provider_id for r in rows} == {a.sid for a in fake.answers}


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_provider_that_cannot_take_the_message_now_is_retried_until_it_does(
    store: Store, fake: FakeTwilio, status: int
) -> None:
    fake.fail(status, times=2)
    env = ActivityEnvironment()
    for _ in range(2):
        with pytest.raises(NotifierError) as raised:
            env.run(activities(store, fake).send_staff_reminder, REMINDER)
        assert raised.value.retryable
        [row] = store.list_notifications("c-1")
        assert row.status == "pending"  # given back for the next attempt

    env.run(activities(store, fake).send_staff_reminder, REMINDER)
    env.run(activities(store, fake).send_staff_reminder, REMINDER)

    assert len(fake.messages) == 3  # two refused, one taken; none after that
    [row] = store.list_notifications("c-1")
    assert row.status == "sent" and row.provider_id and row.provider_id.startswith("SM")


def test_an_unsubscribed_consumer_is_opted_out_and_gets_no_more_texts(
    store: Store, fake: FakeTwilio
) -> None:
    fake.fail(400, 21610)
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, current_attempt_scheduled_time=LATER)
    outcome = env.run(activities(store, fake).send_consumer_text, appointment_text(0))

    assert outcome == TextOutcome(status="failed", sms_consent="opted_out")
    [row] = store.list_notifications("c-1")
    assert row.status == "failed" and "21610" in (row.error or "")
    consumer = store.get_consumer("c-1")
    assert consumer is not None and consumer.sms_consent == "opted_out"
    changes = store.list_consent_changes("c-1")
    assert [(c.state, c.source, c.disclosure_version) for c in changes] == [
        ("opted_in", "sms:YES", "v3"),
        ("opted_out", "twilio:21610", "v3"),
    ]

    # Retried: nothing more is sent, and the next reminder is not sent at all.
    env.run(activities(store, fake).send_consumer_text, appointment_text(0))
    outcome = env.run(activities(store, fake).send_consumer_text, appointment_text(1))
    assert outcome == TextOutcome(status="skipped_no_consent", sms_consent="opted_out")
    assert len(fake.messages) == 1


def test_an_invalid_number_is_recorded_as_failed_and_not_retried(
    store: Store, fake: FakeTwilio
) -> None:
    fake.fail(400, 21211)
    env = ActivityEnvironment()
    outcome = env.run(activities(store, fake).send_consumer_text, appointment_text(0))
    env.run(activities(store, fake).send_consumer_text, appointment_text(0))

    assert outcome.status == "failed" and outcome.sms_consent == "opted_in"
    [row] = store.list_notifications("c-1")
    assert row.status == "failed" and "21211" in (row.error or "")
    assert len(fake.messages) == 1


def test_consent_is_checked_when_the_text_goes_not_when_it_was_planned(
    store: Store, fake: FakeTwilio
) -> None:
    """The journey planned the text while the consumer was opted in; by the time
    it goes, the store has their opt-out."""
    store.record_consent_change(
        ConsentChangeRecord(
            key="c-1/consent/2",
            consumer_id="c-1",
            state="opted_out",
            at=WHEN,
            source="twilio:21610",
            disclosure_version="v3",
        )
    )
    outcome = ActivityEnvironment().run(
        activities(store, fake).send_consumer_text, appointment_text(0)
    )

    assert outcome == TextOutcome(status="skipped_no_consent", sms_consent="opted_out")
    [row] = store.list_notifications("c-1")
    assert row.status == "skipped_no_consent" and row.send_at == WHEN
    assert fake.messages == []


def test_a_delivery_report_that_beats_the_providers_answer_is_not_undone(
    store: Store, fake: FakeTwilio
) -> None:
    """Twilio's callback (by the key in its URL) can arrive before the worker has
    recorded Twilio's answer to the send itself."""
    acts = activities(store, fake)
    twilio = acts.notifier

    class CallbackFirst:
        def send(self, message: OutgoingMessage) -> Delivery:
            delivery = twilio.send(message)
            store.advance_notification(
                "sms",
                "delivered",
                datetime.now(UTC),
                provider_id=delivery.provider_id,
                key=message.idempotency_key,
            )
            return delivery

    acts.notifier = CallbackFirst()
    ActivityEnvironment().run(acts.send_staff_reminder, REMINDER)

    [row] = store.list_notifications("c-1")
    assert row.status == "delivered" and row.provider_id and row.provider_id.startswith("SM")
