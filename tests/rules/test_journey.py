"""SPEC §4–§5: the due contacts a journey creates, and what becomes of them.

Every expected date here was worked out by hand from the SPEC's table.
Weekdays used: 2041-01-07 Mon, 2041-02-04 Mon, 2041-02-11 Mon, 2041-03-04 Mon,
2041-06-05 Wed, 2041-06-15 Sat, 2041-01-10 Thu, 2041-04-20 Sat, 2041-01-03 Thu.
In 2041 New York clocks go forward on Sun 03-10; in 2043 on Sun 03-08 and back
on Sun 11-01.
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest

from rules.events import EventError
from rules.journey import check_event, next_wake, view
from tests.rules.conftest import JourneyDriver, window

Row = tuple[int | None, date, date, str]


def d(text: str) -> date:
    return date.fromisoformat(text)


def rows(journey: JourneyDriver, rule: str, job_id: str | None = None) -> list[Row]:
    """(seq, window_start, due, status) of every due contact of a rule, in order."""
    return [(dc.seq, dc.window_start, dc.due, dc.status) for dc in journey.all(rule, job_id=job_id)]


def start_job(journey: JourneyDriver, at: str, start_date: str, job_id: str = "j-1") -> None:
    journey.event(
        "job_started",
        at,
        job_id=job_id,
        employer="Acme",
        title="Stock associate",
        start_date=start_date,
        hours_per_week=20,
        hourly_wage=15.5,
        competitive=True,
    )


def enter(
    journey: JourneyDriver,
    referred: str = "2041-01-07T10:00",
    first_meeting: str = "2041-01-09T14:00",
) -> None:
    journey.event("referred", referred)
    journey.event("first_meeting", first_meeting)


def face_to_face(journey: JourneyDriver, at: str) -> None:
    journey.event("contact", at, method="face_to_face", place="community")


# ---------------------------------------------------------------- referral and entry


def test_a_referral_opens_the_first_meeting_window(journey: JourneyDriver) -> None:
    journey.event("referred", "2041-01-07T10:00")
    first = journey.due("first_meeting")
    assert window(first) == (d("2041-01-07"), d("2041-01-14"))
    assert (first.status, first.seq, first.job_id) == ("open", None, None)
    assert journey.phase == "referred"


def test_the_first_meeting_is_program_entry(journey: JourneyDriver) -> None:
    enter(journey)
    first = journey.due("first_meeting")
    assert (first.status, first.satisfied_on) == ("done", d("2041-01-09"))
    for rule in ("first_employer_contact", "vocational_profile"):
        dc = journey.due(rule)
        assert window(dc) == (d("2041-01-09"), d("2041-02-08"))
        assert (dc.status, dc.seq, dc.job_id) == ("open", None, None)
    assert journey.phase == "job_search"


def test_a_face_to_face_employer_contact_naming_the_consumer_counts(
    journey: JourneyDriver,
) -> None:
    enter(journey)
    journey.event(
        "employer_contact",
        "2041-01-22T11:00",
        specialist="es-1",
        employer="Acme",
        face_to_face=False,
    )
    assert journey.due("first_employer_contact").status == "open"
    journey.event(
        "employer_contact",
        "2041-01-23T11:00",
        specialist="es-1",
        employer="Acme",
        face_to_face=True,
    )
    dc = journey.due("first_employer_contact")
    assert (dc.status, dc.satisfied_on) == ("done", d("2041-01-23"))


def test_an_event_with_an_offset_is_dated_in_the_consumers_zone(
    journey: JourneyDriver,
) -> None:
    journey.event("referred", "2043-03-01T10:00")  # first meeting due Sun 03-08
    # 03:30 UTC on 03-09 is 23:30 on 03-08 in New York.
    journey.event("first_meeting", "2043-03-09T03:30:00+00:00")
    first = journey.due("first_meeting")
    assert (first.status, first.satisfied_on) == ("done", d("2043-03-08"))
    assert window(journey.due("vocational_profile")) == (d("2043-03-08"), d("2043-04-07"))


def test_the_last_day_of_the_window_counts(journey: JourneyDriver) -> None:
    enter(journey)
    journey.event("vocational_profile_completed", "2041-02-08T16:00")
    dc = journey.due("vocational_profile")
    assert (dc.status, dc.satisfied_on) == ("done", d("2041-02-08"))


def test_missed_when_the_due_day_ends_and_a_later_event_does_not_rescue_it(
    journey: JourneyDriver,
) -> None:
    enter(journey)
    journey.run_until("2041-02-08T23:59")
    assert journey.due("vocational_profile").status == "open"
    journey.run_until("2041-02-09T00:00")
    assert journey.due("vocational_profile").status == "missed"
    journey.event("vocational_profile_completed", "2041-02-09T09:00")
    dc = journey.due("vocational_profile")
    assert (dc.status, dc.satisfied_on) == ("missed", None)


def test_missing_a_rule_that_is_not_a_contact_starts_no_outreach(
    journey: JourneyDriver,
) -> None:
    enter(journey)
    journey.run_until("2041-02-20T12:00")
    assert journey.due("first_employer_contact").status == "missed"
    assert journey.due("vocational_profile").status == "missed"
    assert journey.all("outreach_attempt") == []
    assert not journey.state.in_outreach


def test_a_late_first_meeting_leaves_the_first_meeting_missed(journey: JourneyDriver) -> None:
    journey.event("referred", "2041-01-07T10:00")
    journey.event("first_meeting", "2041-01-16T10:00")
    first = journey.due("first_meeting")
    assert (first.status, first.satisfied_on) == ("missed", None)
    assert window(journey.due("vocational_profile")) == (d("2041-01-16"), d("2041-02-15"))


# ---------------------------------------------------------------- a job ahead


@pytest.fixture
def hired(journey: JourneyDriver) -> JourneyDriver:
    """Entered 2041-01-09; job j-1 recorded Mon 02-04, starting Mon 02-11 (S > D)."""
    enter(journey)
    start_job(journey, "2041-02-04T09:00", "2041-02-11")
    return journey


def test_a_job_ahead_creates_its_due_contacts(hired: JourneyDriver) -> None:
    expected: dict[str, list[Row]] = {
        "benefits_planning": [(None, d("2041-02-04"), d("2041-02-10"), "open")],
        "pre_start_contact": [(None, d("2041-02-04"), d("2041-02-10"), "open")],
        "post_start_contact": [(None, d("2041-02-11"), d("2041-02-14"), "open")],
        "weekly_follow_along": [
            (1, d("2041-02-12"), d("2041-02-18"), "open"),
            (2, d("2041-02-19"), d("2041-02-25"), "open"),
            (3, d("2041-02-26"), d("2041-03-04"), "open"),
            (4, d("2041-03-05"), d("2041-03-11"), "open"),
        ],
        # S+28d = 03-11; monthly 1 due a month later, opening the day after week 4.
        "monthly_follow_along": [(1, d("2041-03-12"), d("2041-04-11"), "open")],
        # (S+28d)+12 months = 2042-03-11, window from 30 days before.
        "step_down_review": [(1, d("2042-02-09"), d("2042-03-11"), "open")],
    }
    for rule, want in expected.items():
        assert rows(hired, rule) == want, rule
        assert all(dc.job_id == "j-1" for dc in hired.all(rule)), rule


def test_a_job_two_days_ahead_opens_its_pre_start_window_on_the_day_learned(
    journey: JourneyDriver,
) -> None:
    enter(journey)
    start_job(journey, "2041-02-06T10:00", "2041-02-08")
    assert rows(journey, "pre_start_contact") == [(None, d("2041-02-06"), d("2041-02-07"), "open")]
    assert rows(journey, "benefits_planning") == [(None, d("2041-02-06"), d("2041-02-07"), "open")]


def test_a_job_ahead_is_pending_until_its_start_day(hired: JourneyDriver) -> None:
    assert hired.phase == "job_pending"
    hired.run_until("2041-02-10T23:59")
    assert hired.phase == "job_pending"
    hired.run_until("2041-02-11T00:01")
    assert hired.phase == "working"


def test_one_event_satisfies_every_window_that_holds_its_date(hired: JourneyDriver) -> None:
    face_to_face(hired, "2041-02-12T10:00")
    for rule, seq in (("post_start_contact", None), ("weekly_follow_along", 1)):
        dc = hired.due(rule, seq=seq)
        assert (dc.status, dc.satisfied_on) == ("done", d("2041-02-12")), rule
    assert hired.due("weekly_follow_along", seq=2).status == "open"


def test_follow_along_needs_a_face_to_face_contact(hired: JourneyDriver) -> None:
    hired.event("contact", "2041-02-08T10:00", method="phone")
    assert hired.due("pre_start_contact").status == "open"
    face_to_face(hired, "2041-02-09T10:00")
    assert hired.due("pre_start_contact").satisfied_on == d("2041-02-09")


def test_a_contact_after_the_due_date_does_not_rescue(hired: JourneyDriver) -> None:
    face_to_face(hired, "2041-02-11T10:00")
    pre = hired.due("pre_start_contact")
    assert (pre.status, pre.satisfied_on) == ("missed", None)
    assert hired.due("post_start_contact").satisfied_on == d("2041-02-11")


def test_a_contact_before_the_window_opens_does_not_count(hired: JourneyDriver) -> None:
    face_to_face(hired, "2041-03-11T10:00")
    assert hired.due("weekly_follow_along", seq=4).status == "done"
    assert hired.due("monthly_follow_along", seq=1).status == "open"


def test_benefits_planning_is_met_by_the_offer(hired: JourneyDriver) -> None:
    hired.event("benefits_planning_offered", "2041-02-05T15:00")
    dc = hired.due("benefits_planning")
    assert (dc.status, dc.satisfied_on) == ("done", d("2041-02-05"))


def test_a_job_change_asks_for_benefits_planning_again(hired: JourneyDriver) -> None:
    hired.event("job_changed", "2041-03-20T10:00", job_id="j-1", hours_per_week=32)
    changed = hired.all("benefits_planning")[-1]
    assert (changed.job_id, window(changed), changed.status) == (
        "j-1",
        (d("2041-03-20"), d("2041-04-03")),
        "open",
    )


def test_each_benefits_planning_is_a_due_contact_of_its_own(hired: JourneyDriver) -> None:
    """The store keeps due contacts and the outbox keeps notifications by key: a
    job change's benefits planning must not take the key of the job start's, or
    the record loses one and the outbox drops the second one's reminders."""
    hired.event("benefits_planning_offered", "2041-02-05T15:00")
    hired.event("job_changed", "2041-03-20T10:00", job_id="j-1", hours_per_week=32)
    hired.event("job_changed", "2041-05-06T10:00", job_id="j-1", hourly_wage=17)
    hired.run_until("2041-05-21T12:00")
    plans = hired.all("benefits_planning")
    assert [window(dc) for dc in plans] == [
        (d("2041-02-04"), d("2041-02-10")),
        (d("2041-03-20"), d("2041-04-03")),
        (d("2041-05-06"), d("2041-05-20")),
    ]
    assert len({dc.key for dc in plans}) == 3
    assert len({dc.key for dc in hired.record}) == len(hired.record)
    keys = [r.key for r in hired.reminders]
    assert len(set(keys)) == len(keys)


