"""Message bodies, rendered from the template files in `notifiers/templates/<language>/`.

Minimum necessary data only: initials, case id, the rule in plain words, dates
and a link. Never a diagnosis, program name or clinical word; a text to a
consumer is signed with the agency's sender label, never its legal name.

A template holds a message's sentences with `$name` placeholders
(`string.Template`), one file per message and language. A message with an
optional part has a file for each form (`help_reply`, `help_reply_with_phone`);
a phrase that changes with the case has its own small file
(`staff_reminder_is_due_by`, `appointment_reminder_on_day`, `day`). The words
that fill them in (weekday and month names, today and tomorrow) are tables
here, one per language, so that no text depends on the machine's locale.
Staff messages are in English; consumer texts are in the consumer's language.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from string import Template

from rules.due import rule_in_words

LANGUAGES = ("en", "es")

KIND_WORDS = {
    "due_soon": "Due soon",
    "due_today": "Due today",
    "overdue": "Overdue",
}


@dataclass(frozen=True)
class _DayWords:
    weekdays: tuple[str, ...]  # Monday first, as date.weekday() counts
    months: tuple[str, ...]  # January first
    today: str
    tomorrow: str


_DAY_WORDS = {
    "en": _DayWords(
        weekdays=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        months=(
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ),
        today="today",
        tomorrow="tomorrow",
    ),
    "es": _DayWords(
        weekdays=("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
        months=(
            "enero", "febrero", "marzo", "abril", "mayo", "junio",
            "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
        ),
        today="hoy",
        tomorrow="mañana",
    ),
}  # fmt: skip


class MessageTemplateError(LookupError):
    """A template that is missing or malformed, or a placeholder no value was given for."""


def render(name: str, language: str = "en", **values: str) -> str:
    """The template `<language>/<name>.txt` with every placeholder filled in."""
    try:
        return _template(language, name).substitute(values)
    except KeyError as missing:
        raise MessageTemplateError(
            f"template {language}/{name}.txt has the placeholder ${missing.args[0]}, "
            "which this message does not fill in"
        ) from None


@functools.cache
def _template(language: str, name: str) -> Template:
    _check_language(language)
    resource = resources.files("notifiers") / "templates" / language / f"{name}.txt"
    try:
        text = resource.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MessageTemplateError(
            f"no template {language}/{name}.txt in notifiers/templates"
        ) from None
    template = Template(text.removesuffix("\n"))
    if not template.is_valid():
        raise MessageTemplateError(
            f"template {language}/{name}.txt has a $ that starts no placeholder "
            "(a placeholder is $name or ${name}; write $$ for a dollar sign)"
        )
    return template


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise MessageTemplateError(
            f"no message texts in language {language!r}: there are {', '.join(LANGUAGES)}"
        )


def initials(name: str) -> str:
    parts = [p for p in name.replace("-", " ").split() if p]
    return "".join(f"{p[0].upper()}." for p in parts[:3]) or "?"


def _day(d: date, language: str = "en") -> str:
    _check_language(language)
    words = _DAY_WORDS[language]
    return render(
        "day",
        language,
        weekday=words.weekdays[d.weekday()],
        month=words.months[d.month - 1],
        day=str(d.day),
    )


def window_in_words(window_start: date, due: date) -> str:
    """A due contact's window in English, `Mon Mar 4 – Mon Mar 11`; one day alone
    when it starts on its due date."""
    if window_start == due:
        return _day(due)
    return f"{_day(window_start)} – {_day(due)}"


def _clock(t: datetime) -> str:
    """2:00 PM, in English and Spanish texts alike."""
    return f"{t.hour % 12 or 12}:{t.minute:02d} {'AM' if t.hour < 12 else 'PM'}"


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
    """(subject, body) of a reminder to staff about one due contact, in English."""
    values = {
        "heading": KIND_WORDS.get(kind, kind),
        "rule": rule_in_words(rule),
        "consumer": f"{initials(consumer_name)} ({case_id})",
        "link": link,
    }
    if kind == "overdue":
        when = render("staff_reminder_was_due", due=_day(due))
    elif kind == "due_today" and send_on == due:
        when = render("staff_reminder_is_due_today")
    else:
        when = render("staff_reminder_is_due_by", due=_day(due))
    subject = render("staff_reminder_subject", **values)
    if window_start == due:
        body = render("staff_reminder", **values, when=when)
    else:
        body = render(
            "staff_reminder_with_window", **values, when=when, window_start=_day(window_start)
        )
    return subject, body


@dataclass(frozen=True)
class DigestLine:
    """One consumer's line in a digest: a due contact (rule and due date) or an
    appointment (its start, local to the reader)."""

    consumer_name: str
    case_id: str
    rule: str | None = None
    due: date | None = None
    start: datetime | None = None


def _lines(template: str, lines: list[DigestLine]) -> str:
    if not lines:
        return render("digest_none")
    return "\n".join(
        render(
            template,
            consumer=f"{initials(line.consumer_name)} ({line.case_id})",
            rule=rule_in_words(line.rule) if line.rule else "",
            due=_day(line.due) if line.due else "",
            time=_clock(line.start) if line.start else "",
        )
        for line in lines
    )


def daily_digest(
    *,
    day: date,
    due_today: list[DigestLine],
    overdue: list[DigestLine],
    in_outreach: list[DigestLine],
    appointments: list[DigestLine],
    link: str,
) -> tuple[str, str]:
    """(subject, body) of a specialist's morning digest (SPEC §6), in English."""
    count = len(due_today) + len(overdue) + len(in_outreach) + len(appointments)
    lists = {
        "due_today": _lines("digest_due_line", due_today),
        "overdue": _lines("digest_overdue_line", overdue),
        "in_outreach": _lines("digest_outreach_line", in_outreach),
        "appointments": _lines("digest_appointment_line", appointments),
    }
    subject = render("daily_digest_subject", day=_day(day), count=str(count))
    return subject, render("daily_digest", day=_day(day), link=link, **lists)


