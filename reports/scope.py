"""Whose figures a report counts, and who was on the caseload when.

A report covers the agency, one supervisor's team, or one specialist. Consumers
belong to the specialist they are assigned to now (a reassignment moves their
history with them); specialists to the supervisor they report to now.

A consumer is on the caseload from each `referred` event to the next
`services_declined` (the day of the decline is no longer on it), as the events'
audit trail records them, dated in the consumer's own time zone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from rules import calendar
from store import ConsumerRecord, SpecialistRecord, Store


class ReportError(ValueError):
    """Bad input to a report: `field` names it, `reason` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Episode:
    """One referral: from its `referred` day to the day services were declined."""

    referred: date
    declined: date | None

    def active_on(self, day: date) -> bool:
        return self.referred <= day and (self.declined is None or self.declined > day)

    def overlaps(self, start: date, end: date) -> bool:
        """On the caseload on at least one day of [start, end]."""
        return self.referred <= end and (self.declined is None or self.declined > start)


@dataclass(frozen=True)
class ReportScope:
    """The specialists and consumers a report counts."""

    label: str  # "agency", "team of sup-1", "specialist es-1"
    specialists: list[SpecialistRecord]
    consumers: list[ConsumerRecord]

    @property
    def specialist_ids(self) -> set[str]:
        return {s.id for s in self.specialists}

    @property
    def consumer_ids(self) -> set[str]:
        return {c.id for c in self.consumers}


def report_scope(
    store: Store, *, supervisor_id: str | None = None, specialist_id: str | None = None
) -> ReportScope:
    specialists = store.list_specialists()
    if specialist_id is not None:
        specialists = [s for s in specialists if s.id == specialist_id]
        label = f"specialist {specialist_id}"
    elif supervisor_id is not None:
        specialists = [s for s in specialists if s.supervisor_id == supervisor_id]
        label = f"team of {supervisor_id}"
    else:
        label = "agency"
    ids = {s.id for s in specialists}
    consumers = [c for c in store.list_consumers() if c.specialist_id in ids]
    return ReportScope(label=label, specialists=specialists, consumers=consumers)


def episodes(store: Store, consumers: list[ConsumerRecord]) -> dict[str, list[Episode]]:
    """Each consumer's referrals, in order, from the audit trail."""
    zones = {c.id: c.timezone for c in consumers}
    starts: dict[str, list[date]] = defaultdict(list)
    found: dict[str, list[Episode]] = defaultdict(list)
    for ev in store.list_events():
        if ev.consumer_id not in zones or ev.type not in ("referred", "services_declined"):
            continue
        day = calendar.local_date(ev.at, zones[ev.consumer_id])
        if ev.type == "referred":
            starts[ev.consumer_id].append(day)
        elif starts[ev.consumer_id]:
            found[ev.consumer_id].append(Episode(starts[ev.consumer_id].pop(), day))
    for consumer_id, open_ones in starts.items():
        found[consumer_id].extend(Episode(day, None) for day in open_ones)
    return found
