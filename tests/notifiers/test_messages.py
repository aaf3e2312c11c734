"""Message bodies carry the minimum necessary: initials, case id, the rule in
plain words, dates and a link; never a full name or a clinical word."""

from datetime import date, datetime
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