# ---------------------------------------------------------------- jobs learned late


def test_a_job_learned_ten_days_after_it_started(journey: JourneyDriver) -> None:
    enter(journey, "2041-05-01T10:00", "2041-05-02T10:00")
    start_job(journey, "2041-06-15T10:00", "2041-06-05")
    assert rows(journey, "benefits_planning") == [(None, d("2041-06-15"), d("2041-06-22"), "open")]
    assert rows(journey, "pre_start_contact") == [
        (None, d("2041-05-29"), d("2041-06-04"), "not_applicable")
    ]
    assert rows(journey, "post_start_contact") == [(None, d("2041-06-15"), d("2041-06-18"), "open")]
    assert rows(journey, "weekly_follow_along") == [
        (1, d("2041-06-06"), d("2041-06-12"), "not_applicable"),
        (2, d("2041-06-13"), d("2041-06-19"), "open"),
        (3, d("2041-06-20"), d("2041-06-26"), "open"),
        (4, d("2041-06-27"), d("2041-07-03"), "open"),
    ]
    assert rows(journey, "monthly_follow_along") == [(1, d("2041-07-04"), d("2041-08-03"), "open")]
    assert rows(journey, "step_down_review") == [(1, d("2042-06-03"), d("2042-07-03"), "open")]
    assert journey.phase == "working"


