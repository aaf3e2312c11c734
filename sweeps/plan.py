"""When each agency sweep runs: one cron trigger per recipient and sweep, in the
recipient's own time zone, from the policy's clock times.

The scheduler (`sweeps.scheduler`) and `ips simulate` use the same triggers, so
a simulation sends digests exactly when the running system would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from activities.sweeps import (
    CASELOAD,
    DAILY_DIGEST,
    EMPLOYER_CONTACTS_NUDGE,
    WEEKLY_DIGEST,
    SweepInput,
    period_for,
)
from rules.policy import Policy
from store import Store

# Every job this module plans has an id that starts so; others are left alone.
JOB_ID_PREFIX = "sweep:"


@dataclass(frozen=True)
class PlannedSweep:
    sweep: str
    recipient_id: str
    timezone: str
    trigger: CronTrigger

    @property
    def job_id(self) -> str:
        """Stable across restarts: the same recipient's sweep replaces its job."""
        return f"{JOB_ID_PREFIX}{self.sweep}:{self.recipient_id}"

    def input_at(self, at: datetime, policy: Policy) -> SweepInput:
        """The sweep's input for its run at `at` (a fire time of `trigger`)."""
        return SweepInput(
            sweep=self.sweep,
            recipient_id=self.recipient_id,
            period=period_for(self.sweep, at, self.timezone),
            policy=policy,
            at=at,
        )

    def fire_times(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Every time the trigger fires in [start, end]."""
        at = self.trigger.get_next_fire_time(None, start)
        while at is not None and at <= end:
            yield at
            at = self.trigger.get_next_fire_time(at, at + timedelta(microseconds=1))


def _cron(policy: Policy, setting: str, days: str | None, tz: str) -> CronTrigger:
    hour, minute = policy.clock(setting)
    return CronTrigger(day_of_week=days, hour=hour, minute=minute, timezone=ZoneInfo(tz))


def planned_sweeps(store: Store, policy: Policy) -> list[PlannedSweep]:
    """Every sweep of everyone on file, as it should be scheduled now."""
    working_days = ",".join(policy.working_days)
    planned = []
    for s in store.list_specialists():
        planned += [
            PlannedSweep(
                DAILY_DIGEST,
                s.id,
                s.timezone,
                _cron(policy, "digest_time", working_days, s.timezone),
            ),
            PlannedSweep(
                EMPLOYER_CONTACTS_NUDGE,
                s.id,
                s.timezone,
                _cron(
                    policy,
                    "employer_contacts_nudge_time",
                    policy.employer_contacts_nudge_day,
                    s.timezone,
                ),
            ),
        ]
    for sup in store.list_supervisors():
        planned += [
            PlannedSweep(
                WEEKLY_DIGEST,
                sup.id,
                sup.timezone,
                _cron(policy, "weekly_digest_time", policy.weekly_digest_day, sup.timezone),
            ),
            PlannedSweep(
                CASELOAD,
                sup.id,
                sup.timezone,
                _cron(policy, "caseload_check_time", None, sup.timezone),
            ),
        ]
    return planned


def timeline(
    planned: list[PlannedSweep], start: datetime, end: datetime
) -> list[tuple[datetime, PlannedSweep]]:
    """Every run of `planned` in [start, end], in time order."""
    runs = [(at, p) for p in planned for at in p.fire_times(start, end)]
    runs.sort(key=lambda run: (run[0], run[1].job_id))
    return runs