@dataclass(frozen=True)
class SpecialistWeek:
    """One specialist's week in the supervisor's digest. `by_rule`: rule ->
    (met on time, due that week)."""

    specialist_name: str
    by_rule: dict[str, tuple[int, int]]
    missed: int
    employer_contacts: int
    employer_contacts_target: int
    caseload: int
    caseload_limit: float
    in_outreach: int


def _number(value: float) -> str:
    return f"{value:g}"


def weekly_digest(
    *, week_start: date, week_end: date, specialists: list[SpecialistWeek], link: str
) -> tuple[str, str]:
    """(subject, body) of a supervisor's Monday digest of last week (SPEC §6)."""
    parts = []
    for week in specialists:
        by_rule = "\n".join(
            render("weekly_digest_rule_line", rule=rule_in_words(rule), met=str(m), due=str(d))
            for rule, (m, d) in sorted(week.by_rule.items())
        )
        parts.append(
            render(
                "weekly_digest_specialist",
                specialist=week.specialist_name,
                met=str(sum(m for m, _ in week.by_rule.values())),
                due=str(sum(d for _, d in week.by_rule.values())),
                by_rule=by_rule,
                missed=str(week.missed),
                employer_contacts=str(week.employer_contacts),
                target=str(week.employer_contacts_target),
                caseload=str(week.caseload),
                limit=_number(week.caseload_limit),
                in_outreach=str(week.in_outreach),
            ).replace("\n\n", "\n")
        )
    body_parts = "\n\n".join(parts) or render("weekly_digest_no_specialists")
    period = {"week_start": _day(week_start), "week_end": _day(week_end)}
    subject = render("weekly_digest_subject", **period)
    return subject, render("weekly_digest", **period, specialists=body_parts, link=link)


def employer_contacts_nudge(*, count: int, target: int, link: str) -> tuple[str, str]:
    """(subject, body) of the Thursday nudge to a specialist with few employer contacts."""
    values = {"count": str(count), "target": str(target)}
    subject = render("employer_contacts_nudge_subject", **values)
    return subject, render("employer_contacts_nudge", **values, link=link)


@dataclass(frozen=True)
class Caseload:
    specialist_name: str
    active: int
    fte: float
    limit: float


def caseload_warning(*, over_limit: list[Caseload], per_fte: int, link: str) -> tuple[str, str]:
    """(subject, body) of the warning to a supervisor whose specialists' caseloads
    are above the limit. It warns only: nothing is refused (SPEC §1)."""
    lines = "\n".join(
        render(
            "caseload_warning_line",
            specialist=c.specialist_name,
            caseload=str(c.active),
            limit=_number(c.limit),
            fte=_number(c.fte),
        )
        for c in over_limit
    )
    subject = render("caseload_warning_subject")
    return subject, render("caseload_warning", per_fte=str(per_fte), lines=lines, link=link)


def appointment_reminder(
    *,
    sender_label: str,
    specialist_first_name: str,
    start: datetime,
    place: str,
    send_at: datetime,
    language: str = "en",
) -> str:
    _check_language(language)
    words = _DAY_WORDS[language]
    days = (start.date() - send_at.astimezone(start.tzinfo).date()).days
    if days == 0:
        when = words.today
    elif days == 1:
        when = words.tomorrow
    else:
        when = render("appointment_reminder_on_day", language, day=_day(start.date(), language))
    return render(
        "appointment_reminder",
        language,
        sender_label=sender_label,
        specialist_first_name=specialist_first_name,
        when=when,
        time=_clock(start),
        # Spanish: "a la 1:00 PM", but "a las 2:00 PM".
        a_las="a la" if start.hour % 12 == 1 else "a las",
        place=place,
    )


def opt_in_confirmation(*, sender_label: str, language: str = "en") -> str:
    return render("opt_in_confirmation", language, sender_label=sender_label)


def opt_out_confirmation(*, sender_label: str, language: str = "en") -> str:
    """Our own answer to STOP, sent only where the policy says the provider sends none."""
    return render("opt_out_confirmation", language, sender_label=sender_label)


def help_reply(*, sender_label: str, contact_phone: str | None, language: str = "en") -> str:
    if contact_phone:
        return render(
            "help_reply_with_phone",
            language,
            sender_label=sender_label,
            contact_phone=contact_phone,
        )
    return render("help_reply", language, sender_label=sender_label)


# ---------------------------------------------------------------- SMS segments

# GSM 03.38: the basic character set (one septet each; 0x1B, the escape to the
# extension table, left out) and the extension table (escape + one: two septets).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


def sms_encoding(body: str) -> str:
    """GSM-7 when every character is in the GSM-7 tables, else UCS-2 (one á is enough)."""
    return "GSM-7" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in body) else "UCS-2"


def sms_segments(body: str) -> int:
    """How many segments a carrier bills for `body`.

    One segment holds 160 GSM-7 septets or 70 UCS-2 code units; a longer text
    is split into parts of 153 or 67 (the rest carries the part header), and a
    character is never split across two parts.
    """
    if sms_encoding(body) == "GSM-7":
        units = [2 if c in GSM7_EXTENSION else 1 for c in body]
        single, part = 160, 153
    else:
        units = [len(c.encode("utf-16-le")) // 2 for c in body]
        single, part = 70, 67
    if sum(units) <= single:
        return 1
    segments, used = 1, 0
    for unit in units:
        if used + unit > part:
            segments, used = segments + 1, 0
        used += unit
    return segments
