"""When staff reminders (SPEC §6) and appointment texts (SPEC §7) go out.

January 2041: Mon 7, Fri 11, Mon 14. February 2041: Mon 4 … Thu 7.
2043 in New York: clocks go forward Sun 03-08 and back Sun 11-01.
"""

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from rules.policy import Policy, load_policy
from rules.reminders import appointment_reminder_time, staff_reminder_times
from tests.rules.conftest import LOS_ANGELES, NEW_YORK, JourneyDriver

POLICY = Policy()


def times(window_start: date, due: date, tz: str = NEW_YORK) -> dict[str, str]:
    return {
        kind: at.isoformat()
        for kind, at in staff_reminder_times(window_start, due, tz, POLICY).items()
    }


# ---------------------------------------------------------------- staff reminders


def test_due_soon_two_days_ahead_due_today_and_overdue_the_day_after() -> None:
    assert times(date(2041, 1, 7), date(2041, 1, 9)) == {
        "due_soon": "2041-01-07T08:00:00-05:00",
        "due_today": "2041-01-09T08:00:00-05:00",
        "overdue": "2041-01-10T08:00:00-05:00",
    }


def test_due_soon_never_before_the_window_opens() -> None:
    # Window [Wed 9, Thu 10]: due−2d is Tue 8, before the window; due_soon Wed 9.
    assert times(date(2041, 1, 9), date(2041, 1, 10))["due_soon"] == "2041-01-09T08:00:00-05:00"


def test_no_due_soon_when_it_would_fall_on_the_due_date() -> None:
    assert times(date(2041, 1, 10), date(2041, 1, 10)) == {
        "due_today": "2041-01-10T08:00:00-05:00",
        "overdue": "2041-01-11T08:00:00-05:00",
    }


def test_a_friday_due_date_is_overdue_on_monday() -> None:
    assert times(date(2041, 1, 7), date(2041, 1, 11)) == {
        "due_soon": "2041-01-09T08:00:00-05:00",
        "due_today": "2041-01-11T08:00:00-05:00",
        "overdue": "2041-01-14T08:00:00-05:00",
    }


def test_a_saturday_due_date_is_reminded_on_friday_and_overdue_on_monday() -> None:
    assert times(date(2041, 1, 7), date(2041, 1, 12)) == {
        "due_soon": "2041-01-10T08:00:00-05:00",
        "due_today": "2041-01-11T08:00:00-05:00",
        "overdue": "2041-01-14T08:00:00-05:00",
    }


def test_a_sunday_due_date_is_reminded_on_friday_and_overdue_on_monday() -> None:
    found = times(date(2041, 1, 7), date(2041, 1, 13))
    # (Whether a due_soon also goes on that Friday is left open by the SPEC.)
    assert found["due_today"] == "2041-01-11T08:00:00-05:00"
    assert found["overdue"] == "2041-01-14T08:00:00-05:00"


def test_a_due_soon_on_a_weekend_moves_back_to_friday() -> None:
    # Due Mon 14: due−2d is Sat 12.
    assert times(date(2041, 1, 7), date(2041, 1, 14)) == {
        "due_soon": "2041-01-11T08:00:00-05:00",
        "due_today": "2041-01-14T08:00:00-05:00",
        "overdue": "2041-01-15T08:00:00-05:00",
    }


def test_eight_oclock_follows_daylight_saving_in_march() -> None:
    assert times(date(2043, 3, 2), date(2043, 3, 9)) == {
        "due_soon": "2043-03-06T08:00:00-05:00",
        "due_today": "2043-03-09T08:00:00-04:00",
        "overdue": "2043-03-10T08:00:00-04:00",
    }


def test_eight_oclock_follows_daylight_saving_in_november() -> None:
    assert times(date(2043, 10, 26), date(2043, 11, 2)) == {
        "due_soon": "2043-10-30T08:00:00-04:00",
        "due_today": "2043-11-02T08:00:00-05:00",
        "overdue": "2043-11-03T08:00:00-05:00",
    }


def test_eight_oclock_in_the_specialists_own_zone() -> None:
    assert times(date(2043, 3, 2), date(2043, 3, 9), LOS_ANGELES) == {
        "due_soon": "2043-03-06T08:00:00-08:00",
        "due_today": "2043-03-09T08:00:00-07:00",
        "overdue": "2043-03-10T08:00:00-07:00",
    }


# ------------------------------------------------- staff reminders in a journey


def test_first_meeting_reminders_across_the_march_change(journey: JourneyDriver) -> None:
    journey.event("referred", "2043-03-02T10:00")
    journey.run_until("2043-03-11T12:00")
    assert journey.sent("first_meeting") == {
        "due_soon": "2043-03-06T08:00:00-05:00",
        "due_today": "2043-03-09T08:00:00-04:00",
        "overdue": "2043-03-10T08:00:00-04:00",
    }


def test_first_meeting_reminders_across_the_november_change(journey: JourneyDriver) -> None:
    journey.event("referred", "2043-10-26T10:00")
    journey.run_until("2043-11-04T12:00")
    assert journey.sent("first_meeting") == {
        "due_soon": "2043-10-30T08:00:00-04:00",
        "due_today": "2043-11-02T08:00:00-05:00",
        "overdue": "2043-11-03T08:00:00-05:00",
    }


