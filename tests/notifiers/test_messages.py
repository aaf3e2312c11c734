"""Message bodies carry the minimum necessary: initials, case id, the rule in
plain words, dates and a link; never a full name or a clinical word."""

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from notifiers import messages
from rules.due import RULE_WORDS

CLINICAL_WORDS = (
    "diagnos", "schizo", "bipolar", "depress", "psych", "mental", "substance", "disorder",
    "illness", "medication", "therapy", "treatment", "clinic", "ips ",
)  # fmt: skip


@pytest.mark.parametrize("rule", sorted(RULE_WORDS))
@pytest.mark.parametrize("kind", ["due_soon", "due_today", "overdue"])
def test_staff_reminders_name_the_rule_in_words_without_clinical_words(
    rule: str, kind: str
) -> None:
    subject, body = messages.staff_reminder(
        kind=kind,
        rule=rule,
        consumer_name="Maria de la Cruz",
        case_id="c-42",
        window_start=date(2041, 3, 1),
        due=date(2041, 3, 8),
        send_on=date(2041, 3, 6),
        link="https://ips.test/consumers/c-42",
    )
    for text in (subject, body):
        assert "M.D.L. (c-42)" in text
        assert "Maria" not in text and "Cruz" not in text
        assert RULE_WORDS[rule] in text
        assert not [w for w in CLINICAL_WORDS if w in text.lower()], text


def test_a_due_today_moved_to_friday_names_the_real_due_day() -> None:
    _, body = messages.staff_reminder(
        kind="due_today",
        rule="weekly_follow_along",
        consumer_name="Alex Smith",
        case_id="c-1",
        window_start=date(2041, 2, 4),
        due=date(2041, 2, 10),  # a Sunday
        send_on=date(2041, 2, 8),
        link="x",
    )
    assert "is due by Sun Feb 10" in body
    assert "due today" not in body


def test_appointment_reminder_reads_like_the_spec_example() -> None:
    tz = ZoneInfo("America/New_York")
    body = messages.appointment_reminder(
        sender_label="Wellspring Works",
        specialist_first_name="Jordan",
        start=datetime(2041, 3, 5, 14, 0, tzinfo=tz),
        place="Main St Library",
        send_at=datetime(2041, 3, 4, 14, 0, tzinfo=tz),
    )
    assert body == (
        "Reminder from Wellspring Works: meeting with Jordan tomorrow 2:00 PM at "
        "Main St Library. Reply STOP to opt out."
    )
    assert len(body) <= 160


SPANISH_REMINDER = (
    "Recordatorio de Wellspring Works: reunión con Jordan mañana a las 2:00 PM en "
    "Main St Library. Responda STOP para no recibir más mensajes."
)


def _reminder(start: datetime, send_at: datetime, language: str) -> str:
    return messages.appointment_reminder(
        sender_label="Wellspring Works",
        specialist_first_name="Jordan",
        start=start,
        place="Main St Library",
        send_at=send_at,
        language=language,
    )


def test_a_spanish_appointment_reminder_says_manana_a_las() -> None:
    tz = ZoneInfo("America/New_York")
    start = datetime(2041, 3, 5, 14, 0, tzinfo=tz)
    assert _reminder(start, datetime(2041, 3, 4, 14, 0, tzinfo=tz), "es") == SPANISH_REMINDER


@pytest.mark.parametrize(
    ("start", "send_at", "expected"),
    [
        # One o'clock takes "a la"; the same day is "hoy".
        (datetime(2041, 3, 5, 13, 0), datetime(2041, 3, 5, 9, 0), "hoy a la 1:00 PM"),
        (datetime(2041, 3, 5, 0, 30), datetime(2041, 3, 4, 8, 0), "mañana a las 12:30 AM"),
        # Weekday and month names come from the code, not the machine's locale.
        (datetime(2041, 3, 13, 9, 5), datetime(2041, 3, 11, 9, 5), "el miércoles 13 de marzo"),
        (datetime(2041, 9, 29, 10, 0), datetime(2041, 9, 26, 10, 0), "el domingo 29 de septiembre"),
    ],
)
def test_spanish_days_and_hours(start: datetime, send_at: datetime, expected: str) -> None:
    tz = ZoneInfo("America/New_York")
    body = _reminder(start.replace(tzinfo=tz), send_at.replace(tzinfo=tz), "es")
    assert expected in body


def test_an_english_reminder_for_a_later_day_names_the_day() -> None:
    tz = ZoneInfo("America/New_York")
    body = _reminder(
        datetime(2041, 3, 13, 9, 5, tzinfo=tz), datetime(2041, 3, 11, 9, 5, tzinfo=tz), "en"
    )
    assert "meeting with Jordan on Wed Mar 13 9:05 AM at Main St Library." in body


@pytest.mark.parametrize(
    ("language", "rates", "stop", "call"),
    [
        ("en", "Msg&data rates may apply.", "Reply STOP to opt out.", "Call +15555550100."),
        (
            "es",
            "Pueden aplicarse tarifas de mensajes y datos.",
            "Responda STOP para no recibir más mensajes.",
            "Llame al +15555550100.",
        ),
    ],
)
def test_help_replies_name_the_sender_the_phone_the_rates_and_stop(
    language: str, rates: str, stop: str, call: str
) -> None:
    with_phone = messages.help_reply(
        sender_label="Wellspring Works", contact_phone="+15555550100", language=language
    )
    assert with_phone == f"Wellspring Works: {call} {rates} {stop}"
    without = messages.help_reply(
        sender_label="Wellspring Works", contact_phone=None, language=language
    )
    assert without == f"Wellspring Works: {rates} {stop}"


def test_the_spanish_opt_in_asks_for_the_keyword_yes() -> None:
    body = messages.opt_in_confirmation(sender_label="Wellspring Works", language="es")
    assert body.startswith("Wellspring Works: responda YES para recibir recordatorios")
    assert "Pueden aplicarse tarifas de mensajes y datos." in body
    assert "STOP" in body and "HELP" in body


def test_a_placeholder_without_a_value_names_the_template_and_the_placeholder() -> None:
    with pytest.raises(messages.MessageTemplateError, match=r"es/help_reply\.txt.*\$sender_label"):
        messages.render("help_reply", "es")


def test_a_language_without_texts_is_refused_by_name() -> None:
    with pytest.raises(messages.MessageTemplateError, match="'fr'.*en, es"):
        messages.opt_in_confirmation(sender_label="Wellspring Works", language="fr")


def test_a_missing_template_is_named() -> None:
    with pytest.raises(messages.MessageTemplateError, match=r"no template es/staff_reminder\.txt"):
        messages.render("staff_reminder", "es")


def test_a_stray_dollar_in_a_template_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "templates" / "en").mkdir(parents=True)
    (tmp_path / "templates" / "en" / "price.txt").write_text("Only $5 today\n", encoding="utf-8")
    monkeypatch.setattr(messages.resources, "files", lambda package: tmp_path)
    messages._template.cache_clear()
    try:
        with pytest.raises(messages.MessageTemplateError, match=r"en/price\.txt.*\$\$"):
            messages.render("price")
    finally:
        messages._template.cache_clear()
