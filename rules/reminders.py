"""When reminders go out: staff reminders (SPEC §6) and appointment texts (SPEC §7)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from rules import calendar
from rules.policy import Policy


def staff_reminder_times(
    window_start: date, due: date, tz: str, policy: Policy
) -> dict[str, datetime]:
    """The moments of `due_soon`, `due_today` and `overdue` for one due contact,
    at the reminder time on the recipient's local working days.

    A reminder on a non-working day moves to the previous working day, except
    `overdue`, which moves to the next. A `due_soon` that would fall on the day
    of the `due_today` is left out: the `due_today` covers it.
    """
    working = policy.working_weekdays
    minutes = policy.reminder_minutes
    today_day = calendar.previous_working_day(due, working)
    soon_day = calendar.previous_working_day(
        max(window_start, due - timedelta(days=policy.due_soon_days)), working
    )
    times: dict[str, datetime] = {}
    if soon_day < today_day:
        times["due_soon"] = calendar.local_instant(soon_day, minutes, tz)
    times["due_today"] = calendar.local_instant(today_day, minutes, tz)
    overdue_day = calendar.next_working_day(due + timedelta(days=1), working)
    times["overdue"] = calendar.local_instant(overdue_day, minutes, tz)
    return times


def appointment_reminder_time(
    start: datetime, hours_before: float, booked_at: datetime, tz: str, policy: Policy
) -> datetime | None:
    """When an appointment reminder is sent, or None when it is too late to send.

    The reminder goes at the latest permitted minute at or before its target
    time. If that minute had passed when the appointment was booked, it goes at
    the first permitted minute after booking, provided that is still far enough
    ahead of the appointment.
    """
    first_minute, end_minute = policy.sms_window_minutes
    last_minute = end_minute - 1
    target = (start - timedelta(hours=hours_before)).astimezone(calendar.zone(tz))
    target = target.replace(second=0, microsecond=0)
    minute_of_day = target.hour * 60 + target.minute
    if first_minute <= minute_of_day <= last_minute:
        send_at = target
    elif minute_of_day > last_minute:
        send_at = calendar.local_instant(target.date(), last_minute, tz)
    else:
        send_at = calendar.local_instant(target.date() - timedelta(days=1), last_minute, tz)
    if send_at >= booked_at:
        return send_at
    booked = booked_at.astimezone(calendar.zone(tz))
    if booked.second or booked.microsecond:
        booked = booked.replace(second=0, microsecond=0) + timedelta(minutes=1)
    booked_minute = booked.hour * 60 + booked.minute
    if first_minute <= booked_minute <= last_minute:
        first = booked
    elif booked_minute < first_minute:
        first = calendar.local_instant(booked.date(), first_minute, tz)
    else:
        first = calendar.local_instant(booked.date() + timedelta(days=1), first_minute, tz)
    lead = timedelta(minutes=policy.appointment_reminder_min_lead_minutes)
    if first <= start - lead:
        return first
    return None