def test_a_specialist_in_another_zone_gets_eight_oclock_in_their_zone(
    new_journey: Callable[..., JourneyDriver],
) -> None:
    journey = new_journey(specialist_timezone=LOS_ANGELES)
    journey.event("referred", "2043-03-02T10:00")
    journey.run_until("2043-03-11T12:00")
    assert journey.sent("first_meeting") == {
        "due_soon": "2043-03-06T08:00:00-08:00",
        "due_today": "2043-03-09T08:00:00-07:00",
        "overdue": "2043-03-10T08:00:00-07:00",
    }
    assert journey.due("first_meeting").status == "missed"


def test_the_miss_is_the_consumers_midnight_not_the_specialists(
    new_journey: Callable[..., JourneyDriver],
) -> None:
    journey = new_journey(specialist_timezone=LOS_ANGELES)
    journey.event("referred", "2043-03-02T10:00")  # first meeting due Mon 03-09
    journey.run_until("2043-03-09T23:59")
    assert journey.due("first_meeting").status == "open"
    # Midnight in New York is 21:00 in Los Angeles.
    journey.run_until(datetime.fromisoformat("2043-03-09T21:00:00-07:00"))
    assert journey.due("first_meeting").status == "missed"


def test_no_due_today_or_overdue_once_done(journey: JourneyDriver) -> None:
    journey.event("referred", "2041-01-07T10:00")
    journey.event("first_meeting", "2041-01-14T07:30")
    journey.run_until("2041-01-16T12:00")
    # due−2d is Sat 12: due_soon moves back to Fri 11.
    assert journey.sent("first_meeting") == {"due_soon": "2041-01-11T08:00:00-05:00"}


def test_a_reminder_whose_moment_passed_before_creation_is_not_sent(
    journey: JourneyDriver,
) -> None:
    journey.event("referred", "2041-01-07T09:00")
    journey.event("first_meeting", "2041-01-07T09:30")
    # Recorded Tue 8 at 10:00, start Thu 10: benefits planning window [Tue 8, Wed 9];
    # its due_soon (Tue 8 08:00) had passed when it was created.
    journey.event(
        "job_started",
        "2041-01-08T10:00",
        job_id="j-1",
        employer="Acme",
        title="Stock associate",
        start_date="2041-01-10",
        hours_per_week=20,
        hourly_wage=15.5,
        competitive=True,
    )
    journey.event("benefits_planning_offered", "2041-01-09T11:00")
    assert journey.sent("benefits_planning", job_id="j-1") == {
        "due_today": "2041-01-09T08:00:00-05:00"
    }


def test_a_reminder_still_ahead_at_creation_is_sent(journey: JourneyDriver) -> None:
    journey.event("referred", "2041-01-07T09:00")
    journey.event("first_meeting", "2041-01-07T09:30")
    journey.event(
        "job_started",
        "2041-01-08T07:00",
        job_id="j-1",
        employer="Acme",
        title="Stock associate",
        start_date="2041-01-10",
        hours_per_week=20,
        hourly_wage=15.5,
        competitive=True,
    )
    journey.event("benefits_planning_offered", "2041-01-09T11:00")
    assert journey.sent("benefits_planning", job_id="j-1") == {
        "due_soon": "2041-01-08T08:00:00-05:00",
        "due_today": "2041-01-09T08:00:00-05:00",
    }


def test_reminders_go_to_the_specialist(journey: JourneyDriver) -> None:
    journey.event("referred", "2041-01-07T10:00")
    journey.run_until("2041-01-16T12:00")
    assert journey.reminders
    assert all(r.recipient_roles == ["specialist"] for r in journey.reminders)


# ---------------------------------------------------------------- appointment texts

NY = ZoneInfo(NEW_YORK)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NY)


def reminder_at(start: str, booked: str, hours: float = 24) -> str | None:
    at = appointment_reminder_time(local(start), hours, local(booked), NEW_YORK, POLICY)
    return None if at is None else at.astimezone(NY).isoformat()


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2041-02-07T14:00", "2041-02-06T14:00:00-05:00"),
        ("2041-02-07T08:00", "2041-02-06T08:00:00-05:00"),
        ("2041-02-07T19:59", "2041-02-06T19:59:00-05:00"),
        # Targets outside 08:00–19:59 go to the latest permitted minute before.
        ("2041-02-07T20:00", "2041-02-06T19:59:00-05:00"),
        ("2041-02-07T21:30", "2041-02-06T19:59:00-05:00"),
        ("2041-02-07T07:00", "2041-02-05T19:59:00-05:00"),
    ],
)
def test_an_appointment_reminder_goes_at_the_latest_permitted_minute(
    start: str, expected: str
) -> None:
    assert reminder_at(start, booked="2041-02-04T09:00") == expected