def test_what_could_not_be_met_starts_no_outreach_and_no_reminder(
    journey: JourneyDriver,
) -> None:
    enter(journey, "2041-05-01T10:00", "2041-05-02T10:00")
    start_job(journey, "2041-06-15T10:00", "2041-06-05")
    journey.run_until("2041-06-17T12:00")
    assert not journey.state.in_outreach
    assert journey.all("outreach_attempt") == []
    assert journey.sent("pre_start_contact") == {}
    assert journey.sent("weekly_follow_along", seq=1) == {}


def test_a_week_due_on_the_day_the_job_is_learned_is_still_open(
    journey: JourneyDriver,
) -> None:
    enter(journey, "2041-05-01T10:00", "2041-05-02T10:00")
    start_job(journey, "2041-06-12T10:00", "2041-06-05")
    assert rows(journey, "weekly_follow_along")[0] == (1, d("2041-06-06"), d("2041-06-12"), "open")
    assert rows(journey, "post_start_contact") == [(None, d("2041-06-12"), d("2041-06-15"), "open")]


def test_a_job_learned_on_its_start_day(journey: JourneyDriver) -> None:
    enter(journey, "2041-05-01T10:00", "2041-05-02T10:00")
    start_job(journey, "2041-06-05T10:00", "2041-06-05")
    assert rows(journey, "post_start_contact") == [(None, d("2041-06-05"), d("2041-06-08"), "open")]
    assert rows(journey, "benefits_planning") == [(None, d("2041-06-05"), d("2041-06-12"), "open")]
    assert rows(journey, "pre_start_contact")[0][3] == "not_applicable"


