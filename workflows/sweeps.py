"""Agency sweeps: one short workflow per recipient and period (SPEC §2).

The workflow id names the sweep, the recipient and the period
(`digest-es-<specialist>-2027-03-01`, `digest-sup-<supervisor>-2027-W09`,
`nudge-es-<specialist>-2027-W09`, `caseload-sup-<supervisor>-2027-03-01`,
`caseload-sup-<supervisor>-assign-<consumer>-<event id>`) and is started with
REJECT_DUPLICATE, so a period's sweep runs once however many schedulers fire
for it. Each workflow runs one activity, which sends through the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.sweeps import (
        CASELOAD,
        DAILY_DIGEST,
        EMPLOYER_CONTACTS_NUDGE,
        WEEKLY_DIGEST,
        SweepActivities,
        SweepInput,
        SweepResult,
    )

_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["UnknownPerson"],
)


async def _sweep(
    method: Callable[[SweepActivities, SweepInput], SweepResult], data: SweepInput
) -> SweepResult:
    return await workflow.execute_activity_method(
        method, data, start_to_close_timeout=timedelta(seconds=60), retry_policy=_RETRY
    )


@workflow.defn
class DailyDigest:
    """A specialist's morning digest: due today, overdue, in outreach, today's appointments."""

    @workflow.run
    async def run(self, data: SweepInput) -> SweepResult:
        return await _sweep(SweepActivities.send_daily_digest, data)


@workflow.defn
class WeeklyDigest:
    """A supervisor's Monday digest of the team's last week."""

    @workflow.run
    async def run(self, data: SweepInput) -> SweepResult:
        return await _sweep(SweepActivities.send_weekly_digest, data)


@workflow.defn
class EmployerContactsNudge:
    """Thursday's nudge to a specialist with few face-to-face employer contacts."""

    @workflow.run
    async def run(self, data: SweepInput) -> SweepResult:
        return await _sweep(SweepActivities.send_employer_contacts_nudge, data)


@workflow.defn
class CaseloadCheck:
    """A warning to a supervisor when a caseload is above the limit; it refuses nothing."""

    @workflow.run
    async def run(self, data: SweepInput) -> SweepResult:
        return await _sweep(SweepActivities.check_caseloads, data)


SWEEP_WORKFLOWS: dict[str, type] = {
    DAILY_DIGEST: DailyDigest,
    WEEKLY_DIGEST: WeeklyDigest,
    EMPLOYER_CONTACTS_NUDGE: EmployerContactsNudge,
    CASELOAD: CaseloadCheck,
}
