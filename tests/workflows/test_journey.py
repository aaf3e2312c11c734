"""Each rule of SPEC §5 through the real workflow: the due contacts it creates,
with their windows and statuses as the store keeps them, and the events that
mark them done.

Rows read (rule, job_id, seq, window_start, due, status, satisfied_on); all
dates are the consumer's (America/New_York).
"""

from __future__ import annotations

from typing import Any

from tests.workflows.conftest import Journeys

JOB: dict[str, Any] = {
    "job_id": "j-1",
    "employer": "Acme",
    "title": "Stock associate",
    "hours_per_week": 20,
    "hourly_wage": 15.5,
    "competitive": True,
}


async def open_journey(h: Journeys) -> None:
    """Referred Mon 2041-01-07, first meeting Wed 01-09, both entry tasks met."""
    await h.send("referred", "2041-01-07T10:00")
    await h.send("first_meeting", "2041-01-09T14:00")
    await h.send(
        "employer_contact",
        "2041-01-16T11:00",
        specialist="es-1",
        employer="Acme",
        face_to_face=True,
    )
    await h.send("vocational_profile_completed", "2041-01-16T15:00")


async def test_referral_creates_first_meeting_due_within_7_days(journeys: Journeys) -> None:
    h = journeys
    await h.send("referred", "2041-01-07T10:00")

    assert h.due_contacts() == [
        ("first_meeting", None, None, "2041-01-07", "2041-01-14", "open", None),
    ]


async def test_first_meeting_is_met_and_creates_the_30_day_entry_tasks(journeys: Journeys) -> None:
    h = journeys
    await h.send("referred", "2041-01-07T10:00")
    await h.send("first_meeting", "2041-01-09T14:00")

    assert h.due_contacts() == [
        ("first_meeting", None, None, "2041-01-07", "2041-01-14", "done", "2041-01-09"),
        ("first_employer_contact", None, None, "2041-01-09", "2041-02-08", "open", None),
        ("vocational_profile", None, None, "2041-01-09", "2041-02-08", "open", None),
    ]

    # Only a face-to-face employer contact naming the consumer counts.
    await h.send(
        "employer_contact",
        "2041-01-15T11:00",
        specialist="es-1",
        employer="Acme",
        face_to_face=False,
    )
    assert h.due_contacts("first_employer_contact")[0][5] == "open"
    await h.send(
        "employer_contact",
        "2041-01-23T11:00",
        specialist="es-1",
        employer="Acme",
        face_to_face=True,
    )
    await h.send("vocational_profile_completed", "2041-01-30T15:00")

    assert h.due_contacts("first_employer_contact") == [
        ("first_employer_contact", None, None, "2041-01-09", "2041-02-08", "done", "2041-01-23"),
    ]
    assert h.due_contacts("vocational_profile") == [
        ("vocational_profile", None, None, "2041-01-09", "2041-02-08", "done", "2041-01-30"),
    ]