def test_a_job_learned_more_than_two_months_late(journey: JourneyDriver) -> None:
    enter(journey, "2040-12-03T10:00", "2040-12-04T10:00")
    # S = Thu 2041-01-10, learned Sat 04-20. S+28d = 02-07.
    start_job(journey, "2041-04-20T10:00", "2041-01-10")
    journey.run_until("2041-04-22T12:00")
    assert [r[3] for r in rows(journey, "weekly_follow_along")] == ["not_applicable"] * 4
    assert rows(journey, "monthly_follow_along") == [
        (1, d("2041-02-08"), d("2041-03-07"), "not_applicable"),
        (2, d("2041-03-08"), d("2041-04-07"), "not_applicable"),
        (3, d("2041-04-08"), d("2041-05-07"), "open"),
    ]
    assert rows(journey, "post_start_contact") == [(None, d("2041-04-20"), d("2041-04-23"), "open")]
    assert rows(journey, "step_down_review") == [(1, d("2042-01-08"), d("2042-02-07"), "open")]
    assert not journey.state.in_outreach
    assert journey.all("outreach_attempt") == []
    assert journey.sent("monthly_follow_along", seq=1) == {}
    assert journey.sent("monthly_follow_along", seq=2) == {}


# ---------------------------------------------------------------- month ends


def test_monthly_dues_clamp_to_the_month_end(journey: JourneyDriver) -> None:
    enter(journey, "2040-12-03T10:00", "2040-12-04T10:00")
    # S = 2041-01-03: S+28d = Jan 31.
    start_job(journey, "2041-01-02T10:00", "2041-01-03")
    journey.run_until("2041-06-01T12:00")
    assert [(seq, ws, due) for seq, ws, due, _ in rows(journey, "monthly_follow_along")] == [
        (1, d("2041-02-01"), d("2041-02-28")),
        (2, d("2041-03-01"), d("2041-03-31")),
        (3, d("2041-04-01"), d("2041-04-30")),
        (4, d("2041-05-01"), d("2041-05-31")),
        (5, d("2041-06-01"), d("2041-06-30")),
    ]
    assert window(journey.due("step_down_review")) == (d("2042-01-01"), d("2042-01-31"))


def test_monthly_dues_in_a_leap_year(journey: JourneyDriver) -> None:
    enter(journey, "2043-12-01T10:00", "2043-12-02T10:00")
    # S = 2044-01-03: S+28d = Jan 31, 2044 is a leap year.
    start_job(journey, "2044-01-02T10:00", "2044-01-03")
    journey.run_until("2044-04-02T12:00")
    assert [(seq, ws, due) for seq, ws, due, _ in rows(journey, "monthly_follow_along")] == [
        (1, d("2044-02-01"), d("2044-02-29")),
        (2, d("2044-03-01"), d("2044-03-31")),
        (3, d("2044-04-01"), d("2044-04-30")),
    ]


def test_the_next_monthly_contact_appears_the_day_after_the_due_date(
    journey: JourneyDriver,
) -> None:
    enter(journey, "2040-12-03T10:00", "2040-12-04T10:00")
    start_job(journey, "2041-01-02T10:00", "2041-01-03")
    journey.run_until("2041-02-28T12:00")
    assert [r[0] for r in rows(journey, "monthly_follow_along")] == [1]
    journey.run_until("2041-03-01T12:00")
    assert [r[0] for r in rows(journey, "monthly_follow_along")] == [1, 2]


# ---------------------------------------------------------------- daylight saving


def test_a_due_day_ends_at_local_midnight_on_the_23_hour_day(journey: JourneyDriver) -> None:
    journey.event("referred", "2043-03-01T10:00")  # first meeting due Sun 03-08
    journey.run_until("2043-03-08T23:59")
    assert journey.due("first_meeting").status == "open"
    journey.run_until("2043-03-09T00:00")
    assert journey.due("first_meeting").status == "missed"
    assert window(journey.due("outreach_attempt", seq=1)) == (d("2043-03-09"), d("2043-03-16"))


def test_a_due_day_ends_at_local_midnight_on_the_25_hour_day(journey: JourneyDriver) -> None:
    journey.event("referred", "2043-10-25T10:00")  # first meeting due Sun 11-01
    journey.run_until("2043-11-01T23:30")
    assert journey.due("first_meeting").status == "open"
    journey.run_until("2043-11-02T00:00")
    assert journey.due("first_meeting").status == "missed"


# ---------------------------------------------------------------- outreach


