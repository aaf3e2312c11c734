"""`store`: an empty Store on each database of `database_url`; `agency`: the same
with the small agency every report test counts by hand.

The agency, all in America/New_York, counted over the period PERIOD, Monday
2041-03-04 to Sunday 2041-03-17 (14 days, 2 weeks, ISO weeks 2041-W10 and W11):

- sup-1's team: es-1 (FTE 1.0; consumers c-1 to c-5) and es-2 (FTE 0.5; eleven
  consumers c-20 to c-30). sup-2's team: es-3 (FTE 1.0; c-40).
- Referrals: everyone on 2041-01-02, except c-2 (referred then, declined
  services 2041-03-10), c-3 (referred 2041-03-18), c-4 (referred 2040-06-01,
  declined 2040-12-20) and c-5 (referred 2041-04-02).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from store import (
    ConsumerRecord,
    DueContactRecord,
    EmployerContactRecord,
    EventRecord,
    JobRecord,
    OutreachRecord,
    SpecialistRecord,
    Store,
    SupervisorRecord,
)

TZ = "America/New_York"
START = date(2041, 3, 4)
END = date(2041, 3, 17)
ES_1 = ["c-1", "c-2", "c-3", "c-4", "c-5"]
ES_2 = [f"c-{n}" for n in range(20, 31)]


def local(text: str) -> datetime:
    """A New York wall-clock time as an aware instant."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(TZ))


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    store.create_schema()
    yield store
    store.dispose()


class Agency:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.n = 0

    def event(self, consumer: str, type: str, at: str) -> None:
        self.n += 1
        self.store.record_event(
            EventRecord(
                event_id=f"ev-{self.n}",
                type=type,
                at=local(at),
                consumer_id=consumer,
                payload={},
                recorded_by="es-1",
                recorded_at=datetime(2041, 1, 1, tzinfo=UTC),
            )
        )

    def due(
        self, consumer: str, rule: str, window_start: str, due: str, status: str, seq: int = 1
    ) -> None:
        self.n += 1
        satisfied = date.fromisoformat(window_start) if status == "done" else None
        self.store.save_due_contacts(
            [
                DueContactRecord(
                    key=f"dc-{self.n}",
                    consumer_id=consumer,
                    rule=rule,
                    job_id=None,
                    seq=seq,
                    window_start=date.fromisoformat(window_start),
                    due=date.fromisoformat(due),
                    status=status,
                    satisfied_on=satisfied,
                    referral_no=1,
                    created_at=datetime(2041, 1, 1, tzinfo=UTC),
                )
            ],
            datetime(2041, 1, 1, tzinfo=UTC),
        )

    def employer_contact(self, specialist: str, at: str, face_to_face: bool = True) -> None:
        self.n += 1
        self.store.add_employer_contact(
            EmployerContactRecord(f"ec-{self.n}", specialist, "Acme", face_to_face, None, local(at))
        )

    def outreach(self, consumer: str, at: str, by: str, role: str = "specialist") -> None:
        self.n += 1
        self.store.add_outreach(
            OutreachRecord(f"or-{self.n}", consumer, local(at), by, role, "phone", False)
        )

    def job(
        self,
        consumer: str,
        title: str,
        employer: str,
        start: str,
        competitive: bool = True,
        end: str | None = None,
    ) -> None:
        self.store.upsert_job(
            JobRecord(
                consumer,
                f"j-{consumer}",
                employer,
                title,
                date.fromisoformat(start),
                20,
                15.5,
                competitive,
                end_date=date.fromisoformat(end) if end else None,
            )
        )


def people(store: Store) -> None:
    for sup in ("sup-1", "sup-2"):
        store.upsert_supervisor(SupervisorRecord(sup, sup, f"{sup}@example.org", TZ))
    for es, sup, fte in (("es-1", "sup-1", 1.0), ("es-2", "sup-1", 0.5), ("es-3", "sup-2", 1.0)):
        store.upsert_specialist(
            SpecialistRecord(es, es, f"{es}@example.org", TZ, supervisor_id=sup, fte=fte)
        )
    for es, consumers in (("es-1", ES_1), ("es-2", ES_2), ("es-3", ["c-40"])):
        for c in consumers:
            store.upsert_consumer(ConsumerRecord(c, f"Consumer {c}", es, TZ))