async def test_job_starting_in_the_future_creates_every_follow_along_rule(
    journeys: Journeys,
) -> None:
    h = journeys
    await open_journey(h)
    # D = Mon 2041-02-04, S = Mon 2041-02-11; S+28d = 03-11.
    await h.send("job_started", "2041-02-04T09:00", start_date="2041-02-11", **JOB)

    job_rows = [r for r in h.due_contacts() if r[1] == "j-1"]
    assert sorted(job_rows) == sorted(
        [
            ("benefits_planning", "j-1", None, "2041-02-04", "2041-02-10", "open", None),
            ("pre_start_contact", "j-1", None, "2041-02-04", "2041-02-10", "open", None),
            ("post_start_contact", "j-1", None, "2041-02-11", "2041-02-14", "open", None),
            ("weekly_follow_along", "j-1", 1, "2041-02-12", "2041-02-18", "open", None),
            ("weekly_follow_along", "j-1", 2, "2041-02-19", "2041-02-25", "open", None),
            ("weekly_follow_along", "j-1", 3, "2041-02-26", "2041-03-04", "open", None),
            ("weekly_follow_along", "j-1", 4, "2041-03-05", "2041-03-11", "open", None),
            ("monthly_follow_along", "j-1", 1, "2041-03-12", "2041-04-11", "open", None),
            ("step_down_review", "j-1", 1, "2042-02-09", "2042-03-11", "open", None),
        ]
    )

    await h.send("benefits_planning_offered", "2041-02-06T10:00")
    await h.send("contact", "2041-02-08T10:00", method="face_to_face", place="community")
    # One face-to-face contact meets both windows that hold its day.
    await h.send("contact", "2041-02-12T10:00", method="face_to_face", place="office")
    # A phone call is a contact, but not a face-to-face one.
    await h.send("contact", "2041-02-19T10:00", method="phone")
    assert h.due_contacts("weekly_follow_along")[1][5] == "open"
    await h.send("contact", "2041-02-20T10:00", method="face_to_face")
    await h.send("contact", "2041-02-27T10:00", method="face_to_face")
    await h.send("contact", "2041-03-06T10:00", method="face_to_face")
    await h.send("contact", "2041-03-20T10:00", method="face_to_face", place="home")

    job_rows = [r for r in h.due_contacts() if r[1] == "j-1"]
    assert sorted(job_rows) == sorted(
        [
            ("benefits_planning", "j-1", None, "2041-02-04", "2041-02-10", "done", "2041-02-06"),
            ("pre_start_contact", "j-1", None, "2041-02-04", "2041-02-10", "done", "2041-02-08"),
            ("post_start_contact", "j-1", None, "2041-02-11", "2041-02-14", "done", "2041-02-12"),
            ("weekly_follow_along", "j-1", 1, "2041-02-12", "2041-02-18", "done", "2041-02-12"),
            ("weekly_follow_along", "j-1", 2, "2041-02-19", "2041-02-25", "done", "2041-02-20"),
            ("weekly_follow_along", "j-1", 3, "2041-02-26", "2041-03-04", "done", "2041-02-27"),
            ("weekly_follow_along", "j-1", 4, "2041-03-05", "2041-03-11", "done", "2041-03-06"),
            ("monthly_follow_along", "j-1", 1, "2041-03-12", "2041-04-11", "done", "2041-03-20"),
            ("step_down_review", "j-1", 1, "2042-02-09", "2042-03-11", "open", None),
        ]
    )

    # The next monthly contact appears the day after the previous one's due date.
    await h.sleep_until("2041-04-11T23:00")
    assert len(h.due_contacts("monthly_follow_along")) == 1
    await h.sleep_until("2041-04-12T01:00")
    assert h.due_contacts("monthly_follow_along") == [
        ("monthly_follow_along", "j-1", 1, "2041-03-12", "2041-04-11", "done", "2041-03-20"),
        ("monthly_follow_along", "j-1", 2, "2041-04-12", "2041-05-11", "open", None),
    ]
    assert not (await h.state()).in_outreach


async def test_job_started_after_its_start_marks_what_could_not_be_met(
    journeys: Journeys,
) -> None:
    h = journeys
    await open_journey(h)
    # Learned on Fri 2041-02-15 (D) of a job that started Mon 02-04 (S).
    await h.send("job_started", "2041-02-15T09:00", start_date="2041-02-04", **JOB)

    assert sorted(r for r in h.due_contacts() if r[1] == "j-1") == sorted(
        [
            ("benefits_planning", "j-1", None, "2041-02-15", "2041-02-22", "open", None),
            ("pre_start_contact", "j-1", None, "2041-01-28", "2041-02-03", "not_applicable", None),
            ("post_start_contact", "j-1", None, "2041-02-15", "2041-02-18", "open", None),
            ("weekly_follow_along", "j-1", 1, "2041-02-05", "2041-02-11", "not_applicable", None),
            ("weekly_follow_along", "j-1", 2, "2041-02-12", "2041-02-18", "open", None),
            ("weekly_follow_along", "j-1", 3, "2041-02-19", "2041-02-25", "open", None),
            ("weekly_follow_along", "j-1", 4, "2041-02-26", "2041-03-04", "open", None),
            ("monthly_follow_along", "j-1", 1, "2041-03-05", "2041-04-04", "open", None),
            ("step_down_review", "j-1", 1, "2042-02-02", "2042-03-04", "open", None),
        ]
    )


async def test_job_changed_adds_a_benefits_planning_due_in_14_days(journeys: Journeys) -> None:
    h = journeys
    await open_journey(h)
    await h.send("job_started", "2041-02-04T09:00", start_date="2041-02-04", **JOB)
    await h.send("benefits_planning_offered", "2041-02-05T10:00")
    await h.send("job_changed", "2041-05-06T10:00", job_id="j-1", hours_per_week=32)

    # The first benefits planning stays in the record, done; the change adds a new one.
    assert h.due_contacts("benefits_planning") == [
        ("benefits_planning", "j-1", None, "2041-02-04", "2041-02-11", "done", "2041-02-05"),
        ("benefits_planning", "j-1", None, "2041-05-06", "2041-05-20", "open", None),
    ]

    await h.send("benefits_planning_offered", "2041-05-13T10:00")
    assert h.due_contacts("benefits_planning") == [
        ("benefits_planning", "j-1", None, "2041-02-04", "2041-02-11", "done", "2041-02-05"),
        ("benefits_planning", "j-1", None, "2041-05-06", "2041-05-20", "done", "2041-05-13"),
    ]