def test_outreach_paces_weekly_four_times_then_every_thirty_days(
    journey: JourneyDriver,
) -> None:
    journey.event("referred", "2041-03-04T10:00")  # first meeting due 03-11: M = 03-12
    journey.run_until("2041-06-09T12:00")
    assert rows(journey, "outreach_attempt") == [
        (1, d("2041-03-12"), d("2041-03-19"), "missed"),
        (2, d("2041-03-20"), d("2041-03-26"), "missed"),
        (3, d("2041-03-27"), d("2041-04-02"), "missed"),
        (4, d("2041-04-03"), d("2041-04-09"), "missed"),
        (5, d("2041-04-10"), d("2041-05-09"), "missed"),
        (6, d("2041-05-10"), d("2041-06-08"), "missed"),
        (7, d("2041-06-09"), d("2041-07-08"), "open"),
    ]
    assert all(dc.job_id is None for dc in journey.all("outreach_attempt"))
    assert journey.state.in_outreach


def test_outreach_goes_on_for_ever_at_the_thirty_day_pace(journey: JourneyDriver) -> None:
    journey.event("referred", "2041-03-04T10:00")
    journey.run_until("2043-03-04T12:00")
    tasks = journey.all("outreach_attempt")
    assert len(tasks) == 4 + 24
    for before, after in zip(tasks, tasks[1:], strict=False):
        assert after.window_start == before.due + timedelta(days=1)
    assert [t.due - tasks[i - 1].due for i, t in enumerate(tasks) if i >= 4] == [
        timedelta(days=30)
    ] * 24
    assert sum(t.status == "open" for t in tasks) == 1


def test_an_outreach_attempt_satisfies_the_open_task(journey: JourneyDriver) -> None:
    journey.event("referred", "2041-03-04T10:00")
    journey.event(
        "outreach_attempt",
        "2041-03-14T10:00",
        by="es-1",
        role="specialist",
        method="phone",
        reached=False,
    )
    first = journey.due("outreach_attempt", seq=1)
    assert (first.status, first.satisfied_on) == ("done", d("2041-03-14"))
    assert journey.state.in_outreach
    journey.run_until("2041-03-20T12:00")
    assert window(journey.due("outreach_attempt", seq=2)) == (d("2041-03-20"), d("2041-03-26"))


def test_a_contact_ends_outreach_and_cancels_the_open_task(journey: JourneyDriver) -> None:
    journey.event("referred", "2041-03-04T10:00")
    journey.run_until("2041-03-20T12:00")
    journey.event("contact", "2041-03-22T10:00", method="phone")
    assert not journey.state.in_outreach
    assert journey.due("outreach_attempt", seq=2).status == "cancelled"
    journey.run_until("2041-05-01T12:00")
    assert [r[0] for r in rows(journey, "outreach_attempt")] == [1, 2]
    # Task 2's due_soon (Sun 03-24, moved back to Fri 03-22 08:00) went before
    # the contact; nothing after it.
    assert journey.sent("outreach_attempt", seq=2) == {"due_soon": "2041-03-22T08:00:00-04:00"}


def test_a_reached_attempt_ends_outreach(journey: JourneyDriver) -> None:
    journey.event("referred", "2041-03-04T10:00")
    journey.event(
        "outreach_attempt",
        "2041-03-14T10:00",
        by="es-1",
        role="specialist",
        method="home_visit",
        reached=True,
    )
    assert not journey.state.in_outreach
    journey.run_until("2041-05-01T12:00")
    assert [r[0] for r in rows(journey, "outreach_attempt")] == [1]
    assert all(dc.status != "open" for dc in journey.all("outreach_attempt"))


def test_a_new_episode_counts_from_one(hired: JourneyDriver) -> None:
    face_to_face(hired, "2041-02-08T10:00")  # pre-start met
    # Post-start [02-11, 02-14] missed: outreach from 02-15. Week 1 is missed
    # during outreach: no second episode.
    hired.run_until("2041-02-19T12:00")
    face_to_face(hired, "2041-02-20T10:00")  # week 2 met; outreach ends
    # Week 3 [02-26, 03-04] missed: a new episode from 03-05.
    hired.run_until("2041-03-05T12:00")
    assert rows(hired, "outreach_attempt") == [
        (1, d("2041-02-15"), d("2041-02-22"), "cancelled"),
        (1, d("2041-03-05"), d("2041-03-12"), "open"),
    ]
    assert len({dc.key for dc in hired.record}) == len(hired.record)


def attempts_then_third_task(journey: JourneyDriver, by: str, role: str) -> None:
    """Referred Mon 2041-03-04; first meeting missed; unreached attempts on the due
    days of outreach tasks 1 (Tue 03-19) and 2 (Tue 03-26), after their 08:00
    reminders; task 3 [03-27, 04-02] runs its course."""
    journey.event("referred", "2041-03-04T10:00")
    for at in ("2041-03-19T10:00", "2041-03-26T10:00"):
        journey.event("outreach_attempt", at, by=by, role=role, method="phone", reached=False)
    journey.run_until("2041-04-04T12:00")