@pytest.fixture
def agency(store: Store) -> Store:
    people(store)
    a = Agency(store)
    for c in ["c-1", *ES_2, "c-40"]:
        a.event(c, "referred", "2041-01-02T09:00")
    a.event("c-2", "referred", "2041-01-02T09:00")
    a.event("c-2", "services_declined", "2041-03-10T12:00")
    a.event("c-3", "referred", "2041-03-18T09:00")
    a.event("c-4", "referred", "2040-06-01T09:00")
    a.event("c-4", "services_declined", "2040-12-20T09:00")
    a.event("c-5", "referred", "2041-04-02T09:00")

    # Face-to-face employer contacts. es-1: Monday 03-04; Sunday 03-10 23:30 (the
    # night clocks went forward: Monday 03:30 UTC, still W10 locally); Monday 03-11
    # 00:30 (W11). Not counted: one by phone, one the Sunday before, one the Monday
    # after. es-2: six on 03-05 (W10) and six on 03-12 (W11). es-3: one on 03-06.
    a.employer_contact("es-1", "2041-03-04T10:00")
    a.employer_contact("es-1", "2041-03-10T23:30")
    a.employer_contact("es-1", "2041-03-11T00:30")
    a.employer_contact("es-1", "2041-03-12T10:00", face_to_face=False)
    a.employer_contact("es-1", "2041-03-03T23:30")
    a.employer_contact("es-1", "2041-03-18T00:30")
    for day in ("05", "12"):
        for hour in range(9, 15):
            a.employer_contact("es-2", f"2041-03-{day}T{hour:02d}:00")
    a.employer_contact("es-3", "2041-03-06T10:00")

    # New entrants' first employer contacts (window opens on the first meeting).
    a.due("c-1", "first_employer_contact", "2041-03-05", "2041-04-04", "done")
    a.due("c-20", "first_employer_contact", "2041-03-06", "2041-04-05", "missed")
    a.due("c-21", "first_employer_contact", "2041-03-07", "2041-04-06", "open")
    a.due("c-22", "first_employer_contact", "2041-02-01", "2041-03-03", "done")

    # Follow-along, by due date.
    a.due("c-1", "weekly_follow_along", "2041-02-27", "2041-03-05", "done", 1)
    a.due("c-1", "weekly_follow_along", "2041-03-06", "2041-03-12", "missed", 2)
    a.due("c-1", "monthly_follow_along", "2041-02-16", "2041-03-15", "done", 1)
    a.due("c-1", "pre_start_contact", "2041-03-01", "2041-03-08", "not_applicable")
    a.due("c-1", "post_start_contact", "2041-03-06", "2041-03-09", "done")
    a.due("c-20", "monthly_follow_along", "2041-02-18", "2041-03-17", "done", 1)
    a.due("c-20", "monthly_follow_along", "2041-03-18", "2041-04-18", "missed", 2)

    a.due("c-20", "job_loss_contact", "2041-03-08", "2041-03-11", "done")
    a.due("c-21", "job_loss_contact", "2041-03-10", "2041-03-13", "cancelled")
    a.due("c-40", "job_loss_contact", "2041-03-09", "2041-03-12", "missed")
    a.due("c-1", "benefits_planning", "2041-03-01", "2041-03-06", "missed")

    # Outreach: c-2 is in outreach (window 03-01..03-08); c-23's task ended before
    # the period, but an attempt for them is logged in it.
    a.due("c-2", "outreach_attempt", "2041-03-01", "2041-03-08", "done")
    a.due("c-23", "outreach_attempt", "2041-02-20", "2041-02-27", "missed")
    a.outreach("c-2", "2041-03-02T10:00", "es-1")  # before the period
    a.outreach("c-2", "2041-03-05T10:00", "es-1")
    a.outreach("c-2", "2041-03-06T10:00", "cm-1", "case_manager")
    a.outreach("c-2", "2041-03-07T10:00", "es-1")
    a.outreach("c-23", "2041-03-08T10:00", "es-2")

    # Jobs.
    a.job("c-1", "Stock associate", "Acme", "2041-03-05")
    a.job("c-20", "stock Associate ", "ACME", "2041-03-06")
    a.job("c-21", "Cook", "Diner", "2041-03-07", competitive=False)
    a.job("c-22", "Clerk", "Acme", "2041-02-01", end="2041-02-20")
    a.job("c-24", "Driver", "Fleet", "2040-10-01", end="2040-12-31")
    a.job("c-25", "Cashier", "Mart", "2041-04-01")
    a.job("c-4", "Baker", "Bakery", "2041-01-10")
    return store