async def test_job_ended_adds_job_loss_tasks_and_cancels_the_jobs_open_contacts(
    journeys: Journeys,
) -> None:
    h = journeys
    await open_journey(h)
    await h.send("job_started", "2041-02-04T09:00", start_date="2041-02-11", **JOB)
    await h.send("benefits_planning_offered", "2041-02-06T10:00")
    await h.send("contact", "2041-02-08T10:00", method="face_to_face")
    await h.send("contact", "2041-02-12T10:00", method="face_to_face")
    await h.send("contact", "2041-02-20T10:00", method="face_to_face")
    # Learned on Fri 2041-02-22 (L) that the job ended the day before.
    await h.send("job_ended", "2041-02-22T16:00", job_id="j-1", end_date="2041-02-21")

    assert sorted(r for r in h.due_contacts() if r[1] == "j-1") == sorted(
        [
            ("benefits_planning", "j-1", None, "2041-02-04", "2041-02-10", "done", "2041-02-06"),
            ("pre_start_contact", "j-1", None, "2041-02-04", "2041-02-10", "done", "2041-02-08"),
            ("post_start_contact", "j-1", None, "2041-02-11", "2041-02-14", "done", "2041-02-12"),
            ("weekly_follow_along", "j-1", 1, "2041-02-12", "2041-02-18", "done", "2041-02-12"),
            ("weekly_follow_along", "j-1", 2, "2041-02-19", "2041-02-25", "done", "2041-02-20"),
            ("weekly_follow_along", "j-1", 3, "2041-02-26", "2041-03-04", "cancelled", None),
            ("weekly_follow_along", "j-1", 4, "2041-03-05", "2041-03-11", "cancelled", None),
            ("monthly_follow_along", "j-1", 1, "2041-03-12", "2041-04-11", "cancelled", None),
            ("step_down_review", "j-1", 1, "2042-02-09", "2042-03-11", "cancelled", None),
            ("job_loss_contact", "j-1", None, "2041-02-22", "2041-02-25", "open", None),
            ("vocational_profile_update", "j-1", None, "2041-02-22", "2041-03-24", "open", None),
        ]
    )

    # Any contact meets the job-loss contact, a phone call included.
    await h.send("contact", "2041-02-24T12:00", method="phone")
    await h.send("vocational_profile_completed", "2041-03-01T10:00")
    assert h.due_contacts("job_loss_contact") == [
        ("job_loss_contact", "j-1", None, "2041-02-22", "2041-02-25", "done", "2041-02-24"),
    ]
    assert h.due_contacts("vocational_profile_update") == [
        (
            "vocational_profile_update",
            "j-1",
            None,
            "2041-02-22",
            "2041-03-24",
            "done",
            "2041-03-01",
        ),
    ]
    # The cancelled follow-along has no successor and started no outreach.
    await h.sleep_until("2041-04-20T12:00")
    assert len(h.due_contacts("monthly_follow_along")) == 1
    assert h.due_contacts("outreach_attempt") == []


async def test_a_missed_contact_starts_outreach_weekly_until_the_consumer_is_reached(
    journeys: Journeys,
) -> None:
    h = journeys
    await h.send("referred", "2041-01-07T10:00")

    # First meeting never happens: missed when Mon 01-14 ends; miss day M = 01-15.
    await h.sleep_until("2041-01-15T00:30")
    assert h.due_contacts() == [
        ("first_meeting", None, None, "2041-01-07", "2041-01-14", "missed", None),
        ("outreach_attempt", None, 1, "2041-01-15", "2041-01-22", "open", None),
    ]
    assert (await h.state()).in_outreach

    # No attempt in a week: attempt 1 missed, attempt 2 due a week later.
    await h.sleep_until("2041-01-23T00:30")
    assert h.due_contacts("outreach_attempt") == [
        ("outreach_attempt", None, 1, "2041-01-15", "2041-01-22", "missed", None),
        ("outreach_attempt", None, 2, "2041-01-23", "2041-01-29", "open", None),
    ]

    await h.send(
        "outreach_attempt",
        "2041-01-24T10:00",
        by="es-1",
        role="specialist",
        method="phone",
        reached=False,
    )
    assert (await h.state()).in_outreach
    await h.sleep_until("2041-01-30T00:30")
    assert h.due_contacts("outreach_attempt") == [
        ("outreach_attempt", None, 1, "2041-01-15", "2041-01-22", "missed", None),
        ("outreach_attempt", None, 2, "2041-01-23", "2041-01-29", "done", "2041-01-24"),
        ("outreach_attempt", None, 3, "2041-01-30", "2041-02-05", "open", None),
    ]

    # A contact ends outreach: the open task is cancelled and no other follows.
    await h.send("contact", "2041-02-01T10:00", method="phone")
    assert not (await h.state()).in_outreach
    await h.sleep_until("2041-03-01T00:30")
    assert h.due_contacts("outreach_attempt") == [
        ("outreach_attempt", None, 1, "2041-01-15", "2041-01-22", "missed", None),
        ("outreach_attempt", None, 2, "2041-01-23", "2041-01-29", "done", "2041-01-24"),
        ("outreach_attempt", None, 3, "2041-01-30", "2041-02-05", "cancelled", None),
    ]


