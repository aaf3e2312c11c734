"""The journey's activities on both databases: a retried activity adds no row
and sends no second message."""

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from temporalio.testing import ActivityEnvironment

from activities.journey import (
    AgencySettings,
    JourneyActivities,
    RecordEventInput,
    SaveDueContactsInput,
)
from notifiers import RecordingNotifier
from rules.due import DueContact
from rules.journey import ConsumerText, StaffReminder
from store import ConsumerRecord, SpecialistRecord, Store, TreatmentTeamMember

WHEN = datetime(2041, 3, 4, 13, 0, tzinfo=UTC)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    store.create_schema()
    store.upsert_specialist(
        SpecialistRecord(
            id="es-1",
            name="Jordan Lee",
            email="jordan@example.org",
            timezone="America/Chicago",
            phone="+15555550101",
            channels=["sms", "email"],
        )
    )
    store.upsert_consumer(
        ConsumerRecord(
            id="c-1",
            name="Alex Smith",
            specialist_id="es-1",
            timezone="America/New_York",
            phone="+15555550123",
            treatment_team_member=TreatmentTeamMember(
                id="cm-1", name="Casey Wu", role="case_manager", email="casey@example.org"
            ),
        )
    )
    yield store
    store.dispose()


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def activities(store: Store, notifier: RecordingNotifier) -> JourneyActivities:
    return JourneyActivities(store, notifier, AgencySettings(app_url="https://ips.test"))


def reminder(roles: list[str]) -> StaffReminder:
    return StaffReminder(
        key="c-1/r1/weekly_follow_along/j-1/2/due_today",
        consumer_id="c-1",
        due_contact_key="c-1/r1/weekly_follow_along/j-1/2",
        rule="weekly_follow_along",
        kind="due_today",
        window_start=date(2041, 2, 26),
        due=date(2041, 3, 4),
        send_at=WHEN,
        recipient_roles=roles,
        job_id="j-1",
        seq=2,
    )


def test_a_retried_reminder_sends_each_message_once(
    activities: JourneyActivities, store: Store, notifier: RecordingNotifier
) -> None:
    env = ActivityEnvironment()
    for _ in range(3):
        env.run(activities.send_staff_reminder, reminder(["specialist"]))

    assert sorted(m.channel for m in notifier.sent) == ["email", "sms"]
    rows = store.list_notifications("c-1")
    assert [(n.channel, n.recipient_id, n.status) for n in rows] == [
        ("email", "es-1", "sent"),
        ("sms", "es-1", "sent"),
    ]
    # The specialist's own zone and its offset on that day (CST, -06:00).
    assert rows[0].recipient_timezone == "America/Chicago"
    assert rows[0].send_at == WHEN


def test_treatment_team_copies_go_by_email_and_only_with_an_address(
    activities: JourneyActivities, notifier: RecordingNotifier
) -> None:
    ActivityEnvironment().run(
        activities.send_staff_reminder, reminder(["specialist", "treatment_team_member"])
    )
    to = sorted((m.channel, m.to) for m in notifier.sent)
    # No phone is recorded for the case manager: email only.
    assert to == [
        ("email", "casey@example.org"),
        ("email", "jordan@example.org"),
        ("sms", "+15555550101"),
    ]


def test_reminder_bodies_carry_initials_and_case_id_never_the_name(
    activities: JourneyActivities, notifier: RecordingNotifier
) -> None:
    ActivityEnvironment().run(activities.send_staff_reminder, reminder(["specialist"]))
    for message in notifier.sent:
        assert "A.S. (c-1)" in message.body
        assert "Alex" not in message.body and "Smith" not in message.body
        assert "https://ips.test/consumers/c-1" in message.body
        assert "Weekly follow-along" in message.body


def test_a_retried_event_is_stored_once(activities: JourneyActivities, store: Store) -> None:
    event = RecordEventInput(
        consumer_id="c-1",
        event_id="ev-1",
        type="job_started",
        at=WHEN,
        recorded_by="es-1",
        fields={
            "job_id": "j-1",
            "employer": "Acme",
            "title": "Stock associate",
            "start_date": "2041-03-11",
            "hours_per_week": 20,
            "hourly_wage": 15.5,
            "competitive": True,
        },
    )
    env = ActivityEnvironment()
    assert env.run(activities.record_event, event) is True
    assert env.run(activities.record_event, event) is False

    events = store.list_events("c-1")
    assert [(e.event_id, e.type, e.recorded_by) for e in events] == [
        ("ev-1", "job_started", "es-1")
    ]
    jobs = store.list_jobs("c-1")
    assert [(j.job_id, j.start_date) for j in jobs] == [("j-1", date(2041, 3, 11))]


def test_saving_the_same_due_contacts_again_adds_no_change(
    activities: JourneyActivities, store: Store
) -> None:
    dc = DueContact(
        key="c-1/r1/first_meeting/-/-",
        rule="first_meeting",
        window_start=date(2041, 3, 4),
        due=date(2041, 3, 11),
        created_at=WHEN,
        referral_no=1,
    )
    env = ActivityEnvironment()
    env.run(activities.save_due_contacts, SaveDueContactsInput("c-1", [dc], WHEN))
    env.run(activities.save_due_contacts, SaveDueContactsInput("c-1", [dc], WHEN))
    dc.status, dc.satisfied_on = "done", date(2041, 3, 6)
    env.run(activities.save_due_contacts, SaveDueContactsInput("c-1", [dc], WHEN))
    env.run(activities.save_due_contacts, SaveDueContactsInput("c-1", [dc], WHEN))

    [stored] = store.list_due_contacts("c-1")
    assert (stored.status, stored.satisfied_on) == ("done", date(2041, 3, 6))
    changes = store.list_due_contact_changes(dc.key)
    assert [c.status for c in changes] == ["open", "done"]


@pytest.mark.parametrize(
    ("language", "opening"),
    [("en", "Wellspring Works: reply YES"), ("es", "Wellspring Works: responda YES")],
)
def test_consumer_texts_are_in_the_consumers_language(
    store: Store, notifier: RecordingNotifier, language: str, opening: str
) -> None:
    store.upsert_consumer(
        ConsumerRecord(
            id="c-2",
            name="Alexandra María Gómez-Smith",
            specialist_id="es-1",
            timezone="America/New_York",
            phone="+15555550124",
            language=language,
        )
    )
    activities = JourneyActivities(store, notifier, AgencySettings(sender_label="Wellspring Works"))
    text = ConsumerText(
        key="c-2/consent/1",
        consumer_id="c-2",
        kind="opt_in_confirmation",
        send_at=WHEN,
        status="sent",
    )
    ActivityEnvironment().run(activities.send_consumer_text, text)

    [message] = notifier.sent
    assert message.body.startswith(opening)
    assert [n.body for n in store.list_notifications("c-2")] == [message.body]