def test_after_two_unreached_specialist_attempts_the_treatment_team_hears_too(
    new_journey: Callable[..., JourneyDriver],
) -> None:
    journey = new_journey(treatment_team_member=True)
    attempts_then_third_task(journey, by="es-1", role="specialist")
    third = journey.due("outreach_attempt", seq=3)
    assert window(third) == (d("2041-03-27"), d("2041-04-02"))
    late = [r for r in journey.reminders if r.due_contact_key == third.key]
    assert [(r.kind, r.send_at.isoformat()) for r in late] == [
        ("due_soon", "2041-03-29T08:00:00-04:00"),
        ("due_today", "2041-04-02T08:00:00-04:00"),
        ("overdue", "2041-04-03T08:00:00-04:00"),
    ]
    assert all(r.recipient_roles == ["specialist", "treatment_team_member"] for r in late)
    earlier = [r for r in journey.reminders if r.due_contact_key != third.key]
    assert {r.kind for r in earlier if r.rule == "outreach_attempt"} == {"due_soon", "due_today"}
    assert all(r.recipient_roles == ["specialist"] for r in earlier)


def test_without_a_treatment_team_member_only_the_specialist_hears(
    journey: JourneyDriver,
) -> None:
    attempts_then_third_task(journey, by="es-1", role="specialist")
    assert journey.sent("outreach_attempt", seq=3)
    assert all(r.recipient_roles == ["specialist"] for r in journey.reminders)


def test_attempts_by_others_do_not_count_as_the_specialists(
    new_journey: Callable[..., JourneyDriver],
) -> None:
    journey = new_journey(treatment_team_member=True)
    attempts_then_third_task(journey, by="cm-1", role="case_manager")
    assert journey.sent("outreach_attempt", seq=3)
    assert all(r.recipient_roles == ["specialist"] for r in journey.reminders)


# ---------------------------------------------------------------- step-down


def test_continue_sets_the_next_review_from_the_previous_due_date(
    hired: JourneyDriver,
) -> None:
    hired.event("step_down_decision", "2042-02-10T10:00", job_id="j-1", decision="continue")
    first = hired.due("step_down_review", seq=1)
    assert (first.status, first.satisfied_on) == ("done", d("2042-02-10"))
    second = hired.due("step_down_review", seq=2)
    assert (window(second), second.status, second.job_id) == (
        (d("2043-02-09"), d("2043-03-11")),
        "open",
        "j-1",
    )
    hired.run_until("2042-04-12T12:00")
    # Monthly contacts go on: m13 due (S+28d)+13 months.
    assert window(hired.due("monthly_follow_along", seq=13)) == (
        d("2042-03-12"),
        d("2042-04-11"),
    )


def test_a_missed_review_sets_the_next_one_from_its_due_date(hired: JourneyDriver) -> None:
    hired.run_until("2042-03-11T23:59")
    assert hired.due("step_down_review", seq=1).status == "open"
    hired.run_until("2042-04-12T12:00")
    assert hired.due("step_down_review", seq=1).status == "missed"
    second = hired.due("step_down_review", seq=2)
    assert (window(second), second.status) == ((d("2043-02-09"), d("2043-03-11")), "open")
    assert window(hired.due("monthly_follow_along", seq=13)) == (
        d("2042-03-12"),
        d("2042-04-11"),
    )


def test_transition_stops_monthly_contacts(hired: JourneyDriver) -> None:
    hired.event("step_down_decision", "2042-03-01T10:00", job_id="j-1", decision="transition")
    assert hired.due("step_down_review", seq=1).satisfied_on == d("2042-03-01")
    assert hired.phase == "step_down"
    assert not hired.state.closed
    hired.run_until("2042-07-01T12:00")
    # m12 [2042-02-12, 2042-03-11] was open at the decision; none follows it.
    assert max(r[0] or 0 for r in rows(hired, "monthly_follow_along")) == 12
    assert hired.phase == "step_down"


def test_a_job_loss_after_transition_still_asks_for_a_contact(hired: JourneyDriver) -> None:
    hired.event("step_down_decision", "2042-03-01T10:00", job_id="j-1", decision="transition")
    hired.event("job_ended", "2042-05-06T10:00", job_id="j-1", end_date="2042-05-02")
    dc = hired.due("job_loss_contact")
    assert (window(dc), dc.status, dc.job_id) == ((d("2042-05-06"), d("2042-05-09")), "open", "j-1")


# ---------------------------------------------------------------- several jobs


