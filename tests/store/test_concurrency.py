"""Activities share one Store across worker threads, and Temporal may run two
attempts of one activity at once: duplicates must collapse to one row."""

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from typing import TypeVar

from store import (
    ConsentChangeRecord,
    DueContactRecord,
    EventRecord,
    NotificationRecord,
    Store,
)

THREADS = 8
ROUNDS = 3
AT = datetime(2041, 1, 9, 14, 0, tzinfo=UTC)
T = TypeVar("T")


def all_at_once(call: Callable[[], T]) -> list[T]:
    """Run `call` in THREADS threads released together; their results."""
    start = threading.Barrier(THREADS)
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            results.append(call())
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=run) for _ in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    assert len(results) == THREADS
    return results


def event(event_id: str) -> EventRecord:
    return EventRecord(event_id, "contact", AT, "c-1", {"method": "phone"}, "es-1", AT)


def test_concurrent_duplicate_events_insert_exactly_one_row(seeded: Store) -> None:
    for n in range(ROUNDS):
        results = all_at_once(partial(seeded.record_event, event(f"e-{n}")))

        assert sorted(results) == [False] * (THREADS - 1) + [True]
    assert seeded.list_events() == [event(f"e-{n}") for n in range(ROUNDS)]


def test_concurrent_writers_all_succeed(seeded: Store) -> None:
    numbers = iter(range(THREADS))
    lock = threading.Lock()

    def record_next() -> bool:
        with lock:
            n = next(numbers)
        return seeded.record_event(event(f"e-{n}"))

    assert all_at_once(record_next) == [True] * THREADS
    assert sorted(e.event_id for e in seeded.list_events()) == [f"e-{n}" for n in range(THREADS)]


def test_concurrent_claims_send_once(seeded: Store) -> None:
    for n in range(ROUNDS):
        record = NotificationRecord(
            f"k-{n}", "sms", "specialist", "es-1", "UTC", "c-1", "first_meeting", "due_soon",
            AT, "pending", "AS (c-1): first meeting due Jan 14.",
        )  # fmt: skip

        results = all_at_once(partial(seeded.claim_notification, record))

        assert sorted(claimed for _, claimed in results) == [False] * (THREADS - 1) + [True]
        assert {row for row, _ in results} == {record}
    assert len(seeded.list_notifications()) == ROUNDS


def test_concurrent_saves_of_new_due_contacts_log_each_once(seeded: Store) -> None:
    records = [
        DueContactRecord(
            f"c-1/1/weekly_follow_along/j-1/{k}",
            "c-1",
            "weekly_follow_along",
            "j-1",
            k,
            date(2041, 2, 7 * k - 6),
            date(2041, 2, 7 * k),
            "open",
            None,
            1,
            AT,
        )  # fmt: skip
        for k in range(1, 5)
    ]

    all_at_once(lambda: seeded.save_due_contacts(records, AT))

    assert seeded.list_due_contacts() == records
    for r in records:
        assert len(seeded.list_due_contact_changes(r.key)) == 1


def test_concurrent_duplicate_consent_changes_record_one(seeded: Store) -> None:
    change = ConsentChangeRecord("k-1", "c-1", "opted_out", AT, "sms:STOP", None)

    results = all_at_once(lambda: seeded.record_consent_change(change))

    assert sorted(results) == [False] * (THREADS - 1) + [True]
    assert seeded.list_consent_changes("c-1") == [change]
