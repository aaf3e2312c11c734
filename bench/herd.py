"""Reminder herd: N reminders due at the same "08:00", handed to a fake provider;
how late they are, against N bare workflows woken at one instant.

    .venv/bin/python -m bench.herd [--reminders 200] [--concurrency 16] [--setup-workers 1]
        [--database-url postgresql+psycopg://root@127.0.0.1:5432/test]
    .venv/bin/python -m bench.herd --reminders 5000     # the issue's figure

On the real clock the dev server cannot skip to 08:00, so the agency policy puts
the reminder time a little ahead: `reminder_time` is the wall-clock minute T
that the set-up is expected to be done by, every day is a working day and
`due_soon_days` is 7, so each referral's first meeting (due within 7 days) has
its `due_soon` reminder today at T. N consumers are referred through
`service.journeys.refer` (20 to a specialist, each specialist by email only):
N reminders, one per journey, due at T. The real worker hands them to an
in-process fake provider (a `notifiers.Notifier` that notes when each message
reaches it). Lateness is the arrival time minus T.

The set-up is parallel: referrals go `--concurrency` at a time and, besides the
worker of this process, `--setup-workers` `python worker.py` processes run the
journeys while they are set up (2 cores: more processes do not help); they are
stopped before T, so that at T the one worker with the fake provider sends
everything. How long the set-up will take is first measured on a few referrals
of a default policy (not part of the herd), and T is chosen from that.

The baseline, in the same run on the same server after the herd: N no-op
workflows each sleeping until one instant, then running one no-op activity that
notes when it ran, on a no-op worker of the same set-up in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.client import Client

from bench import _noop
from bench._stack import (
    add_concurrency_flag,
    add_database_flag,
    add_setup_workers_flag,
    add_team,
    app_database,
    database_label,
    dev_server,
    helper_workers,
    journey_worker,
    parser_of,
    percentile,
    progress,
    refer_for_set_up,
    services,
    table,
    timed_calls,
    worker_environment,
)
from notifiers import Delivery, OutgoingMessage
from rules.policy import WEEKDAYS, Policy

# Zones, one of which always has its local time between midnight and 20:00: the
# reminder minute then falls on the day of the referrals.
ZONES = ("America/New_York", "Europe/London", "Asia/Tokyo")
# Referrals of the default policy that time the set-up first (not in the herd).
CALIBRATION = 30
# Margin between the set-up's expected end and T.
MARGIN = timedelta(seconds=45)
# How much longer than the calibration says the set-up may take.
SLACK = 1.6


class ArrivalNotifier:
    """A fake provider: notes when each message reaches it (time.time())."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def send(self, message: OutgoingMessage) -> Delivery:
        now = time.time()
        with self._lock:
            self.arrivals.setdefault(message.idempotency_key, []).append(now)
        return Delivery(provider_id=f"fake-{message.idempotency_key}")

    def herd(self) -> dict[str, list[float]]:
        """The arrivals of the first meetings' due_soon reminders."""
        with self._lock:
            return {
                key: list(times)
                for key, times in self.arrivals.items()
                if "/first_meeting/" in key and "/due_soon/" in key
            }


def pick_zone(now: datetime) -> str:
    for zone in ZONES:
        if now.astimezone(ZoneInfo(zone)).hour < 20:
            return zone
    raise AssertionError("some zone is between midnight and 20:00")


def herd_policy(instant: datetime, zone: str) -> Policy:
    local = instant.astimezone(ZoneInfo(zone))
    return Policy(
        version="bench-herd",
        reminder_time=f"{local:%H:%M}",
        working_days=WEEKDAYS,
        due_soon_days=7,
    )


def next_minute_after(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0) + timedelta(minutes=1)


async def ours(client: Client, folder: Path, database_url: str, args: argparse.Namespace) -> Any:
    n = args.reminders
    zone = pick_zone(datetime.now(UTC))
    notifier = ArrivalNotifier()
    async with journey_worker(client, database_url, notifier) as store:
        progress(f"adding {n + CALIBRATION:,} consumers and their team (zone {zone})")
        add_team(store, n + CALIBRATION, timezone=zone)
        calm = services(store, client, Policy())
        environment = worker_environment(client.service_client.config.target_host, database_url)
        async with helper_workers(args.setup_workers, environment, folder):
            progress(f"timing the set-up on {CALIBRATION} referrals of the default policy")
            timed = await timed_calls(
                CALIBRATION,
                lambda i: refer_for_set_up(calm, n + i),
                concurrency=args.concurrency,
                what="calibration",
            )
            expected = timedelta(seconds=n / timed.rate * SLACK)
            instant = next_minute_after(datetime.now(UTC) + expected + MARGIN)
            policy = herd_policy(instant, zone)
            herd = services(store, client, policy)
            progress(
                f"setting up {n:,} journeys in parallel ({args.concurrency} referrals at a "
                f"time, {1 + args.setup_workers} worker processes) for reminders due at "
                f"{instant.astimezone(ZoneInfo(zone)):%H:%M} {zone} "
                f"(in {(instant - datetime.now(UTC)).total_seconds():.0f} s; about "
                f"{timed.rate:.1f} referrals a second)"
            )
            setup = await timed_calls(
                n,
                lambda i: refer_for_set_up(herd, i),
                concurrency=args.concurrency,
                what="referrals",
            )
            progress(f"set-up done: {setup.rate:.1f} referrals a second; stopping the helpers")
        left = (instant - datetime.now(UTC)).total_seconds()
        if left < 5:
            raise SystemExit(
                f"the set-up ended {-left:.0f} s after the reminders' instant: try again on a "
                "quieter machine, or with fewer --reminders"
            )
        progress(f"waiting {left:.0f} s for the reminders' instant")
        await _wait_for(
            lambda: len(notifier.herd()) >= n, instant, timeout=max(300.0, n * 0.5), what="ours"
        )
        return instant, notifier.herd(), setup.rate


