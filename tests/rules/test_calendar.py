"""Calendar arithmetic in the person's own zone: month-end clamping, daylight
saving, working days (SPEC §5 notation, §6)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rules import calendar

NEW_YORK = "America/New_York"
WORKING = frozenset(range(5))  # Monday–Friday


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2041, 1, 31), 1, date(2041, 2, 28)),
        (date(2044, 1, 31), 1, date(2044, 2, 29)),
        (date(2041, 1, 31), 2, date(2041, 3, 31)),
        (date(2041, 1, 31), 3, date(2041, 4, 30)),
        (date(2041, 1, 31), 12, date(2042, 1, 31)),
        (date(2043, 2, 28), 12, date(2044, 2, 28)),
        (date(2044, 2, 29), 12, date(2045, 2, 28)),
    ],
)
def test_a_calendar_month_clamps_the_day_to_the_months_end(
    day: date, months: int, expected: date
) -> None:
    assert calendar.add_months(day, months) == expected


def test_eight_in_the_morning_has_the_offset_of_the_day() -> None:
    # 2043: clocks go forward Sun 03-08 and back Sun 11-01 in New York.
    assert calendar.local_instant(date(2043, 3, 6), 8 * 60, NEW_YORK).isoformat() == (
        "2043-03-06T08:00:00-05:00"
    )
    assert calendar.local_instant(date(2043, 3, 9), 8 * 60, NEW_YORK).isoformat() == (
        "2043-03-09T08:00:00-04:00"
    )
    assert calendar.local_instant(date(2043, 10, 30), 8 * 60, NEW_YORK).isoformat() == (
        "2043-10-30T08:00:00-04:00"
    )
    assert calendar.local_instant(date(2043, 11, 2), 8 * 60, NEW_YORK).isoformat() == (
        "2043-11-02T08:00:00-05:00"
    )


def test_a_local_day_ends_at_local_midnight_even_on_a_23_or_25_hour_day() -> None:
    utc = ZoneInfo("UTC")
    spring = calendar.end_of_day(date(2043, 3, 8), NEW_YORK)
    assert spring.astimezone(utc) == datetime(2043, 3, 9, 4, 0, tzinfo=utc)
    spring_start = calendar.start_of_day(date(2043, 3, 8), NEW_YORK)
    # Same-zone subtraction in Python is wall-clock; compare in UTC.
    assert spring.astimezone(utc) - spring_start.astimezone(utc) == timedelta(hours=23)
    autumn = calendar.end_of_day(date(2043, 11, 1), NEW_YORK)
    assert autumn.astimezone(utc) == datetime(2043, 11, 2, 5, 0, tzinfo=utc)
    autumn_start = calendar.start_of_day(date(2043, 11, 1), NEW_YORK)
    assert autumn.astimezone(utc) - autumn_start.astimezone(utc) == timedelta(hours=25)


def test_an_event_time_without_offset_is_the_persons_local_time() -> None:
    local = calendar.to_local(datetime(2043, 3, 9, 10, 0), NEW_YORK)
    assert local.isoformat() == "2043-03-09T10:00:00-04:00"
    with_offset = calendar.to_local(datetime.fromisoformat("2043-03-09T10:00:00+00:00"), NEW_YORK)
    assert with_offset.isoformat() == "2043-03-09T06:00:00-04:00"
    assert calendar.local_date(datetime.fromisoformat("2043-03-10T02:00:00+00:00"), NEW_YORK) == (
        date(2043, 3, 9)
    )


def test_non_working_days_move_back_or_forward_to_a_working_day() -> None:
    saturday, sunday = date(2043, 3, 7), date(2043, 3, 8)
    assert calendar.previous_working_day(saturday, WORKING) == date(2043, 3, 6)
    assert calendar.previous_working_day(sunday, WORKING) == date(2043, 3, 6)
    assert calendar.next_working_day(saturday, WORKING) == date(2043, 3, 9)
    assert calendar.next_working_day(sunday, WORKING) == date(2043, 3, 9)
    assert calendar.next_working_day(date(2043, 3, 4), WORKING) == date(2043, 3, 4)


def test_an_unknown_time_zone_is_named() -> None:
    with pytest.raises(calendar.TimeZoneError) as refused:
        calendar.zone("America/Atlantis")
    assert "America/Atlantis" in str(refused.value)
