"""Feeds as subscribers read them: every feed a test builds is parsed by `icalendar`
and by `ical` (an independent parser, stricter about RFC 5545), which must agree,
and its events expanded by `recurring-ical-events` as a calendar client would.

`team`: a store (SQLite, and PostgreSQL when IPS_TEST_POSTGRES_URL is set) with
supervisor sup-1 (Pat Kim, New York) leading es-1 (Jordan Lee, New York) and es-2
(Chicago), and sup-2 leading es-3. Consumer c-1 lives in Los Angeles, a zone
other than their specialist's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import pytest
import recurring_ical_events
from ical.calendar_stream import IcsCalendarStream

from feeds import Feed
from store import (
    AppointmentRecord,
    ConsumerRecord,
    DueContactRecord,
    SpecialistRecord,
    Store,
    SupervisorRecord,
)

C1_NAME = "Alexandra María Gómez-Smith"
C1_ZONE = "America/Los_Angeles"


@dataclass(frozen=True)
class Entry:
    uid: str
    summary: str
    start: date | datetime
    end: date | datetime
    sequence: int
    dtstamp: datetime
    description: str
    location: str | None
    tzid: str | None


@dataclass
class ReadFeed:
    ics: bytes
    calendar: Any  # icalendar.Calendar
    entries: dict[str, Entry]  # by uid
    feed: Any = None  # the Feed, when the test built it

    @property
    def text(self) -> str:
        """The feed unfolded (RFC 5545 folds lines at 75 octets), as a reader sees it."""
        return self.ics.decode("utf-8").replace("\r\n ", "")

    def property(self, name: str) -> str:
        return str(self.calendar[name])

    def by_summary(self) -> dict[str, Entry]:
        return {e.summary: e for e in self.entries.values()}


def read(feed: Feed) -> ReadFeed:
    read_feed = read_ics(feed.ics)
    read_feed.feed = feed
    return read_feed


def read_ics(ics: bytes) -> ReadFeed:
    """Parse with both parsers, check they agree, and expand over all time."""
    assert ics.endswith(b"\r\n") and b"\n" not in ics.replace(b"\r\n", b""), "CRLF only"
    cal = icalendar.Calendar.from_ical(ics)
    entries = {}
    for ev in cal.walk("VEVENT"):
        start = ev.decoded("dtstart")
        entries[str(ev["uid"])] = Entry(
            uid=str(ev["uid"]),
            summary=str(ev["summary"]),
            start=start,
            end=ev.decoded("dtend"),
            sequence=int(ev["sequence"]),
            dtstamp=ev.decoded("dtstamp"),
            description=str(ev.get("description", "")),
            location=str(ev["location"]) if "location" in ev else None,
            tzid=ev["dtstart"].params.get("TZID"),
        )
    assert len(entries) == len(cal.walk("VEVENT")), "UIDs are unique"
    assert not cal.walk("VTODO")

    other = IcsCalendarStream.calendar_from_ics(ics.decode("utf-8"))
    assert {e.uid: (e.summary, e.dtstart, e.dtend, e.sequence) for e in other.events} == {
        e.uid: (e.summary, e.start, e.end, e.sequence) for e in entries.values()
    }
    assert other.prodid == str(cal["prodid"])
    # `ical` adds the zone of X-WR-TIMEZONE to those the feed gives.
    zones = {str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")}
    assert {tz.tz_id for tz in other.timezones} - {str(cal["x-wr-timezone"])} <= zones

    expanded = recurring_ical_events.of(cal).between(date(1970, 1, 1), date(2100, 1, 1))
    assert sorted(str(e["uid"]) for e in expanded) == sorted(entries)
    for occurrence in expanded:
        entry = entries[str(occurrence["uid"])]
        assert occurrence.decoded("dtstart") == entry.start
    return ReadFeed(ics, cal, entries)


@pytest.fixture
def team(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    try:
        store.create_schema()
        store.upsert_supervisor(
            SupervisorRecord("sup-1", "Pat Kim", "pat@example.org", "America/New_York")
        )
        store.upsert_supervisor(
            SupervisorRecord("sup-2", "Robin Diaz", "robin@example.org", "America/Denver")
        )
        for id, name, zone, sup in (
            ("es-1", "Jordan Lee", "America/New_York", "sup-1"),
            ("es-2", "Morgan Ito", "America/Chicago", "sup-1"),
            ("es-3", "Quinn Park", "America/Denver", "sup-2"),
        ):
            store.upsert_specialist(
                SpecialistRecord(id, name, f"{id}@example.org", zone, supervisor_id=sup)
            )
        store.upsert_consumer(
            ConsumerRecord(
                "c-1",
                C1_NAME,
                "es-1",
                C1_ZONE,
                phone="+15555550123",
                email="alexandra@example.org",
            )
        )
        store.upsert_consumer(ConsumerRecord("c-2", "Sam Rivera", "es-2", "America/Chicago"))
        store.upsert_consumer(ConsumerRecord("c-3", "Dana Fox", "es-3", "America/Denver"))
        yield store
    finally:
        store.dispose()


CREATED = datetime(2041, 1, 1, tzinfo=UTC)


def due_contact(
    consumer: str,
    rule: str,
    due: date,
    *,
    status: str = "open",
    window: int = 7,
    seq: int | None = None,
) -> DueContactRecord:
    return DueContactRecord(
        key=f"{consumer}/r1/{rule}/-/{seq or '-'}",
        consumer_id=consumer,
        rule=rule,
        job_id=None,
        seq=seq,
        window_start=due - timedelta(days=window),
        due=due,
        status=status,
        satisfied_on=due if status == "done" else None,
        referral_no=1,
        created_at=CREATED,
    )


def appointment(
    consumer: str, id: str, start: datetime, *, cancelled: bool = False
) -> AppointmentRecord:
    return AppointmentRecord(consumer, id, start, 60, "Main St Library", cancelled=cancelled)
