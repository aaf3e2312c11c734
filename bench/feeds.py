"""How long `build_feed` takes for a team's feed, against icalendar alone.

    .venv/bin/python -m bench.feeds [--runs 30]

(as a module from the repository root: run as a file, its own name would hide
the package `feeds`).

A team of 10 specialists and 200 consumers with 1,000 open or missed due
contacts and 200 appointments, all inside the horizon, in a temporary SQLite
store. `build_feed` reads the store, builds the calendar and records what it
published; "icalendar alone" builds the same VEVENTs (and VTIMEZONEs) from values
already in memory and serialises them, which is the least any builder must pay.
The first build, which inserts every feed entry, is shown apart.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from icalendar import Calendar, Event, Timezone

from api.server import ApiServer
from feeds import FeedScope, build_feed
from rules.policy import Policy
from service.feeds import create_feed_token
from service.journeys import Services
from store import (
    AppointmentRecord,
    ConsumerRecord,
    DueContactRecord,
    SpecialistRecord,
    StaffUserRecord,
    Store,
    SupervisorRecord,
)

NOW = datetime(2041, 3, 19, 14, 0, tzinfo=UTC)
SPECIALISTS = 10
CONSUMERS_EACH = 20
DUE_CONTACTS_EACH = 5
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
RULES = (
    "weekly_follow_along",
    "monthly_follow_along",
    "benefits_planning",
    "outreach_attempt",
    "vocational_profile",
)
TEAM = FeedScope("team", "sup-1")


def seed(store: Store) -> None:
    store.upsert_supervisor(
        SupervisorRecord("sup-1", "Pat Kim", "pat@example.org", "America/New_York")
    )
    today = NOW.date()
    for s in range(SPECIALISTS):
        es = f"es-{s + 1}"
        store.upsert_specialist(
            SpecialistRecord(
                es, f"Specialist {s + 1}", f"{es}@example.org", ZONES[s % 4], supervisor_id="sup-1"
            )
        )
        due_contacts = []
        for c in range(CONSUMERS_EACH):
            consumer = f"c-{s + 1}-{c + 1}"
            zone = ZONES[(s + c) % 4]
            store.upsert_consumer(ConsumerRecord(consumer, f"Consumer Number {c}", es, zone))
            for n, rule in enumerate(RULES):
                due = today + timedelta(days=(c * 7 + n * 13) % 100 - 10)
                due_contacts.append(_due_contact(consumer, rule, n, due))
            start = NOW + timedelta(days=(c * 3) % 60, hours=c % 5)
            store.upsert_appointment(AppointmentRecord(consumer, "a-1", start, 60, "Main St"))
        store.save_due_contacts(due_contacts, NOW)


def _due_contact(consumer: str, rule: str, n: int, due: date) -> DueContactRecord:
    return DueContactRecord(
        key=f"{consumer}/r1/{rule}/-/{n}",
        consumer_id=consumer,
        rule=rule,
        job_id=None,
        seq=n,
        window_start=due - timedelta(days=7),
        due=due,
        status="missed" if due < NOW.date() else "open",
        satisfied_on=None,
        referral_no=1,
        created_at=NOW,
    )


def icalendar_alone(template: Calendar) -> Callable[[], bytes]:
    """A builder of the same calendar from plain values already in memory."""
    header = [(name, template[name]) for name in template]
    zones = sorted(str(tz["tzid"]) for tz in template.walk("VTIMEZONE"))
    events: list[list[tuple[str, Any, dict[str, str]]]] = [
        [(name, ev.decoded(name), dict(ev[name].params)) for name in ev]
        for ev in template.walk("VEVENT")
    ]

    def build() -> bytes:
        cal = Calendar()
        for name, value in header:
            cal.add(name, value)
        for tzid in zones:
            cal.add_component(
                Timezone.from_tzid(tzid, first_date=date(2041, 1, 1), last_date=date(2043, 1, 1))
            )
        for properties in events:
            ev = Event()
            for name, value, params in properties:
                ev.add(name, value, parameters={k: v for k, v in params.items() if k != "TZID"})
            cal.add_component(ev)
        return bytes(cal.to_ical())

    return build


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


async def _no_temporal() -> Any:
    raise RuntimeError("the feed route needs no Temporal")


def http_requests(store: Store, runs: int) -> list[float]:
    """GET /feeds/<token>.ics from the API served by uvicorn on a loopback port,
    as a calendar program fetches it (a full answer, no If-None-Match)."""
    store.upsert_staff_user(
        StaffUserRecord(
            id="u-sup-1", name="Pat Kim", role="supervisor", person_id="sup-1", created_at=NOW
        )
    )
    secret, _ = create_feed_token(store, scope=TEAM, now=NOW, user_id="u-sup-1", label="bench")
    services = Services(store=store, connect=_no_temporal, policy=Policy(), now=lambda: NOW)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])

    async def fetch_all() -> list[float]:
        async with (
            ApiServer(services, host="127.0.0.1", port=port),
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
        ):
            times = []
            for _ in range(runs + 1):
                start = time.perf_counter()
                answer = await http.get(f"/feeds/{secret}.ics", timeout=60)
                times.append((time.perf_counter() - start) * 1000)
                assert answer.status_code == 200, answer.text
        return times[1:]  # the first one warms the server up

    return asyncio.run(fetch_all())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ips-bench-feeds-") as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        try:
            store.create_schema()
            seed(store)
            first = timed(lambda: build_feed(store, TEAM, NOW), 1)[0]
            feed = build_feed(store, TEAM, NOW)
            template = Calendar.from_ical(feed.ics)
            alone = icalendar_alone(template)
            events = len(template.walk("VEVENT"))
            ours = timed(lambda: build_feed(store, TEAM, NOW), args.runs)
            baseline = timed(alone, args.runs)
            http = http_requests(store, args.runs)
        finally:
            store.dispose()

    print(
        f"Team feed: {SPECIALISTS} specialists, {SPECIALISTS * CONSUMERS_EACH} consumers, "
        f"{events} VEVENTs, {len(feed.ics):,} bytes; {args.runs} runs, SQLite\n"
    )
    rows = [
        ("build_feed (store + calendar)", ours),
        ("icalendar alone (same events)", baseline),
        ("GET /feeds/<token>.ics (HTTP)", http),
    ]
    print(f"{'':32}{'median ms':>12}{'p95 ms':>12}{'× icalendar':>14}")
    for label, times in rows:
        ratio = statistics.median(times) / statistics.median(baseline)
        print(f"{label:32}{statistics.median(times):>12.1f}{p95(times):>12.1f}{ratio:>14.2f}")
    print(f"{'first build_feed (inserts entries)':32}{first:>12.1f}")


if __name__ == "__main__":
    main()