async def test_a_missed_step_down_review_is_due_again_12_months_later(
    journeys: Journeys,
) -> None:
    h = journeys
    await open_journey(h)
    # S = D = Mon 2041-02-04; S+28d = 03-04; review 1 due 2042-03-04.
    await h.send("job_started", "2041-02-04T09:00", start_date="2041-02-04", **JOB)
    await h.send("benefits_planning_offered", "2041-02-05T10:00")
    for day in ("2041-02-05", "2041-02-12", "2041-02-19", "2041-02-26"):
        await h.send("contact", f"{day}T10:00", method="face_to_face")
    # Monthly follow-along met on the 10th of each month (due on the 4th), to 2042-02.
    for month in range(12):
        year, m = 2041 + (2 + month) // 12, (2 + month) % 12 + 1
        await h.send("contact", f"{year}-{m:02d}-10T10:00", method="face_to_face")

    await h.sleep_until("2042-03-05T00:30")
    assert h.due_contacts("step_down_review") == [
        ("step_down_review", "j-1", 1, "2042-02-02", "2042-03-04", "missed", None),
        ("step_down_review", "j-1", 2, "2043-02-02", "2043-03-04", "open", None),
    ]
    # A missed review stops nothing: monthly follow-along goes on, no outreach.
    months = h.due_contacts("monthly_follow_along")
    assert [r[5] for r in months] == ["done"] * 12 + ["open"]
    assert months[-1] == (
        "monthly_follow_along",
        "j-1",
        13,
        "2042-03-05",
        "2042-04-04",
        "open",
        None,
    )
    assert h.due_contacts("outreach_attempt") == []

    # A decision inside the next window meets that review; `continue` sets the
    # next one 12 months after its due date (2044 is a leap year).
    await h.send("step_down_decision", "2043-02-10T10:00", job_id="j-1", decision="continue")
    assert h.due_contacts("step_down_review") == [
        ("step_down_review", "j-1", 1, "2042-02-02", "2042-03-04", "missed", None),
        ("step_down_review", "j-1", 2, "2043-02-02", "2043-03-04", "done", "2043-02-10"),
        ("step_down_review", "j-1", 3, "2044-02-03", "2044-03-04", "open", None),
    ]


async def test_every_event_is_in_the_audit_trail_with_who_and_when(journeys: Journeys) -> None:
    h = journeys
    await h.send("referred", "2041-01-07T10:00")
    await h.sleep_until(h.at("2041-01-09T15:00"))
    # Recorded an hour after it happened.
    await h.send_envelope(
        h.envelope("contact", "2041-01-09T14:00", event_id="evt-7", method="phone", place="home")
    )

    contact = next(e for e in h.store.list_events("c-1") if e.event_id == "evt-7")
    assert (contact.type, contact.consumer_id, contact.recorded_by) == ("contact", "c-1", "es-1")
    assert contact.payload == {"method": "phone", "place": "home", "by": None}
    assert contact.at == h.at("2041-01-09T14:00")
    # When it was recorded, on the journey's clock (not the machine's).
    assert h.at("2041-01-09T15:00") <= contact.recorded_at < h.at("2041-01-09T15:05")


async def test_an_event_time_with_an_offset_is_dated_on_the_consumers_day(
    journeys: Journeys,
) -> None:
    h = journeys
    await open_journey(h)
    await h.send("job_started", "2041-02-04T09:00", start_date="2041-02-04", **JOB)
    # 03:30 UTC on 02-08 is 22:30 on Thu 02-07 in New York: inside post_start [02-04, 02-07].
    await h.send("contact", "2041-02-08T03:30+00:00", method="face_to_face")

    assert h.due_contacts("post_start_contact") == [
        ("post_start_contact", "j-1", None, "2041-02-04", "2041-02-07", "done", "2041-02-07"),
    ]
