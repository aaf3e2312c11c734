"""SPEC §4: events with their exact field names; bad input is a clear error that
names the field."""

from datetime import date, datetime
from typing import Any

import pytest

from rules.events import (
    AppointmentScheduled,
    Contact,
    EventEnvelope,
    EventError,
    JobStarted,
    OutreachAttempt,
    parse_event,
)


def envelope(type: str, **fields: Any) -> EventEnvelope:
    return EventEnvelope(
        event_id="ev-1", type=type, at="2041-02-04T09:00", consumer="c-1", fields=fields
    )


JOB_STARTED = {
    "job_id": "j-1",
    "employer": "Acme",
    "title": "Stock associate",
    "start_date": "2041-02-11",
    "hours_per_week": 20,
    "hourly_wage": 15.5,
    "competitive": True,
}


def test_a_job_started_event_reads_its_fields() -> None:
    event = parse_event(envelope("job_started", **JOB_STARTED))
    assert isinstance(event, JobStarted)
    assert event.start_date == date(2041, 2, 11)
    assert (event.hours_per_week, event.hourly_wage, event.competitive) == (20, 15.5, True)
    assert event.at == datetime(2041, 2, 4, 9, 0)


def test_a_contact_reads_method_place_and_by() -> None:
    event = parse_event(envelope("contact", method="face_to_face", place="community", by="es-2"))
    assert isinstance(event, Contact)
    assert (event.method, event.place, event.by) == ("face_to_face", "community", "es-2")
    plain = parse_event(envelope("contact", method="phone"))
    assert isinstance(plain, Contact)
    assert plain.place is None


def test_an_appointment_reads_its_local_start() -> None:
    event = parse_event(
        envelope(
            "appointment_scheduled",
            appointment_id="a-1",
            start="2041-02-07T14:00",
            duration_minutes=60,
            place="Main St Library",
        )
    )
    assert isinstance(event, AppointmentScheduled)
    assert event.start == datetime(2041, 2, 7, 14, 0)


def test_an_outreach_attempt_reads_who_how_and_whether_reached() -> None:
    event = parse_event(
        envelope("outreach_attempt", by="cm-1", role="case_manager", method="family", reached=False)
    )
    assert isinstance(event, OutreachAttempt)
    assert (event.by, event.role, event.method, event.reached) == (
        "cm-1",
        "case_manager",
        "family",
        False,
    )


@pytest.mark.parametrize(
    ("type", "fields", "named"),
    [
        ("job_offer", {}, "type"),
        ("contact", {}, "method"),
        ("contact", {"method": "carrier_pigeon"}, "method"),
        ("contact", {"method": "phone", "place": "moon"}, "place"),
        ("contact", {"method": "phone", "mood": "good"}, "mood"),
        ("job_started", {**JOB_STARTED, "start_date": "next week"}, "start_date"),
        ("job_started", {k: v for k, v in JOB_STARTED.items() if k != "job_id"}, "job_id"),
        ("job_started", {**JOB_STARTED, "hours_per_week": -4}, "hours_per_week"),
        ("job_changed", {"job_id": "j-1"}, "hours_per_week"),
        ("job_ended", {"job_id": "j-1"}, "end_date"),
        ("outreach_attempt", {"by": "es-1", "role": "specialist", "method": "phone"}, "reached"),
        (
            "outreach_attempt",
            {"by": "es-1", "role": "specialist", "method": "fax", "reached": False},
            "method",
        ),
        ("step_down_decision", {"job_id": "j-1", "decision": "maybe"}, "decision"),
        (
            "appointment_scheduled",
            {"appointment_id": "a-1", "start": "2041-02-07T14:00", "duration_minutes": 60},
            "place",
        ),
        ("referred", {"at": "2041-02-04T09:00"}, "at"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_bad_event_names_its_field(type: str, fields: dict[str, Any], named: str) -> None:
    with pytest.raises(EventError) as refused:
        parse_event(envelope(type, **fields))
    assert refused.value.field == named
    assert named in str(refused.value)


def test_a_time_that_is_not_a_time_names_at() -> None:
    bad = EventEnvelope(event_id="ev-1", type="referred", at="last Tuesday", consumer="c-1")
    with pytest.raises(EventError) as refused:
        parse_event(bad)
    assert refused.value.field == "at"
