"""`build_feed`: a specialist's or a team's due contacts and appointments as an
RFC 5545 calendar that Google, Outlook and Apple calendars subscribe to (SPEC §8).

Minimum necessary data, as in staff reminders: the rule in words, the consumer's
initials and case id, the window, a link to the app, and an appointment's place
label. Subscribers' calendar providers keep whatever the feed says.

What a feed last published of each entry is kept in the store
(`Store.publish_feed_entries`), so that an entry's SEQUENCE grows and its DTSTAMP
moves only when its content changes: the same store and the same day give the
same bytes, whenever the feed is fetched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from icalendar import Calendar, Event, Timezone

from notifiers.messages import initials, window_in_words
from rules import calendar
from rules.due import rule_in_words
from service.access import team_of
from store import (
    AppointmentRecord,
    ConsumerRecord,
    DueContactRecord,
    FeedEntryRecord,
    InvalidValueError,
    NotFoundError,
    Store,
)

# Neither names the program: "IPS" would tell a calendar provider what kind of
# service the people in the feed receive.
PRODID = "-//Journeys//Due contacts//EN"
UID_DOMAIN = "journeys"
# What a feed shows around today (SPEC §8).
HORIZON_PAST = timedelta(days=14)
HORIZON_AHEAD = timedelta(days=90)
# Calendar clients that honour them fetch the feed again after this long.
REFRESH_INTERVAL = timedelta(hours=1)
# Due contacts in a feed; done, cancelled and not_applicable ones leave it.
SHOWN_STATUSES = ("open", "missed")
# The Last-Modified of a feed that has never held an entry.
NEVER_CHANGED = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FeedScope:
    """Whose feed: a specialist's caseload, or the team of a supervisor (`id` is
    then the supervisor's id)."""

    kind: Literal["specialist", "team"]
    id: str

    @property
    def key(self) -> str:
        """The feed's name in the store (`specialist:es-1`, `team:sup-1`)."""
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class Feed:
    ics: bytes  # UTF-8, CRLF line endings
    # A quoted strong ETag: a hash of `ics`, which changes only when an entry's
    # content does (no DTSTAMP of the moment of the build).
    etag: str
    last_modified: datetime  # aware UTC: the latest change of any entry
    name: str  # its X-WR-CALNAME


@dataclass(frozen=True)
class _Owner:
    name: str
    timezone: str
    specialists: frozenset[str]


_Value = str | date | datetime


@dataclass(frozen=True)
class _Entry:
    uid: str
    event: Event  # without SEQUENCE and DTSTAMP, which come from what was published
    # Every property the event shows, as text: what a change of the entry is a
    # change of. (Serialising the event to hash it would double a build's time.)
    content: tuple[str, ...]
    order: tuple[str, ...]
    tzid: str | None = None


def build_feed(
    store: Store, scope: FeedScope, now: datetime, *, app_url: str | None = None
) -> Feed:
    """The feed of `scope` as of `now`, recording in the store what it publishes.

    Raises `NotFoundError` (field `specialist` or `team`) when there is no such
    specialist or supervisor.
    """
    if now.utcoffset() is None:
        raise InvalidValueError(f"{now!r} has no time zone; give an aware datetime", field="now")
    owner = _owner(store, scope)
    consumers = {c.id: c for c in store.list_consumers() if c.specialist_id in owner.specialists}
    entries = sorted(
        [
            *_due_contact_entries(store, consumers, now, app_url),
            *_appointment_entries(store, consumers, now, app_url),
        ],
        key=lambda e: e.order,
    )
    published = store.publish_feed_entries(
        scope.key, {e.uid: _fingerprint(e.content) for e in entries}, now
    )
    name = (
        f"Due contacts — {owner.name}"
        if scope.kind == "specialist"
        else f"Due contacts — team of {owner.name}"
    )
    ics = _calendar(name, owner.timezone, entries, published, now).to_ical()
    return Feed(
        ics=ics,
        etag=f'"{hashlib.sha256(ics).hexdigest()[:32]}"',
        last_modified=max((r.changed_at for r in published), default=NEVER_CHANGED),
        name=name,
    )


def due_contact_uid(key: str) -> str:
    """A due contact's UID in every feed, from its key: the same on every refresh."""
    return _uid(f"due_contact/{key}")


def appointment_uid(consumer_id: str, appointment_id: str) -> str:
    return _uid(f"appointment/{consumer_id}/{appointment_id}")


def _uid(name: str) -> str:
    return f"{hashlib.sha256(name.encode()).hexdigest()[:32]}@{UID_DOMAIN}"


def _owner(store: Store, scope: FeedScope) -> _Owner:
    if scope.kind == "specialist":
        specialist = store.get_specialist(scope.id)
        if specialist is None:
            raise NotFoundError(f"no specialist with id {scope.id!r}", field="specialist")
        return _Owner(specialist.name, specialist.timezone, frozenset({specialist.id}))
    supervisor = store.get_supervisor(scope.id)
    if supervisor is None:
        raise NotFoundError(f"no supervisor with id {scope.id!r}", field="team")
    return _Owner(supervisor.name, supervisor.timezone, frozenset(team_of(store, supervisor.id)))


