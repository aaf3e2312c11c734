"""Jobs, outreach log, employer contacts, appointments and SMS consent."""

import dataclasses
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from store import (
    AppointmentRecord,
    ConsentChangeRecord,
    EmployerContactRecord,
    InvalidValueError,
    JobRecord,
    OutreachRecord,
    Store,
    UnknownReferenceError,
)

NEW_YORK = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")

JOB = JobRecord(
    consumer_id="c-1",
    job_id="j-1",
    employer="Acme",
    title="Stock associate",
    start_date=date(2041, 2, 11),
    hours_per_week=20.0,
    hourly_wage=15.5,
    competitive=True,
)


def test_job_round_trip_and_update_in_place(seeded: Store) -> None:
    seeded.upsert_job(JOB)
    assert seeded.list_jobs() == [JOB]

    ended = dataclasses.replace(
        JOB, hours_per_week=25.0, end_date=date(2041, 6, 30), end_reason="moved away"
    )
    seeded.upsert_job(ended)
    seeded.upsert_job(ended)

    assert seeded.list_jobs("c-1") == [ended]


def test_jobs_are_listed_by_consumer_then_start(seeded: Store) -> None:
    later = dataclasses.replace(JOB, job_id="j-0", start_date=date(2041, 5, 1), competitive=False)
    other = dataclasses.replace(JOB, consumer_id="c-2", start_date=date(2040, 1, 1))
    # The same job id for another consumer is another job.
    seeded.upsert_job(later)
    seeded.upsert_job(other)
    seeded.upsert_job(JOB)

    assert seeded.list_jobs() == [JOB, later, other]
    assert seeded.list_jobs("c-2") == [other]


def test_bad_jobs_are_refused(seeded: Store) -> None:
    with pytest.raises(
        InvalidValueError,
        match="^JobRecord.end_date: 2041-02-10 is before start_date 2041-02-11$",
    ):
        seeded.upsert_job(dataclasses.replace(JOB, end_date=date(2041, 2, 10)))
    with pytest.raises(InvalidValueError, match="^JobRecord.hourly_wage: cannot be negative"):
        seeded.upsert_job(dataclasses.replace(JOB, hourly_wage=-1.0))
    with pytest.raises(
        UnknownReferenceError, match="^JobRecord.consumer_id: no consumer with id 'c-9'$"
    ):
        seeded.upsert_job(dataclasses.replace(JOB, consumer_id="c-9"))

    assert seeded.list_jobs() == []


def test_outreach_log_is_keyed_by_event(seeded: Store) -> None:
    first = OutreachRecord(
        "o-1",
        "c-1",
        datetime(2041, 3, 2, 10, 0, tzinfo=NEW_YORK),
        "es-1",
        "specialist",
        "phone",
        False,
    )
    second = OutreachRecord(
        "o-2",
        "c-1",
        datetime(2041, 3, 2, 9, 30, tzinfo=CHICAGO),
        "cm-1",
        "case_manager",
        "home_visit",
        True,
    )

    assert seeded.add_outreach(second) is True
    assert seeded.add_outreach(first) is True
    assert seeded.add_outreach(first) is False

    # By time: 10:00 New York comes before 9:30 Chicago (10:30 New York).
    assert seeded.list_outreach() == [first, second]
    assert seeded.list_outreach("c-1")[0].at == datetime(2041, 3, 2, 15, 0, tzinfo=UTC)
    assert seeded.list_outreach("c-2") == []
    with pytest.raises(UnknownReferenceError, match="^OutreachRecord.consumer_id: no consumer"):
        seeded.add_outreach(dataclasses.replace(first, event_id="o-3", consumer_id="c-9"))


