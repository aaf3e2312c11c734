"""`build_feed` as a subscriber's calendar shows it (SPEC §8): which entries, on
which days, named how, and what a refresh changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from feeds import FeedScope, build_feed
from store import NotFoundError, Store
from tests.feeds.conftest import (
    C1_NAME,
    C1_ZONE,
    ReadFeed,
    appointment,
    due_contact,
    read,
)
from tests.notifiers.test_templates import privacy_problems

# 23:00 on Mon Mar 18 in Los Angeles (c-1), already Tue Mar 19 in New York (es-1).
NOW = datetime(2041, 3, 19, 6, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)
APP = "https://app.wellspring.example"
ES_1 = FeedScope("specialist", "es-1")
TEAM_1 = FeedScope("team", "sup-1")


def build(store: Store, scope: FeedScope = ES_1, now: datetime = NOW) -> ReadFeed:
    return read(build_feed(store, scope, now, app_url=APP))


def test_an_open_due_contact_is_an_all_day_event_on_its_due_day(team: Store) -> None:
    team.save_due_contacts([due_contact("c-1", "first_meeting", date(2041, 3, 22))], NOW)

    feed = build(team)

    [entry] = feed.entries.values()
    assert entry.summary == "First meeting — A.M.G. (c-1)"
    # A DATE, not a time: the same day wherever the subscriber's calendar is.
    assert (entry.start, entry.end) == (date(2041, 3, 22), date(2041, 3, 23))
    assert type(entry.start) is date
    assert entry.description == f"Window: Fri Mar 15 – Fri Mar 22\n{APP}/consumers/c-1"
    assert entry.tzid is None
    assert "DTSTART;VALUE=DATE:20410322\r\n" in feed.text
    assert "TRANSP:TRANSPARENT\r\n" in feed.text


def test_the_horizon_is_14_days_back_to_90_ahead_of_the_consumers_own_day(team: Store) -> None:
    # Today is Mar 18 for c-1 in Los Angeles (Mar 19 in their specialist's New York).
    days = {
        "too_old": date(2041, 3, 3),
        "oldest": date(2041, 3, 4),  # Mar 18 − 14 days
        "furthest": date(2041, 6, 16),  # Mar 18 + 90 days
        "too_far": date(2041, 6, 17),
    }
    team.save_due_contacts(
        [
            due_contact("c-1", "outreach_attempt", day, status="missed", seq=n)
            for n, day in enumerate(days.values(), start=1)
        ],
        NOW,
    )

    feed = build(team)

    assert sorted(e.start for e in feed.entries.values()) == [days["oldest"], days["furthest"]]


def test_a_missed_due_contact_says_overdue(team: Store) -> None:
    team.save_due_contacts(
        [due_contact("c-1", "post_start_contact", date(2041, 3, 15), status="missed", window=3)],
        NOW,
    )

    [entry] = build(team).entries.values()

    assert entry.summary == "OVERDUE: Contact after job start — A.M.G. (c-1)"
    assert entry.start == date(2041, 3, 15)


def test_done_cancelled_and_not_applicable_ones_are_not_in_the_feed(team: Store) -> None:
    team.save_due_contacts(
        [
            due_contact("c-1", "first_meeting", date(2041, 3, 20), status="done"),
            due_contact("c-1", "job_loss_contact", date(2041, 3, 21), status="cancelled"),
            due_contact("c-1", "pre_start_contact", date(2041, 3, 22), status="not_applicable"),
            due_contact("c-1", "vocational_profile", date(2041, 3, 23)),
        ],
        NOW,
    )
    team.upsert_appointment(appointment("c-1", "a-1", NOW + timedelta(days=2), cancelled=True))

    feed = build(team)

    assert [e.summary for e in feed.entries.values()] == ["Vocational profile — A.M.G. (c-1)"]


def test_an_appointment_is_timed_in_the_consumers_zone_with_its_vtimezone(team: Store) -> None:
    # 15:00 in Los Angeles on Wed Mar 20, after the change to summer time on Mar 10.
    start = datetime(2041, 3, 20, 22, 0, tzinfo=UTC)
    team.upsert_appointment(appointment("c-1", "a-1", start))

    feed = build(team)

    [entry] = feed.entries.values()
    assert entry.summary == "Meeting — A.M.G. (c-1)"
    assert entry.location == "Main St Library"
    assert entry.tzid == C1_ZONE
    assert "DTSTART;TZID=America/Los_Angeles:20410320T150000\r\n" in feed.text
    assert "DTEND;TZID=America/Los_Angeles:20410320T160000\r\n" in feed.text
    assert (entry.start, entry.end) == (start, start + timedelta(hours=1))
    [zone] = feed.calendar.walk("VTIMEZONE")
    assert str(zone["tzid"]) == C1_ZONE
    assert zone.to_tz().utcoffset(datetime(2041, 3, 20, 15)) == timedelta(hours=-7)


def test_appointments_from_14_days_ago_to_90_days_ahead(team: Store) -> None:
    minute = timedelta(minutes=1)
    starts = {
        "too_old": NOW - timedelta(days=14) - minute,
        "oldest": NOW - timedelta(days=14),
        "furthest": NOW + timedelta(days=90),
        "too_far": NOW + timedelta(days=90) + minute,
    }
    for id, start in starts.items():
        team.upsert_appointment(appointment("c-1", id, start))

    feed = build(team)

    assert sorted(e.start for e in feed.entries.values()) == [
        starts["oldest"],
        starts["furthest"],
    ]


def test_a_specialists_feed_has_their_consumers_and_a_teams_those_of_the_team(
    team: Store,
) -> None:
    team.save_due_contacts(
        [due_contact(c, "first_meeting", date(2041, 3, 25)) for c in ("c-1", "c-2", "c-3")],
        NOW,
    )

    mine = build(team, ES_1)
    ours = build(team, TEAM_1)

    assert [e.summary for e in mine.entries.values()] == ["First meeting — A.M.G. (c-1)"]
    assert sorted(e.summary for e in ours.entries.values()) == [
        "First meeting — A.M.G. (c-1)",
        "First meeting — S.R. (c-2)",
    ]
    # One due contact keeps its UID in every feed it is in.
    assert set(mine.entries) < set(ours.entries)


def test_calendar_properties(team: Store) -> None:
    mine = build(team, ES_1)
    ours = build(team, TEAM_1)

    assert mine.feed.name == mine.property("X-WR-CALNAME") == "Due contacts — Jordan Lee"
    assert ours.feed.name == ours.property("X-WR-CALNAME") == "Due contacts — team of Pat Kim"
    assert mine.property("X-WR-TIMEZONE") == "America/New_York"
    for feed in (mine, ours):
        assert feed.property("VERSION") == "2.0"
        assert feed.property("CALSCALE") == "GREGORIAN"
        assert feed.property("METHOD") == "PUBLISH"
        assert feed.property("PRODID")
        assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in feed.text
        assert "X-PUBLISHED-TTL:PT1H\r\n" in feed.text
        assert "VTODO" not in feed.text


def test_a_refresh_without_change_is_the_same_bytes_uids_and_etag(team: Store) -> None:
    team.save_due_contacts([due_contact("c-1", "first_meeting", date(2041, 3, 22))], NOW)
    team.upsert_appointment(appointment("c-1", "a-1", NOW + timedelta(days=3)))
    first = build(team, TEAM_1)
    # Rows added for someone else move nothing of c-1's.
    team.save_due_contacts([due_contact("c-3", "first_meeting", date(2041, 3, 22))], LATER)

    second = build(team, TEAM_1, LATER)

    assert second.feed.ics == first.feed.ics
    assert second.feed.etag == first.feed.etag
    assert second.feed.etag.startswith('"') and second.feed.etag.endswith('"')
    assert second.feed.last_modified == first.feed.last_modified == NOW
    assert [(e.sequence, e.dtstamp) for e in second.entries.values()] == [(0, NOW)] * 2


def test_a_change_to_an_entry_raises_its_sequence_and_moves_its_dtstamp(team: Store) -> None:
    meeting = due_contact("c-1", "first_meeting", date(2041, 3, 18))
    profile = due_contact("c-1", "vocational_profile", date(2041, 4, 10))
    team.save_due_contacts([meeting, profile], NOW)
    before = build(team)

    # The first meeting's day ends without one: missed.
    team.save_due_contacts(
        [due_contact("c-1", "first_meeting", date(2041, 3, 18), status="missed")], LATER
    )
    after = build(team, now=LATER)
    again = build(team, now=LATER + timedelta(hours=1))

    changed = after.entries[_uid_of(before, "First meeting")]
    assert changed.summary == "OVERDUE: First meeting — A.M.G. (c-1)"
    assert (changed.sequence, changed.dtstamp) == (1, LATER)
    unchanged = after.entries[_uid_of(before, "Vocational profile")]
    assert (unchanged.sequence, unchanged.dtstamp) == (0, NOW)
    assert after.feed.etag != before.feed.etag
    assert after.feed.last_modified == LATER
    # ... and not again on the next refresh.
    assert again.feed.ics == after.feed.ics
    assert again.feed.last_modified == LATER


def test_an_entry_leaving_the_feed_is_a_change_of_the_feed(team: Store) -> None:
    team.save_due_contacts([due_contact("c-1", "first_meeting", date(2041, 3, 22))], NOW)
    build(team)
    team.save_due_contacts(
        [due_contact("c-1", "first_meeting", date(2041, 3, 22), status="done")], LATER
    )

    after = build(team, now=LATER)

    assert after.entries == {}
    assert after.feed.last_modified == LATER


def test_a_moved_appointment_is_the_same_uid_with_a_higher_sequence(team: Store) -> None:
    team.upsert_appointment(appointment("c-1", "a-1", NOW + timedelta(days=3)))
    [before] = build(team).entries.values()
    team.upsert_appointment(appointment("c-1", "a-1", NOW + timedelta(days=4)))

    [after] = build(team, now=LATER).entries.values()

    assert after.uid == before.uid
    assert (after.sequence, after.dtstamp) == (1, LATER)
    assert after.start == NOW + timedelta(days=4)


def test_nothing_names_the_consumer_or_a_clinical_word(team: Store) -> None:
    team.save_due_contacts(
        [
            due_contact("c-1", rule, date(2041, 3, 20) + timedelta(days=n), status=status)
            for n, (rule, status) in enumerate(
                [
                    ("first_meeting", "missed"),
                    ("benefits_planning", "open"),
                    ("job_loss_contact", "open"),
                    ("outreach_attempt", "missed"),
                ]
            )
        ],  # fmt: skip
        NOW,
    )
    team.upsert_appointment(appointment("c-1", "a-1", NOW + timedelta(days=2)))

    for scope in (ES_1, TEAM_1):
        feed = build(team, scope)
        assert len(feed.entries) == 5
        assert privacy_problems(feed.text, C1_NAME) == []
        assert "+15555550123" not in feed.text and "alexandra@" not in feed.text


def test_an_unknown_specialist_or_supervisor_is_refused_by_field(team: Store) -> None:
    with pytest.raises(NotFoundError) as specialist:
        build_feed(team, FeedScope("specialist", "es-9"), NOW)
    with pytest.raises(NotFoundError) as supervisor:
        build_feed(team, FeedScope("team", "es-1"), NOW)

    assert specialist.value.field == "specialist" and "es-9" in str(specialist.value)
    assert supervisor.value.field == "team" and "es-1" in str(supervisor.value)


def _uid_of(feed: ReadFeed, rule_words: str) -> str:
    [uid] = [e.uid for e in feed.entries.values() if rule_words in e.summary]
    return uid
