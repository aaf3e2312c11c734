"""Staff reminders (SPEC §6) as the outbox records them: kind, channel, recipient,
and `send_at` at 08:00 in the specialist's zone (America/Chicago, an hour behind
the consumers) with that zone's offset."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rules import calendar
from tests.workflows.conftest import (
    CONSUMER_WITH_TEAM,
    SPECIALIST_TZ,
    TEAM_MEMBER,
    Journeys,
    local_send_at,
)


def sent(h: Journeys, consumer: str = "c-1", **match: Any) -> set[tuple[str, ...]]:
    """(kind, channel, recipient_role, recipient_id, local send_at, status) of each
    notification about the consumer."""
    return {
        (n.kind, n.channel, n.recipient_role, n.recipient_id, local_send_at(n), n.status)
        for n in h.notifications(consumer, **match)
    }


def to_specialist(kind: str, send_at: str) -> set[tuple[str, ...]]:
    return {
        (kind, "sms", "specialist", "es-1", send_at, "sent"),
        (kind, "email", "specialist", "es-1", send_at, "sent"),
    }


def specialist_8am(day: str) -> datetime:
    return calendar.local_instant(datetime.fromisoformat(day).date(), 8 * 60, SPECIALIST_TZ)


async def test_due_soon_due_today_and_overdue_go_to_each_channel_at_8_specialist_time(
    journeys: Journeys,
) -> None:
    h = journeys
    # first_meeting [Mon 01-07, Mon 01-14]: due_soon on Sat 01-12 moves to Fri 01-11.
    await h.send("referred", "2041-01-07T10:00")

    await h.sleep_until(specialist_8am("2041-01-11") - timedelta(minutes=1))
    assert sent(h, rule="first_meeting") == set()

    await h.sleep_until(specialist_8am("2041-01-11"))
    assert sent(h, rule="first_meeting") == to_specialist("due_soon", "2041-01-11T08:00:00-06:00")

    await h.sleep_until(specialist_8am("2041-01-15"))
    assert sent(h, rule="first_meeting") == (
        to_specialist("due_soon", "2041-01-11T08:00:00-06:00")
        | to_specialist("due_today", "2041-01-14T08:00:00-06:00")
        | to_specialist("overdue", "2041-01-15T08:00:00-06:00")
    )
    # Every message went out through the notifier too, once.
    assert len([m for m in h.notifier.sent if "/first_meeting/" in m.idempotency_key]) == 6


async def test_reminder_offsets_follow_daylight_saving_time(journeys: Journeys) -> None:
    h = journeys
    # first_meeting [Mon 03-04, Mon 03-11]; clocks go forward on Sun 2041-03-10.
    await h.send("referred", "2041-03-04T10:00")
    await h.sleep_until(h.end_of("2041-03-12"))

    assert sent(h, rule="first_meeting") == (
        to_specialist("due_soon", "2041-03-08T08:00:00-06:00")
        | to_specialist("due_today", "2041-03-11T08:00:00-05:00")
        | to_specialist("overdue", "2041-03-12T08:00:00-05:00")
    )


async def test_a_met_contact_gets_no_due_today_or_overdue(journeys: Journeys) -> None:
    h = journeys
    await h.send("referred", "2041-01-07T10:00")
    await h.sleep_until(specialist_8am("2041-01-11"))
    await h.send("first_meeting", "2041-01-12T10:00")
    await h.sleep_until(h.end_of("2041-01-16"))

    assert sent(h, rule="first_meeting") == to_specialist("due_soon", "2041-01-11T08:00:00-06:00")


async def test_treatment_team_gets_outreach_reminders_after_two_unreached_attempts(
    journeys: Journeys,
) -> None:
    h = journeys
    c2 = CONSUMER_WITH_TEAM
    # First meeting missed (due Mon 01-14): outreach from M = Tue 01-15.
    await h.send("referred", "2041-01-07T10:00", consumer=c2)
    # Attempt 1 [01-15, Tue 01-22]: made on its due day, after that morning's reminder.
    await h.send(
        "outreach_attempt",
        "2041-01-22T12:00",
        consumer=c2,
        by="es-1",
        role="specialist",
        method="phone",
        reached=False,
    )
    # Attempt 2 [01-23, Tue 01-29]: the second unreached attempt by the specialist.
    await h.send(
        "outreach_attempt",
        "2041-01-23T10:00",
        consumer=c2,
        by="es-1",
        role="specialist",
        method="text",
        reached=False,
    )
    # Attempt 3 [01-30, Tue 02-05] is never made.
    await h.sleep_until(h.end_of("2041-02-06"), c2)

    assert h.due_contacts("outreach_attempt", consumer=c2)[:3] == [
        ("outreach_attempt", None, 1, "2041-01-15", "2041-01-22", "done", "2041-01-22"),
        ("outreach_attempt", None, 2, "2041-01-23", "2041-01-29", "done", "2041-01-23"),
        ("outreach_attempt", None, 3, "2041-01-30", "2041-02-05", "missed", None),
    ]
    # Before the second unreached attempt: the specialist only.
    # Attempt 1: due_soon Sun 01-20 -> Fri 01-18; due_today Tue 01-22.
    # Attempt 3: due_soon Sun 02-03 -> Fri 02-01; due_today Tue 02-05; overdue Wed 02-06.
    specialist = sent(h, c2, rule="outreach_attempt", recipient_role="specialist")
    assert specialist == (
        to_specialist("due_soon", "2041-01-18T08:00:00-06:00")
        | to_specialist("due_today", "2041-01-22T08:00:00-06:00")
        | to_specialist("due_soon", "2041-02-01T08:00:00-06:00")
        | to_specialist("due_today", "2041-02-05T08:00:00-06:00")
        | to_specialist("overdue", "2041-02-06T08:00:00-06:00")
    )
    # The team member's copies: email and SMS (a phone is recorded), at the
    # specialist's moment, for attempt 3 only.
    team = h.notifications(c2, rule="outreach_attempt", recipient_role="treatment_team_member")
    assert {(n.kind, n.channel, n.recipient_id, n.send_at, n.status) for n in team} == {
        (kind, channel, TEAM_MEMBER, specialist_8am(day), "sent")
        for kind, day in (
            ("due_soon", "2041-02-01"),
            ("due_today", "2041-02-05"),
            ("overdue", "2041-02-06"),
        )
        for channel in ("email", "sms")
    }
    # Reminders of other rules are never copied to the team member.
    assert sent(h, c2, rule="first_meeting", recipient_role="treatment_team_member") == set()
    assert sent(h, c2, rule="first_meeting", kind="overdue") == to_specialist(
        "overdue", "2041-01-15T08:00:00-06:00"
    )


async def test_after_a_reassignment_reminders_go_to_the_new_specialist(
    journeys: Journeys,
) -> None:
    h = journeys
    # first_meeting [Mon 01-07, Mon 01-14]; es-2 is in Denver and takes email only.
    await h.send("referred", "2041-01-07T10:00")
    await h.send("reassigned", "2041-01-08T10:00", specialist="es-2")
    await h.sleep_until(h.end_of("2041-01-15"))

    assert sent(h, rule="first_meeting") == {
        ("due_soon", "email", "specialist", "es-2", "2041-01-11T08:00:00-07:00", "sent"),
        ("due_today", "email", "specialist", "es-2", "2041-01-14T08:00:00-07:00", "sent"),
        ("overdue", "email", "specialist", "es-2", "2041-01-15T08:00:00-07:00", "sent"),
    }
    assert (await h.state()).specialist == "es-2"
