"""What each sweep sends, as its recipient reads it (SPEC §1, §6)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from activities.sweeps import CASELOAD, DAILY_DIGEST, EMPLOYER_CONTACTS_NUDGE, WEEKLY_DIGEST
from store import AppointmentRecord, DueContactRecord, EmployerContactRecord
from tests.sweeps.conftest import APP_URL, Sweeps

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
# Mon 2041-03-11 07:30 in New York, the day after the spring change.
MONDAY_0730 = datetime(2041, 3, 11, 7, 30, tzinfo=NY)
REFERRED = datetime(2041, 2, 1, 10, 0, tzinfo=NY)


def due_contact(
    consumer: str, rule: str, due: date, status: str, seq: int | None = None
) -> DueContactRecord:
    return DueContactRecord(
        key=f"{consumer}/r1/{rule}/{seq}/{due}",
        consumer_id=consumer,
        rule=rule,
        job_id=None,
        seq=seq,
        window_start=due - timedelta(days=7),
        due=due,
        status=status,
        satisfied_on=due if status == "done" else None,
        referral_no=1,
        created_at=REFERRED,
    )


def employer_contacts(
    h: Sweeps, specialist: str, times: list[datetime], face_to_face: bool = True
) -> None:
    for n, at in enumerate(times):
        h.store.add_employer_contact(
            EmployerContactRecord(
                event_id=f"{specialist}-ec-{at.isoformat()}-{n}-{face_to_face}",
                specialist_id=specialist,
                employer="Acme",
                face_to_face=face_to_face,
                consumer_id=None,
                at=at,
            )
        )


async def test_the_daily_digest_lists_due_today_overdue_outreach_and_appointments_by_initials(
    sweeps: Sweeps,
) -> None:
    h = sweeps
    h.consumer("c-1", "Alex Smith", "es-1", referred=REFERRED)
    h.consumer("c-2", "Blake Jones", "es-1", referred=REFERRED)
    h.consumer("c-3", "Cameron Park", "es-2", referred=REFERRED)  # another specialist's
    today = MONDAY_0730.date()
    h.store.save_due_contacts(
        [
            due_contact("c-1", "vocational_profile", today, "open"),
            due_contact("c-1", "benefits_planning", today + timedelta(days=1), "open"),
            due_contact("c-2", "first_meeting", date(2041, 3, 4), "missed"),
            due_contact("c-2", "outreach_attempt", date(2041, 3, 12), "open", seq=1),
            # missed long ago: no longer "overdue" in the digest
            due_contact("c-1", "first_employer_contact", date(2041, 2, 1), "missed"),
            due_contact("c-3", "first_meeting", today, "open"),
        ],
        REFERRED,
    )
    h.store.upsert_appointment(
        AppointmentRecord("c-1", "a-1", datetime(2041, 3, 11, 14, 0, tzinfo=NY), 60, "Library")
    )
    h.store.upsert_appointment(
        AppointmentRecord("c-2", "a-2", datetime(2041, 3, 12, 9, 0, tzinfo=NY), 60, "Office")
    )

    result = await h.run(DAILY_DIGEST, "es-1", MONDAY_0730)

    assert result is not None and result.sent == 1
    [message] = h.notifier.sent
    assert (message.channel, message.to) == ("email", "jordan@example.org")
    assert message.subject == "Your day, Mon Mar 11: 4 to look at"
    assert message.body == (
        "Good morning. Your day, Mon Mar 11.\n\n"
        "Due today:\n- Vocational profile for A.S. (c-1), due Mon Mar 11\n\n"
        "Overdue:\n- First meeting for B.J. (c-2), was due Mon Mar 4\n\n"
        "In outreach:\n- B.J. (c-2), outreach attempt due Tue Mar 12\n\n"
        "Today's appointments:\n- 2:00 PM A.S. (c-1)\n\n"
        f"{APP_URL}/specialists/es-1/due"
    )
    for name in ("Alex", "Smith", "Blake", "Jones", "Cameron"):
        assert name not in message.body
    [row] = h.store.list_notifications()
    assert (row.kind, row.recipient_role, row.recipient_id, row.consumer_id, row.rule) == (
        "daily_digest",
        "specialist",
        "es-1",
        None,
        None,
    )
    assert row.send_at == MONDAY_0730 and row.status == "sent"
    assert row.idempotency_key == "digest-es-es-1-2041-03-11/specialist/email"


async def test_no_daily_digest_when_there_is_nothing_to_say(sweeps: Sweeps) -> None:
    h = sweeps
    h.consumer("c-1", "Alex Smith", "es-1", referred=REFERRED)
    h.store.save_due_contacts(
        [due_contact("c-1", "vocational_profile", date(2041, 3, 20), "open")], REFERRED
    )

    result = await h.run(DAILY_DIGEST, "es-1", MONDAY_0730)

    assert result is not None and result.sent == 0
    assert h.notifier.sent == [] and h.store.list_notifications() == []


async def test_the_weekly_digest_reports_each_specialists_last_week(sweeps: Sweeps) -> None:
    h = sweeps
    h.consumer("c-1", "Alex Smith", "es-1", referred=REFERRED)
    h.consumer("c-2", "Blake Jones", "es-2", referred=REFERRED)
    h.store.save_due_contacts(
        [
            due_contact("c-1", "weekly_follow_along", date(2041, 3, 5), "done", seq=1),
            due_contact("c-1", "first_meeting", date(2041, 3, 10), "missed"),
            # the week before last, and this week: not counted
            due_contact("c-1", "vocational_profile", date(2041, 3, 3), "done"),
            due_contact("c-1", "benefits_planning", date(2041, 3, 11), "open"),
            due_contact("c-2", "outreach_attempt", date(2041, 3, 13), "open", seq=1),
        ],
        REFERRED,
    )
    employer_contacts(
        h,
        "es-1",
        [datetime(2041, 3, d, 10, tzinfo=NY) for d in (4, 6, 10)]
        + [datetime(2041, 3, 11, 7, tzinfo=NY)],  # this week
    )
    employer_contacts(h, "es-1", [datetime(2041, 3, 5, 10, tzinfo=NY)], face_to_face=False)
    monday_0800 = datetime(2041, 3, 11, 8, 0, tzinfo=NY)

    result = await h.run(WEEKLY_DIGEST, "sup-1", monday_0800)

    assert result is not None and result.sent == 1
    [message] = h.notifier.sent
    assert (message.channel, message.to) == ("email", "pat@example.org")
    assert message.subject == "Team week Mon Mar 4 – Sun Mar 10"
    assert message.body == (
        "Your team, week Mon Mar 4 – Sun Mar 10.\n\n"
        "Jordan Lee\n"
        "  Due contacts met on time: 1 of 2\n"
        "    First meeting: 0 of 1 on time\n"
        "    Weekly follow-along: 1 of 1 on time\n"
        "  Missed: 1\n"
        "  Face-to-face employer contacts: 3 (target 6)\n"
        "  Caseload: 1 (limit 20)\n"
        "  In outreach: 0\n\n"
        "Robin Diaz\n"
        "  Due contacts met on time: 0 of 0\n"
        "  Missed: 0\n"
        "  Face-to-face employer contacts: 0 (target 6)\n"
        "  Caseload: 1 (limit 10)\n"
        "  In outreach: 1\n\n"
        f"{APP_URL}/teams/sup-1/due"
    )
    [row] = h.store.list_notifications()
    assert row.idempotency_key == "digest-sup-sup-1-2041-W11/supervisor/email"
    assert (row.kind, row.recipient_role) == ("weekly_digest", "supervisor")


async def test_the_nudge_goes_only_below_three_employer_contacts_this_week(sweeps: Sweeps) -> None:
    h = sweeps
    thursday_noon = datetime(2041, 3, 14, 12, 0, tzinfo=NY)
    # Sunday's (last week), a phone call, and two face to face this week.
    employer_contacts(h, "es-1", [datetime(2041, 3, 10, 23, 0, tzinfo=NY)])
    employer_contacts(h, "es-1", [datetime(2041, 3, 12, 9, tzinfo=NY)], face_to_face=False)
    employer_contacts(
        h, "es-1", [datetime(2041, 3, 11, 0, 0, tzinfo=NY), datetime(2041, 3, 13, 15, tzinfo=NY)]
    )

    result = await h.run(EMPLOYER_CONTACTS_NUDGE, "es-1", thursday_noon)

    assert result is not None and result.sent == 2  # sms and email, the specialist's channels
    assert sorted((m.channel, m.to) for m in h.notifier.sent) == [
        ("email", "jordan@example.org"),
        ("sms", "+15555550101"),
    ]
    sms = next(m for m in h.notifier.sent if m.channel == "sms")
    assert sms.body == (
        f"Employer contacts: 2 face-to-face so far this week (target 6). {APP_URL}/specialists/es-1"
    )
    assert {n.kind for n in h.store.list_notifications()} == {"employer_contacts_nudge"}

    # A third face-to-face contact next week, by Thursday noon: no nudge.
    next_thursday = thursday_noon + timedelta(days=7)
    employer_contacts(h, "es-1", [datetime(2041, 3, d, 10, tzinfo=NY) for d in (18, 19, 21)])
    result = await h.run(EMPLOYER_CONTACTS_NUDGE, "es-1", next_thursday)
    assert result is not None and result.sent == 0
    assert len(h.notifier.sent) == 2


async def test_a_half_time_specialist_with_11_consumers_gets_a_caseload_warning(
    sweeps: Sweeps,
) -> None:
    h = sweeps
    for n in range(1, 11):
        h.consumer(f"c-{n}", f"Person Number{n}", "es-2", referred=REFERRED)
    night = datetime(2041, 3, 12, 2, 0, tzinfo=NY)

    ten = await h.run(CASELOAD, "sup-1", night)
    assert ten is not None and ten.sent == 0  # 10 is the limit at 0.5 FTE: no warning

    h.consumer("c-11", "Person Number11", "es-2", referred=REFERRED)
    eleven = await h.run(CASELOAD, "sup-1", night + timedelta(days=1))

    assert eleven is not None and eleven.sent == 1
    [message] = h.notifier.sent
    assert (message.channel, message.to) == ("email", "pat@example.org")
    assert message.body == (
        "A caseload is above 20 per full-time specialist:\n"
        "- Robin Diaz: 11 active (limit 10 at 0.5 FTE)\n\n"
        "Nothing was refused; this is a reminder to plan.\n"
        f"{APP_URL}/teams/sup-1"
    )
    [row] = h.store.list_notifications()
    assert (row.kind, row.idempotency_key) == (
        "caseload_warning",
        "caseload-sup-sup-1-2041-03-13/supervisor/email",
    )


async def test_a_sweep_started_twice_for_its_period_runs_once(sweeps: Sweeps) -> None:
    h = sweeps
    h.consumer("c-1", "Alex Smith", "es-1", referred=REFERRED)
    h.store.save_due_contacts(
        [due_contact("c-1", "vocational_profile", MONDAY_0730.date(), "open")], REFERRED
    )

    first = await h.run(DAILY_DIGEST, "es-1", MONDAY_0730)
    again = await h.run(DAILY_DIGEST, "es-1", MONDAY_0730 + timedelta(seconds=5))

    assert first is not None and first.sent == 1
    assert again is None  # already done
    assert len(h.notifier.sent) == 1 and len(h.store.list_notifications()) == 1