@pytest.fixture
def two_jobs(hired: JourneyDriver) -> JourneyDriver:
    """j-1 as in `hired`; j-2 recorded Wed 2041-02-20, starting Fri 03-01."""
    start_job(hired, "2041-02-20T10:00", "2041-03-01", job_id="j-2")
    return hired


def test_each_job_has_its_own_follow_along(two_jobs: JourneyDriver) -> None:
    assert rows(two_jobs, "pre_start_contact", "j-2") == [
        (None, d("2041-02-22"), d("2041-02-28"), "open")
    ]
    assert rows(two_jobs, "benefits_planning", "j-2") == [
        (None, d("2041-02-20"), d("2041-02-28"), "open")
    ]
    assert rows(two_jobs, "post_start_contact", "j-2") == [
        (None, d("2041-03-01"), d("2041-03-04"), "open")
    ]
    assert [r[1:3] for r in rows(two_jobs, "weekly_follow_along", "j-2")] == [
        (d("2041-03-02"), d("2041-03-08")),
        (d("2041-03-09"), d("2041-03-15")),
        (d("2041-03-16"), d("2041-03-22")),
        (d("2041-03-23"), d("2041-03-29")),
    ]
    assert rows(two_jobs, "monthly_follow_along", "j-2") == [
        (1, d("2041-03-30"), d("2041-04-29"), "open")
    ]
    assert window(two_jobs.due("step_down_review", job_id="j-2")) == (
        d("2042-02-27"),
        d("2042-03-29"),
    )


def test_one_contact_meets_both_jobs_windows(two_jobs: JourneyDriver) -> None:
    face_to_face(two_jobs, "2041-03-02T10:00")
    for rule, seq, job_id in (
        ("weekly_follow_along", 3, "j-1"),
        ("post_start_contact", None, "j-2"),
        ("weekly_follow_along", 1, "j-2"),
    ):
        assert two_jobs.due(rule, seq=seq, job_id=job_id).satisfied_on == d("2041-03-02"), (
            rule,
            job_id,
        )


def test_a_job_ending_cancels_only_that_jobs_open_contacts(two_jobs: JourneyDriver) -> None:
    face_to_face(two_jobs, "2041-03-02T10:00")
    two_jobs.event("job_ended", "2041-03-06T10:00", job_id="j-1", end_date="2041-03-05")
    assert two_jobs.due("weekly_follow_along", seq=4, job_id="j-1").status == "cancelled"
    assert two_jobs.due("monthly_follow_along", seq=1, job_id="j-1").status == "cancelled"
    assert two_jobs.due("step_down_review", job_id="j-1").status == "cancelled"
    assert two_jobs.due("weekly_follow_along", seq=2, job_id="j-2").status == "open"
    assert two_jobs.due("monthly_follow_along", seq=1, job_id="j-2").status == "open"
    assert two_jobs.due("step_down_review", job_id="j-2").status == "open"
    loss = two_jobs.due("job_loss_contact")
    assert (window(loss), loss.job_id, loss.status) == (
        (d("2041-03-06"), d("2041-03-09")),
        "j-1",
        "open",
    )
    update = two_jobs.due("vocational_profile_update")
    assert (window(update), update.job_id) == ((d("2041-03-06"), d("2041-04-05")), "j-1")

    two_jobs.event("contact", "2041-03-08T10:00", method="phone")
    assert two_jobs.due("job_loss_contact").satisfied_on == d("2041-03-08")
    two_jobs.run_until("2041-05-01T12:00")
    # Week 4 of j-1 would have had its due_soon on Fri 03-08: cancelled, none.
    assert two_jobs.sent("weekly_follow_along", seq=4, job_id="j-1") == {}
    assert two_jobs.sent("monthly_follow_along", seq=1, job_id="j-1") == {}
    # j-2's week 2 [03-09, 03-15] is reminded as usual (due−2d is Wed 03-13).
    assert two_jobs.sent("weekly_follow_along", seq=2, job_id="j-2") == {
        "due_soon": "2041-03-13T08:00:00-04:00",
        "due_today": "2041-03-15T08:00:00-04:00",
        "overdue": "2041-03-18T08:00:00-04:00",
    }
    assert [r[0] for r in rows(two_jobs, "monthly_follow_along", "j-1")] == [1]
    assert [r[0] for r in rows(two_jobs, "monthly_follow_along", "j-2")] == [1, 2]


def test_one_profile_meets_the_profile_and_its_update(journey: JourneyDriver) -> None:
    enter(journey)  # vocational profile [01-09, 02-08]
    start_job(journey, "2041-01-14T10:00", "2041-01-14")
    journey.event("job_ended", "2041-01-21T10:00", job_id="j-1", end_date="2041-01-20")
    journey.event("vocational_profile_completed", "2041-01-25T10:00")
    assert journey.due("vocational_profile").satisfied_on == d("2041-01-25")
    assert journey.due("vocational_profile_update").satisfied_on == d("2041-01-25")


