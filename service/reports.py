"""Reports as staff may see them (SPEC §9, §10): a specialist their own figures,
a supervisor their team's, an admin (or the operator) the agency's or any team's.

A team outside the caller's view is reported as not found, as everywhere else
(`service.access`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from reports.fidelity import fidelity_report
from reports.html import render_html
from reports.model import FidelityReport, OutcomesReport
from reports.outcomes import outcomes_by_quarter, outcomes_report, parse_quarter, quarter_of
from reports.scope import ReportError
from service.access import Actor, visible_specialist, visible_supervisor
from service.errors import Invalid, NotFound
from store import Store


@dataclass(frozen=True)
class Whose:
    """The figures a report counts: one supervisor's team, one specialist's, or
    (both None) the agency's."""

    supervisor_id: str | None = None
    specialist_id: str | None = None


def whose(store: Store, actor: Actor, team: str | None) -> Whose:
    """Whose figures `actor` gets when asking for `team` (a supervisor's id, or
    None for as much as they may see)."""
    if actor.role == "specialist":
        if team is not None:
            raise NotFound("supervisor", team)
        specialist = visible_specialist(store, actor, actor.person_id or "")
        return Whose(specialist_id=specialist.id)
    if actor.role == "supervisor":
        return Whose(
            supervisor_id=visible_supervisor(store, actor, team or actor.person_id or "").id
        )
    if team is None:
        return Whose()
    return Whose(supervisor_id=visible_supervisor(store, actor, team).id)


def fidelity(
    store: Store, actor: Actor, start: date, end: date, team: str | None = None
) -> FidelityReport:
    return _fidelity(store, whose(store, actor, team), start, end)


def _fidelity(store: Store, scope: Whose, start: date, end: date) -> FidelityReport:
    try:
        return fidelity_report(
            store,
            start,
            end,
            supervisor_id=scope.supervisor_id,
            specialist_id=scope.specialist_id,
        )
    except ReportError as err:
        raise Invalid(err.field, err.reason) from None


def outcomes(store: Store, actor: Actor, quarter: str, team: str | None = None) -> OutcomesReport:
    try:
        # The quarter first: bad input is named before any look-up.
        parse_quarter(quarter)
    except ReportError as err:
        raise Invalid(err.field, err.reason) from None
    scope = whose(store, actor, team)
    return outcomes_report(
        store, quarter, supervisor_id=scope.supervisor_id, specialist_id=scope.specialist_id
    )


def html(
    store: Store,
    actor: Actor,
    start: date,
    end: date,
    team: str | None = None,
    *,
    now: datetime,
    agency: str | None = None,
) -> str:
    """The self-contained HTML report: the fidelity figures of [start, end] and
    the employment rate of every quarter the period touches."""
    scope = whose(store, actor, team)
    report = _fidelity(store, scope, start, end)
    quarters = outcomes_by_quarter(
        store,
        quarter_of(start),
        quarter_of(end),
        supervisor_id=scope.supervisor_id,
        specialist_id=scope.specialist_id,
    )
    return render_html(report, quarters, agency=agency, generated_at=now)
