"""The quarterly employment rate (SPEC §10), against the IPS benchmarks (41%
average, 50% excellent), for the agency, a team or one specialist (see
`reports.scope`).

- Active caseload in the quarter: consumers on the caseload on at least one day
  of it: referred on or before its last day, and not closed (services
  declined) before its first day, by the `referred` and `services_declined`
  events of the audit trail, dated in the consumer's time zone.
- Employed: those of them who worked a competitive job at any time in the
  quarter: a job marked competitive with start date on or before the
  quarter's last day and no end date, or one on or after its first day.

The rate is employed / active; with no active caseload there is none (None).
"""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import date

from reports.model import OutcomesReport
from reports.scope import ReportError, episodes, report_scope
from store import Store

QUARTER = re.compile(r"(\d{4})Q([1-4])", re.ASCII)
# The most quarters a chart shows: 25 years.
MAX_QUARTERS = 100


def parse_quarter(text: str, field: str = "quarter") -> tuple[date, date]:
    """The first and last day of a quarter written like 2027Q1; ReportError naming
    `field` for anything else."""
    match = QUARTER.fullmatch(text)
    if match is None or int(match[1]) < 1:
        raise ReportError(field, f"{text!r} is not a quarter like 2027Q1 (year, Q, 1 to 4)")
    year, q = int(match[1]), int(match[2])
    last_month = 3 * q
    return date(year, last_month - 2, 1), date(year, last_month, monthrange(year, last_month)[1])


def quarter_of(day: date) -> str:
    return f"{day.year:04d}Q{(day.month - 1) // 3 + 1}"


def outcomes_report(
    store: Store,
    quarter: str,
    *,
    supervisor_id: str | None = None,
    specialist_id: str | None = None,
) -> OutcomesReport:
    start, end = parse_quarter(quarter)
    scope = report_scope(store, supervisor_id=supervisor_id, specialist_id=specialist_id)
    history = episodes(store, scope.consumers)
    active = sorted(
        c.id for c in scope.consumers if any(e.overlaps(start, end) for e in history.get(c.id, []))
    )
    working = {
        j.consumer_id
        for j in store.list_jobs()
        if j.competitive and j.start_date <= end and (j.end_date is None or j.end_date >= start)
    }
    employed = [c for c in active if c in working]
    return OutcomesReport(
        quarter=quarter,
        start=start,
        end=end,
        employed=len(employed),
        active=len(active),
        rate=len(employed) / len(active) if active else None,
        employed_consumers=employed,
        active_consumers=active,
    )


def outcomes_by_quarter(
    store: Store,
    first: str,
    last: str,
    *,
    supervisor_id: str | None = None,
    specialist_id: str | None = None,
) -> list[OutcomesReport]:
    """One report per quarter from `first` to `last`, both included, for the chart."""
    start, _ = parse_quarter(first, "first")
    end, _ = parse_quarter(last, "last")
    if end < start:
        raise ReportError("last", f"{last} is before first {first}")
    index = start.year * 4 + (start.month - 1) // 3
    count = end.year * 4 + (end.month - 1) // 3 - index + 1
    if count > MAX_QUARTERS:
        raise ReportError("last", f"a chart shows at most {MAX_QUARTERS} quarters")
    quarters = [f"{n // 4:04d}Q{n % 4 + 1}" for n in range(index, index + count)]
    return [
        outcomes_report(store, quarter, supervisor_id=supervisor_id, specialist_id=specialist_id)
        for quarter in quarters
    ]
