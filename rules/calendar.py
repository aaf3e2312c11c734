"""Calendar arithmetic in a person's own time zone.

Due contacts are whole local days; reminders are local clock times. Every
conversion between a local day and an instant goes through here so that
daylight-saving changes are handled in one place.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta


class TimeZoneError(ValueError):
    """An IANA time zone name that does not exist."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeZoneError(
            f"{name!r} is not an IANA time zone name (for example America/New_York)"
        ) from None


def add_months(day: date, months: int) -> date:
    """A calendar month later, the day clamped to the month's end (Jan 31 + 1 = Feb 28)."""
    return day + relativedelta(months=months)


def local_instant(day: date, minutes: int, tz: str) -> datetime:
    """The instant when the local clock in `tz` shows `minutes` after midnight on `day`.

    A clock time skipped by a spring-forward change resolves to the instant just
    after the gap; a repeated one to its first occurrence.
    """
    naive = datetime.combine(day, time()) + timedelta(minutes=minutes)
    z = zone(tz)
    # Round-trip through UTC: a time inside a spring-forward gap comes back moved past it.
    return naive.replace(tzinfo=z).astimezone(ZoneInfo("UTC")).astimezone(z)


def start_of_day(day: date, tz: str) -> datetime:
    return local_instant(day, 0, tz)


def end_of_day(day: date, tz: str) -> datetime:
    """The instant the local day ends: the start of the next one."""
    return start_of_day(day + timedelta(days=1), tz)


def local_date(instant: datetime, tz: str) -> date:
    return instant.astimezone(zone(tz)).date()


def to_local(at: datetime, tz: str) -> datetime:
    """An event time as an aware instant: naive means the person's local time."""
    if at.tzinfo is None or at.utcoffset() is None:
        return local_instant(at.date(), at.hour * 60 + at.minute, tz).replace(
            second=at.second, microsecond=at.microsecond
        )
    return at.astimezone(zone(tz))


def previous_working_day(day: date, working: frozenset[int]) -> date:
    while day.weekday() not in working:
        day -= timedelta(days=1)
    return day


def next_working_day(day: date, working: frozenset[int]) -> date:
    while day.weekday() not in working:
        day += timedelta(days=1)
    return day
