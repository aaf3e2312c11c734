"""What the supervisor reports hold (SPEC §10): plain dataclasses, computed by
`reports.fidelity` and `reports.outcomes`, shown as JSON, CSV and HTML.

Every fidelity item names the item of the 25-item IPS Supported Employment
Fidelity Scale it informs, and carries its numerator and denominator, so that a
supervisor can check each figure by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

# The IPS benchmarks for the quarterly employment rate.
EMPLOYMENT_RATE_AVERAGE = 0.41
EMPLOYMENT_RATE_EXCELLENT = 0.50


@dataclass(frozen=True)
class Ips25Item:
    """One item of the IPS-25 fidelity scale, e.g. ("Services", 6, "Job
    development: frequent employer contact")."""

    section: str  # "Staffing", "Organization" or "Services"
    number: int
    title: str

    @property
    def label(self) -> str:
        return f"{self.section} {self.number}: {self.title}"


@dataclass(frozen=True)
class FidelityFigure:
    """One measured figure: numerator / denominator, with what each counts.

    `value` is numerator / denominator (None when the denominator is 0);
    `target` the model's expectation where it has one (6 contacts a week, 20
    per FTE, ...), with `meets` whether the value reaches it.
    """

    key: str  # stable id, e.g. "employer_contacts_per_week"
    title: str
    ips25: Ips25Item
    numerator: float
    numerator_counts: str  # "face-to-face employer contacts"
    denominator: float
    denominator_counts: str  # "specialist-weeks"
    value: float | None
    unit: str  # "per week", "share", "per FTE", ...
    target: float | None = None
    meets: bool | None = None
    # The same figure per specialist (id -> figure), or per rule, where it has one.
    breakdown: dict[str, FidelityFigure] = field(default_factory=dict)


@dataclass(frozen=True)
class FidelityReport:
    start: date  # first day counted
    end: date  # last day counted (inclusive)
    scope: str  # "agency", or "team of <supervisor id>"
    figures: list[FidelityFigure]
    # For the charts: face-to-face employer contacts by ISO week ("2027-W03"),
    # then specialist id ({week: {specialist: n}}), and on-time follow-along
    # share per rule.
    employer_contacts_by_week: dict[str, dict[str, int]] = field(default_factory=dict)
    on_time_by_rule: dict[str, FidelityFigure] = field(default_factory=dict)


@dataclass(frozen=True)
class OutcomesReport:
    """The quarterly employment rate: consumers who worked a competitive job at
    any time in the quarter / the active caseload in the quarter."""

    quarter: str  # "2027Q1"
    start: date
    end: date  # inclusive
    employed: int
    active: int
    rate: float | None
    average_benchmark: float = EMPLOYMENT_RATE_AVERAGE
    excellent_benchmark: float = EMPLOYMENT_RATE_EXCELLENT
    employed_consumers: list[str] = field(default_factory=list)
    active_consumers: list[str] = field(default_factory=list)
