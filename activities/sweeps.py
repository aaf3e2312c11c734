"""The agency sweeps' side effects (SPEC §1, §6): digests, the employer-contact
nudge and the caseload warning, read from the store and sent through the outbox.

Each sweep is for one recipient and one period. The notification's idempotency
key names the sweep's workflow id (which names the period), so a sweep run
twice for the same period (two schedulers, a retried activity) sends once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.journey import AgencySettings
from activities.outbox import Outbox
from notifiers import Notifier, messages
from rules import calendar
from rules.policy import Policy
from store import ConsumerRecord, DueContactRecord, NotificationRecord, SpecialistRecord, Store

DAILY_DIGEST = "daily_digest"
WEEKLY_DIGEST = "weekly_digest"
EMPLOYER_CONTACTS_NUDGE = "employer_contacts_nudge"
CASELOAD = "caseload"
SWEEPS = (DAILY_DIGEST, WEEKLY_DIGEST, EMPLOYER_CONTACTS_NUDGE, CASELOAD)

# Workflow ids: digest-es-<specialist>-2027-03-01, digest-sup-<supervisor>-2027-W09, ...
_ID_PREFIXES = {
    DAILY_DIGEST: "digest-es",
    WEEKLY_DIGEST: "digest-sup",
    EMPLOYER_CONTACTS_NUDGE: "nudge-es",
    CASELOAD: "caseload-sup",
}
# Who each sweep is for.
RECIPIENT_ROLES = {
    DAILY_DIGEST: "specialist",
    WEEKLY_DIGEST: "supervisor",
    EMPLOYER_CONTACTS_NUDGE: "specialist",
    CASELOAD: "supervisor",
}


@dataclass
class SweepInput:
    sweep: str
    recipient_id: str
    # The period the sweep is for, as its workflow id names it: a local date
    # ("2027-03-01"), an ISO week ("2027-W09") or an assignment
    # ("assign-<consumer>-<event id>").
    period: str
    policy: Policy
    # The moment the sweep is for (its scheduled time): what it reports is as of
    # then. None: as of when the workflow starts.
    at: datetime | None = None
    # Set for a caseload check at an assignment: only that consumer's specialist is checked.
    consumer_id: str | None = None


@dataclass
class SweepResult:
    sent: int
    # Why nothing was sent, when nothing was.
    reason: str | None = None


def sweep_id(sweep: str, recipient_id: str, period: str) -> str:
    return f"{_ID_PREFIXES[sweep]}-{recipient_id}-{period}"


def day_period(at: datetime, tz: str) -> str:
    return calendar.local_date(at, tz).isoformat()


def week_period(at: datetime, tz: str) -> str:
    year, week, _ = calendar.local_date(at, tz).isocalendar()
    return f"{year}-W{week:02d}"


def period_for(sweep: str, at: datetime, tz: str) -> str:
    """The period a scheduled sweep at `at` is for, in the recipient's zone `tz`."""
    return (
        week_period(at, tz)
        if sweep in (WEEKLY_DIGEST, EMPLOYER_CONTACTS_NUDGE)
        else (day_period(at, tz))
    )