@pytest.mark.parametrize(
    ("start", "booked", "expected"),
    [
        # Booked exactly at the target: it has not passed.
        ("2041-02-07T14:00", "2041-02-06T14:00", "2041-02-06T14:00:00-05:00"),
        # Booked after the target: the first permitted minute at or after booking.
        ("2041-02-07T14:00", "2041-02-06T16:00", "2041-02-06T16:00:00-05:00"),
        ("2041-02-07T14:00", "2041-02-07T12:30", "2041-02-07T12:30:00-05:00"),
        ("2041-02-07T14:00", "2041-02-06T21:00", "2041-02-07T08:00:00-05:00"),
        # 08:00 is exactly one hour before: still sent.
        ("2041-02-07T09:00", "2041-02-06T21:00", "2041-02-07T08:00:00-05:00"),
        # Less than an hour left at the first permitted minute: skipped.
        ("2041-02-07T08:59", "2041-02-06T21:00", None),
        ("2041-02-07T14:00", "2041-02-07T13:30", None),
        ("2041-02-07T07:00", "2041-02-06T21:00", None),
    ],
)
def test_an_appointment_booked_late(start: str, booked: str, expected: str | None) -> None:
    assert reminder_at(start, booked) == expected


def appointment(journey: JourneyDriver, at: str, start: str, appointment_id: str = "a-1") -> None:
    journey.event(
        "appointment_scheduled",
        at,
        appointment_id=appointment_id,
        start=start,
        duration_minutes=60,
        place="Main St Library",
    )


def texts(journey: JourneyDriver) -> list[tuple[str, str, str]]:
    return [(t.kind, t.send_at.isoformat(), t.status) for t in journey.texts]


def test_an_opted_in_consumer_gets_the_reminder_a_day_ahead(
    new_journey: Callable[..., JourneyDriver],
) -> None:
    journey = new_journey(sms_consent="opted_in")
    journey.event("referred", "2041-02-01T10:00")
    appointment(journey, "2041-02-04T09:00", "2041-02-07T14:00")
    journey.run_until("2041-02-08T00:00")
    assert texts(journey) == [("appointment_reminder", "2041-02-06T14:00:00-05:00", "sent")]
    assert journey.texts[0].place == "Main St Library"


def test_without_consent_the_reminder_is_skipped_at_the_same_moment(
    journey: JourneyDriver,
) -> None:
    journey.event("referred", "2041-02-01T10:00")
    appointment(journey, "2041-02-04T09:00", "2041-02-07T14:00")
    journey.run_until("2041-02-08T00:00")
    assert texts(journey) == [
        ("appointment_reminder", "2041-02-06T14:00:00-05:00", "skipped_no_consent")
    ]


def test_consent_is_checked_when_the_text_is_sent(
    new_journey: Callable[..., JourneyDriver],
) -> None:
    journey = new_journey(sms_consent="opted_in")
    journey.event("referred", "2041-02-01T10:00")
    appointment(journey, "2041-02-04T09:00", "2041-02-07T14:00")
    journey.event("sms_reply", "2041-02-05T12:00", body="STOP")
    appointment(journey, "2041-02-05T12:30", "2041-02-08T10:00", appointment_id="a-2")
    journey.event("sms_reply", "2041-02-06T18:00", body="start")
    journey.run_until("2041-02-09T00:00")
    assert texts(journey) == [
        ("appointment_reminder", "2041-02-06T14:00:00-05:00", "skipped_no_consent"),
        ("appointment_reminder", "2041-02-07T10:00:00-05:00", "sent"),
    ]


def test_a_reminder_too_late_to_send_is_recorded_at_the_booking_time(
    new_journey: Callable[..., JourneyDriver],
) -> None:
    journey = new_journey(sms_consent="opted_in")
    journey.event("referred", "2041-02-01T10:00")
    appointment(journey, "2041-02-07T13:30", "2041-02-07T14:00")
    journey.run_until("2041-02-08T00:00")
    assert texts(journey) == [
        ("appointment_reminder", "2041-02-07T13:30:00-05:00", "skipped_too_late")
    ]


def test_a_cancelled_appointment_sends_nothing(
    new_journey: Callable[..., JourneyDriver],
) -> None:
    journey = new_journey(sms_consent="opted_in")
    journey.event("referred", "2041-02-01T10:00")
    appointment(journey, "2041-02-04T09:00", "2041-02-07T14:00")
    journey.event("appointment_cancelled", "2041-02-05T09:00", appointment_id="a-1")
    journey.run_until("2041-02-08T00:00")
    assert journey.texts == []


def test_the_agency_chooses_the_reminder_offsets(
    new_journey: Callable[..., JourneyDriver],
) -> None:
    journey = new_journey(
        sms_consent="opted_in", policy=load_policy({"appointment_reminder_offsets_hours": [48, 2]})
    )
    journey.event("referred", "2041-02-01T10:00")
    appointment(journey, "2041-02-04T09:00", "2041-02-07T14:00")
    journey.run_until("2041-02-08T00:00")
    assert texts(journey) == [
        ("appointment_reminder", "2041-02-05T14:00:00-05:00", "sent"),
        ("appointment_reminder", "2041-02-07T12:00:00-05:00", "sent"),
    ]
