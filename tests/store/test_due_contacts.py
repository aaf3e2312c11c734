import dataclasses
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from store import (
    DueContactChangeRecord,
    DueContactRecord,
    InvalidValueError,
    Store,
    UnknownReferenceError,
)

NEW_YORK = ZoneInfo("America/New_York")
CREATED = datetime(2041, 2, 4, 9, 0, tzinfo=NEW_YORK)
MONDAY = datetime(2041, 2, 4, 14, 0, tzinfo=UTC)
TUESDAY = datetime(2041, 2, 5, 14, 0, tzinfo=UTC)
WEDNESDAY = datetime(2041, 2, 6, 14, 0, tzinfo=UTC)


def due_contact(
    key: str,
    rule: str,
    window_start: date,
    due: date,
    *,
    consumer_id: str = "c-1",
    job_id: str | None = None,
    seq: int | None = None,
    status: str = "open",
) -> DueContactRecord:
    return DueContactRecord(
        key=key,
        consumer_id=consumer_id,
        rule=rule,
        job_id=job_id,
        seq=seq,
        window_start=window_start,
        due=due,
        status=status,
        satisfied_on=None,
        referral_no=1,
        created_at=CREATED,
    )


PRE_START = due_contact(
    "c-1/1/pre_start_contact/j-1",
    "pre_start_contact",
    date(2041, 2, 4),
    date(2041, 2, 10),
    job_id="j-1",
)
WEEK_1 = due_contact(
    "c-1/1/weekly_follow_along/j-1/1",
    "weekly_follow_along",
    date(2041, 2, 12),
    date(2041, 2, 18),
    job_id="j-1",
    seq=1,
)


def done(r: DueContactRecord, on: date) -> DueContactRecord:
    return dataclasses.replace(r, status="done", satisfied_on=on)


def test_due_contacts_come_back_as_saved(seeded: Store) -> None:
    seeded.save_due_contacts([PRE_START, WEEK_1], MONDAY)

    assert seeded.list_due_contacts() == [PRE_START, WEEK_1]
    [first, _] = seeded.list_due_contacts()
    assert first.created_at == datetime(2041, 2, 4, 14, 0, tzinfo=UTC)
    assert first.created_at.tzinfo is UTC


def test_a_retried_save_logs_no_change(seeded: Store) -> None:
    seeded.save_due_contacts([PRE_START, WEEK_1], MONDAY)
    seeded.save_due_contacts([PRE_START, WEEK_1], TUESDAY)

    assert seeded.list_due_contacts() == [PRE_START, WEEK_1]
    assert seeded.list_due_contact_changes(PRE_START.key) == [
        DueContactChangeRecord(PRE_START.key, "open", None, MONDAY)
    ]
    assert seeded.list_due_contact_changes(WEEK_1.key) == [
        DueContactChangeRecord(WEEK_1.key, "open", None, MONDAY)
    ]


def test_status_changes_are_logged_once_each(seeded: Store) -> None:
    seeded.save_due_contacts([PRE_START], MONDAY)
    seeded.save_due_contacts([done(PRE_START, date(2041, 2, 8))], TUESDAY)
    seeded.save_due_contacts([done(PRE_START, date(2041, 2, 8))], TUESDAY)
    # A later contact inside the window moves satisfied_on: a change of its own.
    seeded.save_due_contacts([done(PRE_START, date(2041, 2, 9))], WEDNESDAY)

    assert seeded.list_due_contacts() == [done(PRE_START, date(2041, 2, 9))]
    assert seeded.list_due_contact_changes(PRE_START.key) == [
        DueContactChangeRecord(PRE_START.key, "open", None, MONDAY),
        DueContactChangeRecord(PRE_START.key, "done", date(2041, 2, 8), TUESDAY),
        DueContactChangeRecord(PRE_START.key, "done", date(2041, 2, 9), WEDNESDAY),
    ]


