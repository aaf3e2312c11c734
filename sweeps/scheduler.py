"""The sweep scheduler: APScheduler 3 (`AsyncIOScheduler`) with its jobs in the
app database (`SQLAlchemyJobStore`), one job per recipient and sweep.

A job only starts the sweep's workflow (`workflows.client.run_sweep`), whose id
names the period: several schedulers on the same job store may all fire for
the same period, and the sweep still runs, and sends, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from temporalio.client import Client

from rules.policy import Policy
from store import Store
from store.store import engine_options
from sweeps.plan import JOB_ID_PREFIX, PlannedSweep, planned_sweeps
from workflows.client import run_sweep

log = logging.getLogger("ips.sweeps")

JOB_TABLE = "apscheduler_jobs"
REFRESH_INTERVAL = timedelta(minutes=10)
# A run missed by more than this (the scheduler was down) is skipped: the next one comes.
MISFIRE_GRACE = timedelta(hours=1)


async def scheduled_sweep(sweep: str, recipient_id: str, timezone: str) -> None:
    """What a stored job names. It is carried out by its scheduler's
    `SweepExecutor`, which has the Temporal client and the policy."""
    raise RuntimeError("sweep jobs run only through sweeps.scheduler.SweepExecutor")


class SweepExecutor(AsyncIOExecutor):
    """Runs a stored sweep job at each of its scheduled times, with this
    scheduler's Temporal client and policy."""

    def __init__(self, client: Client, policy: Policy) -> None:
        super().__init__()
        self._client = client
        self._policy = policy

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        future = self._eventloop.create_task(self._run(job, run_times))

        def done(f: asyncio.Future[list[JobExecutionEvent]]) -> None:
            self._pending_futures.discard(f)
            try:
                events = f.result()
            except BaseException:
                self._run_job_error(job.id, *sys.exc_info()[1:])
            else:
                self._run_job_success(job.id, events)

        future.add_done_callback(done)
        self._pending_futures.add(future)

    async def _run(self, job: Job, run_times: list[datetime]) -> list[JobExecutionEvent]:
        sweep, recipient_id, tz = job.args
        planned = PlannedSweep(sweep, recipient_id, tz, job.trigger)
        events = []
        for run_time in run_times:
            store = job._jobstore_alias
            if datetime.now(UTC) - run_time > MISFIRE_GRACE:
                log.warning(
                    "%s at %s was missed; the next run is %s", job.id, run_time, job.next_run_time
                )
                events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, store, run_time))
                continue
            try:
                result = await run_sweep(self._client, planned.input_at(run_time, self._policy))
            except Exception as exc:
                log.exception("%s at %s failed", job.id, run_time)
                events.append(
                    JobExecutionEvent(EVENT_JOB_ERROR, job.id, store, run_time, exception=exc)
                )
                continue
            if result is None:
                log.info("%s at %s: already run by another scheduler", job.id, run_time)
            events.append(
                JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, store, run_time, retval=result)
            )
        return events


class SweepScheduler:
    """Schedules every recipient's sweeps and keeps them up to date with the
    people on file (at start and every `refresh_interval`)."""

    def __init__(
        self,
        client: Client,
        store: Store,
        policy: Policy,
        *,
        database_url: str,
        refresh_interval: timedelta = REFRESH_INTERVAL,
    ) -> None:
        self.store = store
        self.policy = policy
        self.refresh_interval = refresh_interval
        self.scheduler = AsyncIOScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(
                    url=database_url,
                    tablename=JOB_TABLE,
                    engine_options=engine_options(database_url),
                )
            },
            executors={"default": SweepExecutor(client, policy)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        self._refreshing: asyncio.Task[None] | None = None

    def refresh(self) -> list[PlannedSweep]:
        """Schedule everyone's sweeps as the store has them now: new recipients get
        jobs, changed ones (a new time zone) are replaced, those gone are removed."""
        planned = planned_sweeps(self.store, self.policy)
        wanted = {p.job_id for p in planned}
        for p in planned:
            self.scheduler.add_job(
                scheduled_sweep,
                p.trigger,
                args=[p.sweep, p.recipient_id, p.timezone],
                id=p.job_id,
                name=p.job_id,
                replace_existing=True,
            )
        for job in self.scheduler.get_jobs():
            if job.id.startswith(JOB_ID_PREFIX) and job.id not in wanted:
                job.remove()
        return planned

    async def start(self) -> None:
        self.scheduler.start()
        self.refresh()
        self._refreshing = asyncio.create_task(self._refresh_every_interval())
        log.info("sweep scheduler running: %d jobs", len(self.scheduler.get_jobs()))

    async def stop(self) -> None:
        if self._refreshing is not None:
            self._refreshing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refreshing
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def _refresh_every_interval(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_interval.total_seconds())
            try:
                await asyncio.to_thread(self.refresh)
            except Exception:
                # The store may be down for a moment; the jobs scheduled so far still run.
                log.exception("refreshing the sweep jobs failed; trying again later")

    async def __aenter__(self) -> SweepScheduler:
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()
