"""What the fault tests stand on: a real Temporal dev server, the worker in a
process of its own that can be killed, and a team whose specialists' reminders
all fall due at one moment a little ahead on the real clock.

The reminders come from the journeys' own rules: with `due_soon_days` as long
as `first_meeting_days`, a referral's first-meeting window opens today and its
`due_soon` reminder goes at today's `reminder_time`, which `reminder_policy`
puts on the next minute far enough ahead to set the team up first.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from temporalio.client import Client

import temporal_client
from rules.events import EventEnvelope
from rules.policy import Policy, load_policy_file
from store import ConsumerRecord, NotificationRecord, SpecialistRecord, Store
from tests.cli.test_up import _free_port
from tests.e2e.test_messaging import _wait_for
from workflows.client import send_event
from workflows.journey import ConsumerJourney, journey_id
from workflows.search import dev_server_args

REPO = Path(__file__).resolve().parents[2]
SERVER_START_SECONDS = 60.0
WORKER_READY_LINE = "worker running on task queue"
WORKER_START_SECONDS = 60.0

# Zones far enough apart that one of them is not near midnight: the reminder's
# day must be the referral's day in the zone of the team.
_ZONES = ("UTC", "Asia/Tokyo")


@contextmanager
def temporal_dev_server(data_dir: Path) -> Iterator[str]:
    """`temporal server start-dev` (this project's binary) on a free loopback
    port, its history in `data_dir`, the journeys' search attributes
    registered; yields its address once a client can use it."""
    port = _free_port()
    address = f"127.0.0.1:{port}"
    program = temporal_client.find_program(temporal_client.TEMPORAL_CLI)
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "temporal.log").open("ab") as log:
        server = subprocess.Popen(
            [
                str(program),
                "server",
                "start-dev",
                "--headless",
                "--db-filename",
                str(data_dir / "temporal.db"),
                "--ip",
                "127.0.0.1",
                "--port",
                str(port),
                "--ui-port",
                str(_free_port()),
                "--log-level",
                "warn",
                *dev_server_args(),
            ],  # fmt: skip
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        asyncio.run(_until_serving(address, server))
        yield address
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


async def _until_serving(address: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while True:
        assert server.poll() is None, f"the Temporal dev server exited ({server.returncode})"
        try:
            client = await asyncio.wait_for(temporal_client.connect(address), timeout=5)
            await temporal_client.check_search_attributes(client)
            return
        except (RuntimeError, TimeoutError, temporal_client.SearchAttributesMissing):
            assert time.monotonic() < deadline, (
                f"the Temporal dev server did not serve within {SERVER_START_SECONDS:.0f} s"
            )
            await asyncio.sleep(0.3)


@dataclass
class WorkerProcess:
    """`python worker.py` in a process of its own, its output in `log`."""

    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """kill -9: no signal handler, no graceful shutdown, no finally."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


@contextmanager
def worker_process(environment: dict[str, str], log: Path) -> Iterator[WorkerProcess]:
    """The worker as the agency runs it (`python worker.py`, configured by the
    IPS_* variables of `environment`), once it polls for work; stopped (SIGTERM)
    on the way out if it still runs."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, str(REPO / "worker.py")],
            cwd=REPO,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    worker = WorkerProcess(process, log)
    try:
        _wait_for(
            f"the worker to start (its log: {log})",
            lambda: WORKER_READY_LINE in worker.output() or process.poll() is not None,
            WORKER_START_SECONDS,
        )
        assert process.poll() is None, f"the worker exited at start-up:\n{worker.output()}"
        yield worker
    finally:
        worker.stop()


async def until(what: str, check: Callable[[], bool], timeout: float) -> None:
    """Wait (without blocking the event loop) until `check()`; fails naming `what`."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what} after {timeout:.0f} s"
        await asyncio.sleep(0.5)


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without its IPS_* settings, with `settings`."""
    return {k: v for k, v in os.environ.items() if not k.startswith("IPS_")} | settings


# ---------------------------------------------------------------- the team


@dataclass(frozen=True)
class ReminderMoment:
    """When the reminders fall due, and the zone of the team whose clock says so."""

    at: datetime
    zone: str


def reminder_moment(lead: timedelta) -> ReminderMoment:
    """The first whole minute at least `lead` from now, in a zone where it is
    still today and not about to be tomorrow."""
    for zone in _ZONES:
        now = datetime.now(ZoneInfo(zone))
        at = (now + lead + timedelta(minutes=1)).replace(second=0, microsecond=0)
        if (at + timedelta(minutes=5)).date() == now.date():
            return ReminderMoment(at, zone)
    raise AssertionError("no zone of _ZONES is far from midnight")  # they are 9 hours apart


def reminder_policy(path: Path, moment: ReminderMoment) -> Policy:
    """A policy file (at `path`) whose specialist reminders of today's referrals
    go at `moment`, on any day of the week; the policy it holds."""
    path.write_text(
        "version: faults\n"
        f'reminder_time: "{moment.at:%H:%M}"\n'
        "working_days: [mon, tue, wed, thu, fri, sat, sun]\n"
        "first_meeting_days: 7\n"
        "due_soon_days: 7\n"
        # No employer-contact nudge goes out by text while the test counts texts.
        "employer_contacts_nudge_below: 0\n",
        encoding="utf-8",
    )
    return load_policy_file(path)


def add_team(
    store: Store, consumers: int, zone: str, *, channels: tuple[str, ...] = ("sms",)
) -> list[str]:
    """Specialists es-<n> of `zone` with `channels` in turn (each specialist
    reached by one of them), each with one consumer c-<n>; the consumer ids."""
    ids = []
    for n in range(1, consumers + 1):
        channel = channels[(n - 1) % len(channels)]
        store.upsert_specialist(
            SpecialistRecord(
                id=f"es-{n}",
                name=f"Specialist Number{n}",
                email=f"es-{n}@example.org",
                phone=f"+1555555{n:04d}",
                timezone=zone,
                channels=[channel],
            )
        )
        store.upsert_consumer(
            ConsumerRecord(
                id=f"c-{n}", name=f"Consumer Number{n}", specialist_id=f"es-{n}", timezone=zone
            )
        )
        ids.append(f"c-{n}")
    return ids


async def refer_all(client: Client, store: Store, consumers: list[str], policy: Policy) -> None:
    """Refer every consumer now, as `ips refer` does: each journey starts."""
    await asyncio.gather(
        *[
            send_event(
                client,
                store,
                EventEnvelope(
                    event_id=f"{consumer}-referred",
                    type="referred",
                    at=datetime.now(ZoneInfo("UTC")).isoformat(),
                    consumer=consumer,
                ),
                policy,
            )
            for consumer in consumers
        ]
    )


async def pending_activities(client: Client, consumers: list[str]) -> int:
    """How many activities the consumers' journeys are still waiting for."""
    total = 0
    for consumer in consumers:
        handle = client.get_workflow_handle_for(ConsumerJourney.run, journey_id(consumer))
        described = await handle.describe()
        total += len(described.raw_description.pending_activities)
    return total


def callback_key(status_callback: str) -> str:
    """The outbox key a text's status callback URL names."""
    [key] = parse_qs(urlsplit(status_callback).query)["key"]
    return key


def reminders_due(store: Store, consumers: list[str], at: datetime) -> list[NotificationRecord]:
    """The outbox rows of the consumers' specialist reminders due at `at`."""
    return [
        n
        for consumer in consumers
        for n in store.list_notifications(consumer)
        if n.send_at == at and n.recipient_role == "specialist"
    ]
