"""SPEC §2: every number is a policy default an agency can override; a bad policy
file is refused with the name of the setting at fault."""

from collections.abc import Callable
from datetime import date

import pytest

from rules.journey import view
from rules.policy import Policy, PolicyError, load_policy
from tests.rules.conftest import JourneyDriver, window


def test_no_overrides_gives_the_spec_defaults() -> None:
    policy = load_policy({})
    assert policy == Policy()
    assert load_policy(None) == Policy()
    assert policy.first_meeting_days == 7
    assert policy.first_employer_contact_days == 30
    assert policy.working_days == ("mon", "tue", "wed", "thu", "fri")
    assert policy.reminder_time == "08:00"
    assert policy.appointment_reminder_offsets_hours == (24.0,)
    assert (policy.sms_send_window_start, policy.sms_send_window_end) == ("08:00", "20:00")


def test_a_changed_number_changes_the_window(
    new_journey: Callable[..., JourneyDriver],
) -> None:
    journey = new_journey(policy=load_policy({"first_meeting_days": 10}))
    journey.event("referred", "2041-01-07T10:00")
    assert window(journey.due("first_meeting")) == (date(2041, 1, 7), date(2041, 1, 17))


def test_a_changed_follow_along_number_changes_the_windows(
    new_journey: Callable[..., JourneyDriver],
) -> None:
    journey = new_journey(
        policy=load_policy({"post_start_days": 5, "monthly_follow_along_anchor_days": 35})
    )
    journey.event("referred", "2041-01-07T10:00")
    journey.event("first_meeting", "2041-01-09T14:00")
    journey.event(
        "job_started",
        "2041-02-04T09:00",
        job_id="j-1",
        employer="Acme",
        title="Stock associate",
        start_date="2041-02-11",
        hours_per_week=20,
        hourly_wage=15.5,
        competitive=True,
    )
    assert window(journey.due("post_start_contact")) == (date(2041, 2, 11), date(2041, 2, 16))
    # S+35d = Mar 18; monthly 1 due a month later, the window opening after week 4.
    assert journey.due("monthly_follow_along", seq=1).due == date(2041, 4, 18)


def test_working_days_and_reminder_time_are_the_agencys(
    new_journey: Callable[..., JourneyDriver],
) -> None:
    journey = new_journey(
        policy=load_policy(
            {"working_days": ["mon", "tue", "wed", "thu", "fri", "sat"], "reminder_time": "09:30"}
        )
    )
    # Referred Sat 2041-01-05: first meeting due Sat 01-12, a working day here.
    journey.event("referred", "2041-01-05T10:00")
    journey.run_until("2041-01-14T12:00")
    assert journey.sent("first_meeting") == {
        "due_soon": "2041-01-10T09:30:00-05:00",
        "due_today": "2041-01-12T09:30:00-05:00",
        # Sunday 01-13 is not a working day: overdue moves forward to Monday.
        "overdue": "2041-01-14T09:30:00-05:00",
    }


def test_a_changed_outreach_pace(new_journey: Callable[..., JourneyDriver]) -> None:
    journey = new_journey(
        policy=load_policy({"outreach_weekly_attempts": 2, "outreach_later_interval_days": 14})
    )
    journey.event("referred", "2041-03-04T10:00")  # first meeting missed: M = 03-12
    journey.run_until("2041-04-20T12:00")
    assert [window(dc) for dc in journey.all("outreach_attempt")] == [
        (date(2041, 3, 12), date(2041, 3, 19)),
        (date(2041, 3, 20), date(2041, 3, 26)),
        (date(2041, 3, 27), date(2041, 4, 9)),
        (date(2041, 4, 10), date(2041, 4, 23)),
    ]


def test_a_journey_records_its_policy_version(
    new_journey: Callable[..., JourneyDriver],
) -> None:
    journey = new_journey(policy=load_policy({"version": "agency-2041-a"}))
    journey.event("referred", "2041-01-07T10:00")
    assert journey.now is not None
    assert view(journey.state, journey.now).policy_version == "agency-2041-a"


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"first_meeting_dayz": 7}, "first_meeting_dayz"),
        ({"first_meeting_days": "a week"}, "first_meeting_days"),
        ({"first_meeting_days": -1}, "first_meeting_days"),
        ({"job_loss_contact_days": 2.5}, "job_loss_contact_days"),
        ({"working_days": ["mon", "funday"]}, "working_days"),
        ({"reminder_time": "8am"}, "reminder_time"),
        ({"sms_send_window_start": "25:00"}, "sms_send_window_start"),
        ({"appointment_reminder_offsets_hours": [-2]}, "appointment_reminder_offsets_hours"),
        ({"send_own_stop_reply": "perhaps"}, "send_own_stop_reply"),
        ({"weekly_follow_along_weeks": 0}, "weekly_follow_along_weeks"),
        ({"working_days": []}, "working_days"),
        ({"outreach_weekly_interval_days": 0}, "outreach_weekly_interval_days"),
        ({"outreach_later_interval_days": 0}, "outreach_later_interval_days"),
    ],
    ids=lambda value: str(value),
)
def test_a_bad_policy_is_refused_naming_the_setting(
    overrides: dict[str, object], named: str
) -> None:
    with pytest.raises(PolicyError) as refused:
        load_policy(overrides)
    assert named in str(refused.value)


def test_a_send_window_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(PolicyError) as refused:
        load_policy({"sms_send_window_start": "20:00", "sms_send_window_end": "08:00"})
    assert "sms_send_window" in str(refused.value)