# ---------------------------------------------------------------- closure


def test_services_declined_closes_the_journey(journey: JourneyDriver) -> None:
    journey.event("referred", "2041-03-04T10:00")
    journey.run_until("2041-03-13T12:00")  # in outreach since 03-12
    journey.event("services_declined", "2041-03-14T10:00", reason="moving away")
    assert journey.due("outreach_attempt", seq=1).status == "cancelled"
    assert journey.state.closed
    assert not journey.state.in_outreach
    assert journey.now is not None
    assert next_wake(journey.state, journey.now) is None
    before = len(journey.reminders)
    journey.run_until("2041-06-01T12:00")
    assert len(journey.reminders) == before
    assert [r[0] for r in rows(journey, "outreach_attempt")] == [1]
    assert view(journey.state, journey.now).closed


def test_a_closed_journey_accepts_only_a_referral(journey: JourneyDriver) -> None:
    enter(journey)
    journey.event("services_declined", "2041-01-20T10:00", reason="not now")
    assert journey.due("vocational_profile").status == "cancelled"
    assert journey.due("first_employer_contact").status == "cancelled"
    for type, fields in (
        ("contact", {"method": "phone"}),
        ("first_meeting", {}),
        ("vocational_profile_completed", {}),
    ):
        assert journey.refused(type, "2041-01-22T10:00", **fields).field == "type"


def test_a_re_referral_starts_a_new_first_meeting(journey: JourneyDriver) -> None:
    enter(journey)
    journey.event("services_declined", "2041-01-20T10:00", reason="not now")
    journey.event("referred", "2041-02-01T10:00")
    firsts = journey.all("first_meeting")
    assert [(window(dc), dc.status) for dc in firsts] == [
        ((d("2041-01-07"), d("2041-01-14")), "done"),
        ((d("2041-02-01"), d("2041-02-08")), "open"),
    ]
    assert journey.due("vocational_profile").status == "cancelled"
    assert journey.phase == "referred"
    journey.event("first_meeting", "2041-02-04T10:00")
    assert journey.all("first_meeting")[1].satisfied_on == d("2041-02-04")
    profiles = journey.all("vocational_profile")
    assert [(window(dc), dc.status) for dc in profiles] == [
        ((d("2041-01-09"), d("2041-02-08")), "cancelled"),
        ((d("2041-02-04"), d("2041-03-06")), "open"),
    ]


# ---------------------------------------------------------------- refusals


def test_a_referral_while_open_is_refused(journey: JourneyDriver) -> None:
    journey.event("referred", "2041-01-07T10:00")
    assert journey.refused("referred", "2041-01-08T10:00").field == "type"


def test_a_second_first_meeting_is_refused(journey: JourneyDriver) -> None:
    enter(journey)
    assert journey.refused("first_meeting", "2041-01-10T10:00").field == "type"


@pytest.mark.parametrize(
    ("type", "fields"),
    [
        ("job_ended", {"job_id": "j-9", "end_date": "2041-02-20"}),
        ("job_changed", {"job_id": "j-9", "hourly_wage": 17}),
        ("step_down_decision", {"job_id": "j-9", "decision": "continue"}),
    ],
    ids=["job_ended", "job_changed", "step_down_decision"],
)
def test_an_unknown_job_is_refused_naming_job_id(
    hired: JourneyDriver, type: str, fields: dict[str, object]
) -> None:
    assert hired.refused(type, "2041-02-21T10:00", **fields).field == "job_id"


def test_a_job_ending_before_it_started_is_refused(hired: JourneyDriver) -> None:
    error = hired.refused("job_ended", "2041-02-21T10:00", job_id="j-1", end_date="2041-02-10")
    assert error.field == "end_date"


def test_an_event_in_the_future_is_refused_naming_at(journey: JourneyDriver) -> None:
    journey.event("referred", "2041-01-07T10:00")
    event = journey.parse("contact", "2041-01-08T10:00", method="phone")
    with pytest.raises(EventError) as refused:
        check_event(journey.state, event, datetime.fromisoformat("2041-01-07T12:00-05:00"))
    assert refused.value.field == "at"


# ---------------------------------------------------------------- the view


def test_the_view_lists_open_and_missed_due_contacts(hired: JourneyDriver) -> None:
    face_to_face(hired, "2041-02-09T10:00")
    hired.run_until("2041-02-15T12:00")
    assert hired.now is not None
    listed = {(v.rule, v.seq): v.status for v in view(hired.state, hired.now).due_contacts}
    assert listed[("post_start_contact", None)] == "missed"
    assert listed[("weekly_follow_along", 1)] == "open"
    assert ("pre_start_contact", None) not in listed  # done