async def baseline(client: Client, args: argparse.Namespace) -> Any:
    n = args.reminders

    async def start(until: datetime, name: str, i: int) -> None:
        await client.start_workflow(
            _noop.SleepingWorkflow.run, until, id=f"{name}-{i}", task_queue=_noop.TASK_QUEUE
        )

    progress(f"timing no-op starts on {CALIBRATION} sleepers")
    timed = await timed_calls(
        CALIBRATION,
        lambda i: start(datetime.now(UTC), "calibration", i),
        concurrency=args.concurrency,
        what="calibration",
    )
    expected = timedelta(seconds=n / timed.rate * SLACK)
    instant = datetime.now(UTC) + expected + MARGIN
    progress(
        f"starting {n:,} no-op workflows sleeping until an instant "
        f"{(instant - datetime.now(UTC)).total_seconds():.0f} s ahead"
    )
    _noop.ARRIVALS.clear()
    await timed_calls(
        n, lambda i: start(instant, "sleeper", i), concurrency=args.concurrency, what="sleepers"
    )
    left = (instant - datetime.now(UTC)).total_seconds()
    if left < 5:
        raise SystemExit("the baseline's set-up ended after its instant")
    progress(f"waiting {left:.0f} s for the baseline's instant")
    await _wait_for(
        lambda: sum(k.startswith("sleeper-") for k in _noop.ARRIVALS) >= n,
        instant,
        timeout=max(300.0, n * 0.5),
        what="baseline",
    )
    return instant, {k: [v] for k, v in _noop.ARRIVALS.items() if k.startswith("sleeper-")}


async def _wait_for(
    done: Callable[[], bool], instant: datetime, *, timeout: float, what: str
) -> bool:
    """Wait until `done()`, at most `timeout` seconds after `instant`."""
    deadline = instant.timestamp() + timeout
    while not done():
        if time.time() > deadline:
            progress(f"{what}: gave up waiting {timeout:.0f} s after the instant")
            return False
        await asyncio.sleep(0.1)
    return True


def lateness(instant: datetime, arrivals: dict[str, list[float]], n: int) -> dict[str, float]:
    late = [min(times) - instant.timestamp() for times in arrivals.values()]
    return {
        "handed": len(arrivals),
        "twice": sum(len(times) > 1 for times in arrivals.values()),
        "first": min(late) if late else math.nan,
        "all": max(late) if len(arrivals) >= n else math.nan,
        "p50": percentile(late, 50),
        "p99": percentile(late, 99),
    }


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="ips-bench-herd-") as tmp:
        folder = Path(tmp)
        with app_database(folder, args.database_url) as database_url:
            async with dev_server(folder) as server:
                instant, arrivals, setup_rate = await ours(
                    server.client, folder, database_url, args
                )
                async with _noop.noop_worker(server.client):
                    base_instant, base_arrivals = await baseline(server.client, args)
    n = args.reminders
    mine = lateness(instant, arrivals, n)
    base = lateness(base_instant, base_arrivals, n)
    print(
        f"Reminder herd: {n:,} reminders due at one instant; temporal server start-dev "
        f"(SQLite file), app database on {database_label(database_url)}, one worker "
        f"(16 activity threads) sending to an in-process fake provider; set-up at "
        f"{setup_rate:.1f} referrals a second with {1 + args.setup_workers} worker processes\n"
    )
    rows = [
        ("staff reminders (journeys)", mine),
        ("sleep + no-op activity (baseline)", base),
    ]
    print(
        table(
            [
                "path",
                "handed over",
                "twice",
                "first s",
                "all in s",
                "p50 late s",
                "p99 late s",
                "× baseline",
            ],
            [
                (
                    label,
                    r["handed"],
                    r["twice"],
                    r["first"],
                    r["all"],
                    r["p50"],
                    r["p99"],
                    r["all"] / base["all"],
                )
                for label, r in rows
            ],
        )  # fmt: skip
    )
    print(
        f"\n'first s' and 'all in s': from the instant until the first and the last was "
        f"handed over; 'late': arrival "
        f"minus the instant; '× baseline' compares 'all in s'. p99 lateness is "
        f"{mine['p99'] / base['p99']:.1f}× the baseline's."
    )


def main() -> None:
    parser = parser_of(__doc__)
    parser.add_argument("--reminders", type=int, default=200, help="how many (default 200)")
    add_concurrency_flag(parser, "referrals in the set-up")
    add_setup_workers_flag(parser)
    add_database_flag(parser)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