def _due_contact_entries(
    store: Store, consumers: dict[str, ConsumerRecord], now: datetime, app_url: str | None
) -> Iterable[_Entry]:
    for status in SHOWN_STATUSES:
        for dc in store.list_due_contacts(status=status):
            consumer = consumers.get(dc.consumer_id)
            if consumer is not None and _in_horizon(dc, consumer, now):
                yield _due_contact_entry(dc, consumer, app_url)


def _in_horizon(dc: DueContactRecord, consumer: ConsumerRecord, now: datetime) -> bool:
    today = calendar.local_date(now, consumer.timezone)
    return today - HORIZON_PAST <= dc.due <= today + HORIZON_AHEAD


def _due_contact_entry(
    dc: DueContactRecord, consumer: ConsumerRecord, app_url: str | None
) -> _Entry:
    uid = due_contact_uid(dc.key)
    summary = f"{rule_in_words(dc.rule)} — {_who(consumer)}"
    if dc.status == "missed":
        summary = f"OVERDUE: {summary}"
    window = f"Window: {window_in_words(dc.window_start, dc.due)}"
    properties: list[tuple[str, _Value]] = [
        ("summary", summary),
        # All day on the consumer's own calendar day: a DATE has no time zone.
        ("dtstart", dc.due),
        ("dtend", dc.due + timedelta(days=1)),
        ("description", _description(window, consumer, app_url)),
        ("transp", "TRANSPARENT"),
    ]
    return _entry(uid, properties, order=(dc.due.isoformat(), "", uid))


def _appointment_entries(
    store: Store, consumers: dict[str, ConsumerRecord], now: datetime, app_url: str | None
) -> Iterable[_Entry]:
    for appointment in store.list_appointments():
        consumer = consumers.get(appointment.consumer_id)
        if (
            consumer is not None
            and not appointment.cancelled
            and now - HORIZON_PAST <= appointment.start <= now + HORIZON_AHEAD
        ):
            yield _appointment_entry(appointment, consumer, app_url)


def _appointment_entry(
    appointment: AppointmentRecord, consumer: ConsumerRecord, app_url: str | None
) -> _Entry:
    uid = appointment_uid(consumer.id, appointment.appointment_id)
    end = appointment.start + timedelta(minutes=appointment.duration_minutes)
    start = calendar.to_local(appointment.start, consumer.timezone)
    properties: list[tuple[str, _Value]] = [
        ("summary", f"Meeting — {_who(consumer)}"),
        # TZID of the consumer's zone, with its VTIMEZONE in the calendar.
        ("dtstart", start),
        ("dtend", calendar.to_local(end, consumer.timezone)),
        ("location", appointment.place),
    ]
    description = _description(None, consumer, app_url)
    if description:
        properties.append(("description", description))
    order = (start.date().isoformat(), start.isoformat(), uid)
    return _entry(uid, properties, order=order, tzid=consumer.timezone)


def _who(consumer: ConsumerRecord) -> str:
    return f"{initials(consumer.name)} ({consumer.id})"


def _description(first_line: str | None, consumer: ConsumerRecord, app_url: str | None) -> str:
    lines = [first_line] if first_line else []
    if app_url:
        lines.append(f"{app_url.rstrip('/')}/consumers/{consumer.id}")
    return "\n".join(lines)


def _entry(
    uid: str,
    properties: list[tuple[str, _Value]],
    *,
    order: tuple[str, ...],
    tzid: str | None = None,
) -> _Entry:
    event = Event()
    event.add("uid", uid)
    content = []
    for name, value in properties:
        event.add(name, value)
        if isinstance(value, datetime):
            content.append(f"{name}:{value.isoformat()}[{value.tzinfo}]")
        elif isinstance(value, date):
            content.append(f"{name}:{value.isoformat()}")
        else:
            content.append(f"{name}:{value}")
    return _Entry(uid, event, tuple(content), order, tzid)


def _fingerprint(content: tuple[str, ...]) -> str:
    return hashlib.sha256("\x00".join(content).encode()).hexdigest()


def _calendar(
    name: str,
    timezone: str,
    entries: list[_Entry],
    published: list[FeedEntryRecord],
    now: datetime,
) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", timezone)
    cal.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for tz in _timezones(entries, now):
        cal.add_component(tz)
    by_uid = {r.uid: r for r in published}
    for entry in entries:
        record = by_uid[entry.uid]
        entry.event.add("sequence", record.sequence)
        # The moment its content last changed, not that of this build (RFC 5545
        # allows either when METHOD is given), so that a refresh changes no byte.
        entry.event.add("dtstamp", record.changed_at)
        cal.add_component(entry.event)
    return cal


def _timezones(entries: list[_Entry], now: datetime) -> list[Timezone]:
    """A VTIMEZONE for each zone the appointments use, in name order (icalendar's
    own `add_missing_timezones` adds them in the order of a set). Their rules
    cover whole years around the horizon, so that they change once a year, not
    every day."""
    tzids = sorted({e.tzid for e in entries if e.tzid is not None})
    first = date((now - HORIZON_PAST).year, 1, 1)
    last = date((now + HORIZON_AHEAD).year + 2, 1, 1)
    return [Timezone.from_tzid(tzid, first_date=first, last_date=last) for tzid in tzids]