def test_other_fields_are_updated_without_a_change_row(seeded: Store) -> None:
    seeded.save_due_contacts([PRE_START], MONDAY)
    later = datetime(2041, 3, 1, tzinfo=UTC)
    moved = dataclasses.replace(PRE_START, due=date(2041, 2, 11), created_at=later)

    seeded.save_due_contacts([moved], TUESDAY)

    # created_at stays that of the first save.
    assert seeded.list_due_contacts() == [dataclasses.replace(moved, created_at=CREATED)]
    assert len(seeded.list_due_contact_changes(PRE_START.key)) == 1


def test_one_key_twice_in_one_save_keeps_the_last(seeded: Store) -> None:
    seeded.save_due_contacts([PRE_START, done(PRE_START, date(2041, 2, 8))], MONDAY)

    assert seeded.list_due_contacts() == [done(PRE_START, date(2041, 2, 8))]
    assert [c.status for c in seeded.list_due_contact_changes(PRE_START.key)] == ["open", "done"]


def test_listing_order_and_filters(seeded: Store) -> None:
    d = date(2041, 3, 1)
    records = [
        due_contact("k1", "weekly_follow_along", d, d, job_id="j-2", seq=2),
        due_contact("k2", "benefits_planning", d, d),
        due_contact("k3", "weekly_follow_along", d, d, job_id="j-1", seq=1),
        due_contact("k4", "outreach_attempt", d, d, consumer_id="c-2", seq=1),
        due_contact("k5", "weekly_follow_along", d, d, job_id="j-3"),
        due_contact("k6", "first_meeting", date(2041, 2, 1), date(2041, 2, 8), status="missed"),
        due_contact("k0", "weekly_follow_along", d, d, job_id="j-1", seq=1),
    ]
    seeded.save_due_contacts(records, MONDAY)

    # consumer, due, rule, seq (none first), then key.
    assert [r.key for r in seeded.list_due_contacts()] == ["k6", "k2", "k5", "k0", "k3", "k1", "k4"]
    assert [r.key for r in seeded.list_due_contacts(consumer_id="c-2")] == ["k4"]
    assert [r.key for r in seeded.list_due_contacts(status="missed")] == ["k6"]
    assert [r.key for r in seeded.list_due_contacts("c-1", "open")] == [
        "k2",
        "k5",
        "k0",
        "k3",
        "k1",
    ]
    assert seeded.list_due_contacts("c-2", "missed") == []


def test_an_empty_save_changes_nothing(seeded: Store) -> None:
    seeded.save_due_contacts([], MONDAY)

    assert seeded.list_due_contacts() == []


def test_bad_due_contacts_are_refused_whole(seeded: Store) -> None:
    bad_status = dataclasses.replace(WEEK_1, status="late")
    with pytest.raises(
        InvalidValueError,
        match="^DueContactRecord.status: 'late' is not one of "
        "cancelled, done, missed, not_applicable, open$",
    ):
        seeded.save_due_contacts([PRE_START, bad_status], MONDAY)

    backwards = dataclasses.replace(WEEK_1, due=date(2041, 2, 11))
    with pytest.raises(
        InvalidValueError,
        match=r"^DueContactRecord.due: .*weekly_follow_along/j-1/1: due 2041-02-11 "
        "is before window_start 2041-02-12$",
    ):
        seeded.save_due_contacts([PRE_START, backwards], MONDAY)

    stranger = dataclasses.replace(WEEK_1, consumer_id="c-9")
    with pytest.raises(
        UnknownReferenceError, match="^DueContactRecord.consumer_id: no consumer with id 'c-9'$"
    ):
        seeded.save_due_contacts([PRE_START, stranger], MONDAY)

    with pytest.raises(InvalidValueError, match="^changed_at: .* has no time zone"):
        seeded.save_due_contacts([PRE_START], datetime(2041, 2, 4, 9, 0))

    assert seeded.list_due_contacts() == []
    assert seeded.list_due_contact_changes(PRE_START.key) == []