class SweepActivities:
    def __init__(self, store: Store, notifier: Notifier, agency: AgencySettings) -> None:
        self.store = store
        self.notifier = notifier
        self.agency = agency

    @property
    def outbox(self) -> Outbox:
        return Outbox(self.store, self.notifier)

    # ---------------------------------------------------------------- digests

    @activity.defn
    def send_daily_digest(self, data: SweepInput) -> SweepResult:
        data = _as_of(data)
        specialist = self._specialist(data.recipient_id)
        tz = specialist.timezone
        today = calendar.local_date(data.at, tz)
        oldest_overdue = today - timedelta(days=data.policy.digest_overdue_days)
        due_today: list[messages.DigestLine] = []
        overdue: list[messages.DigestLine] = []
        in_outreach: list[messages.DigestLine] = []
        appointments: list[messages.DigestLine] = []
        for consumer in self.store.list_consumers(specialist.id):
            due_contacts = self.store.list_due_contacts(consumer.id)
            for dc in due_contacts:
                line = messages.DigestLine(consumer.name, consumer.id, dc.rule, dc.due)
                if dc.status == "open" and dc.due == today:
                    due_today.append(line)
                elif dc.status == "missed" and oldest_overdue <= dc.due < today:
                    overdue.append(line)
            outreach = self._outreach(consumer.id, due_contacts)
            if outreach is not None:
                in_outreach.append(
                    messages.DigestLine(consumer.name, consumer.id, outreach.rule, outreach.due)
                )
            for appointment in self.store.list_appointments(consumer.id):
                start = appointment.start.astimezone(calendar.zone(tz))
                if not appointment.cancelled and start.date() == today:
                    appointments.append(
                        messages.DigestLine(consumer.name, consumer.id, start=start)
                    )
        if not (due_today or overdue or in_outreach or appointments):
            return SweepResult(0, "nothing due, overdue, in outreach or booked today")
        appointments.sort(key=lambda line: line.start or data.at)
        subject, body = messages.daily_digest(
            day=today,
            due_today=due_today,
            overdue=overdue,
            in_outreach=in_outreach,
            appointments=appointments,
            link=self._link(f"specialists/{specialist.id}/due"),
        )
        return self._send(
            data, "specialist", specialist.id, tz, "email", specialist.email, subject, body
        )

    @activity.defn
    def send_weekly_digest(self, data: SweepInput) -> SweepResult:
        data = _as_of(data)
        supervisor = self.store.get_supervisor(data.recipient_id)
        if supervisor is None:
            raise _unknown("supervisor", data.recipient_id)
        today = calendar.local_date(data.at, supervisor.timezone)
        week_end = today - timedelta(days=today.weekday() + 1)  # the Sunday before
        week_start = week_end - timedelta(days=6)
        policy = data.policy
        weeks = []
        for specialist in self._team(supervisor.id):
            by_rule: dict[str, tuple[int, int]] = {}
            missed = 0
            consumers = self.store.list_consumers(specialist.id)
            in_outreach = 0
            for consumer in consumers:
                due_contacts = self.store.list_due_contacts(consumer.id)
                if self._outreach(consumer.id, due_contacts) is not None:
                    in_outreach += 1
                for dc in due_contacts:
                    if not week_start <= dc.due <= week_end or dc.status not in ("done", "missed"):
                        continue
                    met, due = by_rule.get(dc.rule, (0, 0))
                    by_rule[dc.rule] = (met + (dc.status == "done"), due + 1)
                    missed += dc.status == "missed"
            weeks.append(
                messages.SpecialistWeek(
                    specialist_name=specialist.name,
                    by_rule=by_rule,
                    missed=missed,
                    employer_contacts=self._employer_contacts(
                        specialist,
                        calendar.start_of_day(week_start, specialist.timezone),
                        calendar.end_of_day(week_end, specialist.timezone),
                    ),
                    employer_contacts_target=policy.employer_contacts_weekly_target,
                    caseload=len(self._active(consumers)),
                    caseload_limit=policy.caseload_limit_per_fte * specialist.fte,
                    in_outreach=in_outreach,
                )
            )
        subject, body = messages.weekly_digest(
            week_start=week_start,
            week_end=week_end,
            specialists=weeks,
            link=self._link(f"teams/{supervisor.id}/due"),
        )
        return self._send(
            data,
            "supervisor",
            supervisor.id,
            supervisor.timezone,
            "email",
            supervisor.email,
            subject,
            body,
        )

    # ---------------------------------------------------------------- nudges and warnings

    @activity.defn
    def send_employer_contacts_nudge(self, data: SweepInput) -> SweepResult:
        data = _as_of(data)
        specialist = self._specialist(data.recipient_id)
        tz = specialist.timezone
        today = calendar.local_date(data.at, tz)
        monday = calendar.start_of_day(today - timedelta(days=today.weekday()), tz)
        count = self._employer_contacts(specialist, monday, data.at)
        policy = data.policy
        if count >= policy.employer_contacts_nudge_below:
            return SweepResult(0, f"{count} face-to-face employer contacts this week")
        subject, body = messages.employer_contacts_nudge(
            count=count,
            target=policy.employer_contacts_weekly_target,
            link=self._link(f"specialists/{specialist.id}"),
        )
        sent = 0
        for channel in specialist.channels:
            address = specialist.address(channel)
            if address:
                sent += self._send(
                    data, "specialist", specialist.id, tz, channel, address, subject, body
                ).sent
        return SweepResult(sent)

    @activity.defn
    def check_caseloads(self, data: SweepInput) -> SweepResult:
        """Warn the supervisor of every specialist of the team (only the consumer's
        specialist, at an assignment) whose active caseload is above the limit.
        Nothing is refused."""
        data = _as_of(data)
        supervisor = self.store.get_supervisor(data.recipient_id)
        if supervisor is None:
            raise _unknown("supervisor", data.recipient_id)
        team = self._team(supervisor.id)
        if data.consumer_id is not None:
            consumer = self.store.get_consumer(data.consumer_id)
            team = [s for s in team if consumer is not None and s.id == consumer.specialist_id]
        per_fte = data.policy.caseload_limit_per_fte
        over = []
        for specialist in team:
            active = len(self._active(self.store.list_consumers(specialist.id)))
            limit = per_fte * specialist.fte
            if active > limit:
                over.append(messages.Caseload(specialist.name, active, specialist.fte, limit))
        if not over:
            return SweepResult(0, "every caseload is within the limit")
        subject, body = messages.caseload_warning(
            over_limit=over, per_fte=per_fte, link=self._link(f"teams/{supervisor.id}")
        )
        return self._send(
            data,
            "supervisor",
            supervisor.id,
            supervisor.timezone,
            "email",
            supervisor.email,
            subject,
            body,
        )

    # ---------------------------------------------------------------- plumbing

    def _send(
        self,
        data: _Sweep,
        role: str,
        person_id: str,
        tz: str,
        channel: str,
        address: str,
        subject: str,
        body: str,
    ) -> SweepResult:
        key = f"{sweep_id(data.sweep, data.recipient_id, data.period)}/{role}/{channel}"
        status = self.outbox.deliver(
            NotificationRecord(
                idempotency_key=key,
                channel=channel,
                recipient_role=role,
                recipient_id=person_id,
                recipient_timezone=tz,
                consumer_id=None,
                rule=None,
                kind="caseload_warning" if data.sweep == CASELOAD else data.sweep,
                send_at=data.at,
                status="pending",
                body=body,
                subject=subject if channel == "email" else None,
            ),
            address,
        )
        return SweepResult(1 if status in ("sent", "sending", "delivered") else 0)

    def _outreach(
        self, consumer_id: str, due_contacts: list[DueContactRecord]
    ) -> DueContactRecord | None:
        """The latest outreach task while the consumer is in outreach, else None.

        An episode's tasks follow each other (the next is created the day after
        the last one's due date); it ends with a `contact` or a reached
        `outreach_attempt`, which cancels the open task or, when it came between
        two tasks, follows the last one.
        """
        tasks = [dc for dc in due_contacts if dc.rule == "outreach_attempt"]
        if not tasks:
            return None
        latest = max(tasks, key=lambda dc: (dc.window_start, dc.seq or 0))
        if latest.status == "cancelled":
            return None
        consumer = self.store.get_consumer(consumer_id)
        tz = consumer.timezone if consumer else "UTC"
        for event in self.store.list_events(consumer_id):
            ends = event.type == "contact" or (
                event.type == "outreach_attempt" and event.payload.get("reached")
            )
            if ends and calendar.local_date(event.at, tz) >= latest.window_start:
                return None
        return latest

    def _specialist(self, specialist_id: str) -> SpecialistRecord:
        specialist = self.store.get_specialist(specialist_id)
        if specialist is None:
            raise _unknown("specialist", specialist_id)
        return specialist

    def _team(self, supervisor_id: str) -> list[SpecialistRecord]:
        return [s for s in self.store.list_specialists() if s.supervisor_id == supervisor_id]

    def _active(self, consumers: list[ConsumerRecord]) -> list[ConsumerRecord]:
        """The consumers whose journey is open: referred, and not declined since."""
        active = []
        for consumer in consumers:
            latest = [
                e.type
                for e in self.store.list_events(consumer.id)
                if e.type in ("referred", "services_declined")
            ]
            if latest and latest[-1] == "referred":
                active.append(consumer)
        return active

    def _employer_contacts(
        self, specialist: SpecialistRecord, start: datetime, end: datetime
    ) -> int:
        """The specialist's face-to-face employer contacts in [start, end)."""
        return sum(
            1
            for c in self.store.list_employer_contacts(specialist.id)
            if c.face_to_face and start <= c.at < end
        )

    def _link(self, path: str) -> str:
        return f"{self.agency.app_url.rstrip('/')}/{path}"

    def all(self) -> list[Any]:
        """Every activity, for the worker."""
        return [
            self.send_daily_digest,
            self.send_weekly_digest,
            self.send_employer_contacts_nudge,
            self.check_caseloads,
        ]


@dataclass
class _Sweep(SweepInput):
    at: datetime


def _as_of(data: SweepInput) -> _Sweep:
    """The input with its moment: the activity's scheduled time when none was given."""
    at = data.at or activity.info().current_attempt_scheduled_time
    return _Sweep(**{**dataclasses.asdict(data), "policy": data.policy, "at": at})


def _unknown(role: str, person_id: str) -> ApplicationError:
    return ApplicationError(
        f"no {role} {person_id!r} on file", type="UnknownPerson", non_retryable=True
    )


__all__ = [
    "CASELOAD",
    "DAILY_DIGEST",
    "EMPLOYER_CONTACTS_NUDGE",
    "SWEEPS",
    "WEEKLY_DIGEST",
    "SweepActivities",
    "SweepInput",
    "SweepResult",
    "period_for",
    "sweep_id",
]
