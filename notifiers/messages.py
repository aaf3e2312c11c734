"""Message bodies. Minimum necessary data only: initials, case id, the rule in
plain words, dates and a link. Never a diagnosis, program name or clinical word."""

from __future__ import annotations

from datetime import date, datetime

from rules.due import rule_in_words

KIND_WORDS = {
    "due_soon": "Due soon",
    "due_today": "Due today",
    "overdue": "Overdue",
}


def initials(name: str) -> str:
    parts = [p for p in name.replace("-", " ").split() if p]
    return "".join(f"{p[0].upper()}." for p in parts[:3]) or "?"


def _day(d: date) -> str:
    return f"{d:%a} {d:%b} {d.day}"


def staff_reminder(
    *,
    kind: str,
    rule: str,
    consumer_name: str,
    case_id: str,
    window_start: date,
    due: date,
    send_on: date,
    link: str,
) -> tuple[str, str]:
    """(subject, body) of a reminder to staff about one due contact."""
    who = f"{initials(consumer_name)} ({case_id})"
    what = rule_in_words(rule)
    heading = KIND_WORDS.get(kind, kind)
    subject = f"{heading}: {what} for {who}"
    if kind == "overdue":
        when = f"was due {_day(due)}"
    elif kind == "due_today" and send_on == due:
        when = "is due today"
    else:
        when = f"is due by {_day(due)}"
    window = "" if window_start == due else f" (window opened {_day(window_start)})"
    body = f"{heading}: {what} for {who} {when}{window}. {link}"
    return subject, body


def appointment_reminder(
    *, sender_label: str, specialist_first_name: str, start: datetime, place: str, send_at: datetime
) -> str:
    local_start = start
    days = (local_start.date() - send_at.astimezone(start.tzinfo).date()).days
    if days == 0:
        when = "today"
    elif days == 1:
        when = "tomorrow"
    else:
        when = f"on {local_start:%a} {local_start:%b} {local_start.day}"
    clock = f"{local_start:%I:%M %p}".lstrip("0")
    return (
        f"Reminder from {sender_label}: meeting with {specialist_first_name} {when} {clock} "
        f"at {place}. Reply STOP to opt out."
    )


def opt_in_confirmation(*, sender_label: str) -> str:
    return (
        f"{sender_label}: reply YES to get appointment reminder texts. "
        "Msg&data rates may apply. Reply HELP for help, STOP to opt out."
    )


def help_reply(*, sender_label: str, contact_phone: str | None) -> str:
    contact = f" Call {contact_phone}." if contact_phone else ""
    return f"{sender_label}:{contact} Msg&data rates may apply. Reply STOP to opt out."