def test_employer_contacts_with_and_without_a_consumer(seeded: Store) -> None:
    with_consumer = EmployerContactRecord(
        "x-1", "es-1", "Acme", True, "c-1", datetime(2041, 1, 23, 11, 0, tzinfo=NEW_YORK)
    )
    own_log = EmployerContactRecord(
        "x-2", "es-1", "Bolt Hardware", False, None, datetime(2041, 1, 22, 15, 0, tzinfo=NEW_YORK)
    )

    assert seeded.add_employer_contact(with_consumer) is True
    assert seeded.add_employer_contact(own_log) is True
    assert seeded.add_employer_contact(own_log) is False

    assert seeded.list_employer_contacts() == [own_log, with_consumer]
    assert seeded.list_employer_contacts("es-1") == [own_log, with_consumer]
    assert seeded.list_employer_contacts("es-2") == []
    with pytest.raises(
        UnknownReferenceError,
        match="^EmployerContactRecord.specialist_id: no specialist with id 'es-9'$",
    ):
        seeded.add_employer_contact(
            dataclasses.replace(own_log, event_id="x-3", specialist_id="es-9")
        )
    with pytest.raises(
        UnknownReferenceError,
        match="^EmployerContactRecord.consumer_id: no consumer with id 'c-9'$",
    ):
        seeded.add_employer_contact(dataclasses.replace(own_log, event_id="x-3", consumer_id="c-9"))


def test_appointments_upsert_and_cancel(seeded: Store) -> None:
    meeting = AppointmentRecord(
        "c-1", "a-1", datetime(2041, 3, 5, 14, 0, tzinfo=NEW_YORK), 60, "Main St Library"
    )
    earlier = AppointmentRecord(
        "c-2", "a-1", datetime(2041, 3, 5, 12, 0, tzinfo=CHICAGO), 30, "Office"
    )
    seeded.upsert_appointment(meeting)
    seeded.upsert_appointment(earlier)

    seeded.upsert_appointment(dataclasses.replace(meeting, cancelled=True))

    assert seeded.list_appointments() == [earlier, dataclasses.replace(meeting, cancelled=True)]
    [back] = seeded.list_appointments("c-1")
    assert back.start == datetime(2041, 3, 5, 19, 0, tzinfo=UTC) and back.start.tzinfo is UTC
    with pytest.raises(
        InvalidValueError, match="^AppointmentRecord.duration_minutes: must be above 0"
    ):
        seeded.upsert_appointment(
            dataclasses.replace(meeting, appointment_id="a-2", duration_minutes=0)
        )
    with pytest.raises(InvalidValueError, match="^AppointmentRecord.start: .* has no time zone"):
        seeded.upsert_appointment(
            dataclasses.replace(meeting, appointment_id="a-2", start=datetime(2041, 3, 5, 14, 0))
        )
    assert len(seeded.list_appointments()) == 2


def consent(key: str, state: str, at: datetime, source: str) -> ConsentChangeRecord:
    return ConsentChangeRecord(key, "c-1", state, at, source, "v1" if state == "pending" else None)


def test_consent_changes_set_the_consumers_state_once(seeded: Store) -> None:
    pending = consent("k-1", "pending", datetime(2041, 1, 9, 14, 0, tzinfo=NEW_YORK), "staff:es-1")
    opted_in = consent("k-2", "opted_in", datetime(2041, 1, 9, 14, 5, tzinfo=NEW_YORK), "sms:YES")

    assert seeded.record_consent_change(pending) is True
    assert seeded.record_consent_change(opted_in) is True
    consumer = seeded.get_consumer("c-1")
    assert consumer is not None and consumer.sms_consent == "opted_in"

    # A late retry of the first change is a no-op: it does not undo the opt-in.
    assert seeded.record_consent_change(pending) is False
    consumer = seeded.get_consumer("c-1")
    assert consumer is not None and consumer.sms_consent == "opted_in"
    assert seeded.list_consent_changes("c-1") == [pending, opted_in]
    assert seeded.list_consent_changes("c-2") == []


def test_bad_consent_changes_are_refused(seeded: Store) -> None:
    at = datetime(2041, 1, 9, 14, 0, tzinfo=UTC)
    with pytest.raises(
        InvalidValueError,
        match="^ConsentChangeRecord.state: 'yes' is not one of none, opted_in, opted_out, pending$",
    ):
        seeded.record_consent_change(consent("k-1", "yes", at, "sms:YES"))
    with pytest.raises(
        UnknownReferenceError, match="^ConsentChangeRecord.consumer_id: no consumer with id 'c-9'$"
    ):
        seeded.record_consent_change(
            dataclasses.replace(consent("k-1", "opted_out", at, "sms:STOP"), consumer_id="c-9")
        )

    assert seeded.list_consent_changes("c-1") == []
    consumer = seeded.get_consumer("c-1")
    assert consumer is not None and consumer.sms_consent == "none"
