"""The sweep scheduler: cron triggers in each recipient's own zone, and several
schedulers on one job store sending each digest once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from activities.sweeps import DAILY_DIGEST, WEEKLY_DIGEST
from rules import calendar
from store import DueContactRecord, Store
from sweeps.plan import PlannedSweep, planned_sweeps
from sweeps.scheduler import SweepExecutor, SweepScheduler
from tests.sweeps.conftest import Sweeps, load_people
from tests.sweeps.test_sweeps import REFERRED


def _due_today(h: Sweeps, day: date) -> None:
    h.consumer("c-1", "Alex Smith", "es-1", referred=REFERRED)
    h.store.save_due_contacts(
        [
            DueContactRecord(
                key=f"c-1/r1/vocational_profile/{day}",
                consumer_id="c-1",
                rule="vocational_profile",
                job_id=None,
                seq=None,
                window_start=day - timedelta(days=7),
                due=day,
                status="open",
                satisfied_on=None,
                referral_no=1,
                created_at=REFERRED,
            )
        ],
        REFERRED,
    )


def _planned(store: Store, sweep: str, recipient: str) -> PlannedSweep:
    from rules.policy import Policy

    return next(
        p
        for p in planned_sweeps(store, Policy())
        if (p.sweep, p.recipient_id) == (sweep, recipient)
    )


def test_digests_fire_at_the_recipients_local_time_across_the_spring_change(
    tmp_path: object,
) -> None:
    store = Store(f"sqlite:///{tmp_path}/ips.db")
    store.create_schema()
    load_people(store)
    try:
        start = datetime(2047, 3, 7, tzinfo=UTC)  # Thu; clocks go forward Sun 03-10
        end = datetime(2047, 3, 13, tzinfo=UTC)
        new_york = [
            t.isoformat() for t in _planned(store, DAILY_DIGEST, "es-1").fire_times(start, end)
        ]
        los_angeles = [
            t.isoformat() for t in _planned(store, DAILY_DIGEST, "es-2").fire_times(start, end)
        ]
        weekly = [
            t.isoformat()
            for t in _planned(store, WEEKLY_DIGEST, "sup-1").fire_times(
                start, end + timedelta(days=7)
            )
        ]
    finally:
        store.dispose()
    # Working days only, 07:30 local before and after the change.
    assert new_york == [
        "2047-03-07T07:30:00-05:00",
        "2047-03-08T07:30:00-05:00",
        "2047-03-11T07:30:00-04:00",
        "2047-03-12T07:30:00-04:00",
    ]
    assert los_angeles == [
        "2047-03-07T07:30:00-08:00",
        "2047-03-08T07:30:00-08:00",
        "2047-03-11T07:30:00-07:00",
        "2047-03-12T07:30:00-07:00",
    ]
    assert weekly == ["2047-03-11T08:00:00-04:00", "2047-03-18T08:00:00-04:00"]


async def test_two_schedulers_firing_for_the_same_period_send_one_digest(
    sweeps: Sweeps, database_url: str
) -> None:
    h = sweeps
    first = SweepScheduler(h.env.client, h.store, h.policy, database_url=database_url)
    second = SweepScheduler(h.env.client, h.store, h.policy, database_url=database_url)
    async with first, second:
        job_id = "sweep:daily_digest:es-1"
        job = first.scheduler.get_job(job_id)
        assert job is not None and second.scheduler.get_job(job_id) is not None
        fire = job.trigger.get_next_fire_time(None, datetime.now(UTC))
        assert fire.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") == "07:30"
        _due_today(h, calendar.local_date(fire, "America/New_York"))
        executors: list[SweepExecutor] = [
            s.scheduler._lookup_executor("default") for s in (first, second)
        ]

        # Both schedulers' jobs come due at the same moment.
        results = await asyncio.gather(*(e._run(job, [fire]) for e in executors))

    assert [len(events) for events in results] == [1, 1]
    [message] = h.notifier.sent
    assert message.to == "jordan@example.org"
    [row] = h.store.list_notifications()
    assert row.kind == "daily_digest" and row.send_at == fire


async def test_two_running_schedulers_whose_job_comes_due_send_once(
    sweeps: Sweeps, database_url: str
) -> None:
    h = sweeps
    _due_today(h, calendar.local_date(datetime.now(UTC), "America/New_York"))
    first = SweepScheduler(h.env.client, h.store, h.policy, database_url=database_url)
    second = SweepScheduler(h.env.client, h.store, h.policy, database_url=database_url)
    async with first, second:
        soon = datetime.now(UTC) + timedelta(seconds=1)
        first.scheduler.modify_job("sweep:daily_digest:es-1", next_run_time=soon)
        second.scheduler.wakeup()
        for _ in range(100):
            await asyncio.sleep(0.1)
            if h.notifier.sent:
                break
        await asyncio.sleep(1)
        # Afterwards the job waits for its next 07:30.
        job = second.scheduler.get_job("sweep:daily_digest:es-1")
        assert job is not None and job.next_run_time > soon

    assert len(h.notifier.sent) == 1
    assert [n.kind for n in h.store.list_notifications()] == ["daily_digest"]


async def test_a_refresh_schedules_new_people_and_drops_those_gone(
    sweeps: Sweeps, database_url: str
) -> None:
    h = sweeps
    async with SweepScheduler(h.env.client, h.store, h.policy, database_url=database_url) as s:
        ids = {job.id for job in s.scheduler.get_jobs()}
        assert ids == {
            "sweep:daily_digest:es-1",
            "sweep:daily_digest:es-2",
            "sweep:employer_contacts_nudge:es-1",
            "sweep:employer_contacts_nudge:es-2",
            "sweep:weekly_digest:sup-1",
            "sweep:caseload:sup-1",
        }
        s.scheduler.add_job(
            "sweeps.scheduler:scheduled_sweep",
            "cron",
            args=["daily_digest", "es-9", "UTC"],
            id="sweep:daily_digest:es-9",
            hour=7,
        )
        s.refresh()
        assert "sweep:daily_digest:es-9" not in {job.id for job in s.scheduler.get_jobs()}
        job = s.scheduler.get_job("sweep:daily_digest:es-2")
        assert job is not None and str(job.trigger.timezone) == "America/Los_Angeles"
