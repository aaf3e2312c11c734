"""The fidelity report (SPEC §10): the IPS-25 items the data can measure, over the
days `start` to `end` (both counted), for the agency, a supervisor's team or one
specialist (see `reports.scope`: consumers count with the specialist they are
assigned to now). Every figure is numerator / denominator; a denominator of 0
gives no value (None), never a zero.

Dates are local: an employer contact's in its specialist's time zone, every
other record's in its consumer's. "In the period" means start <= date <= end.
"Settled" due contacts are those `done` or `missed`: open ones (not yet due),
cancelled ones (job ended, services declined) and not_applicable ones (learned
too late to be met) are left out of every on-time share.

What each figure counts, so that a supervisor can check it by hand:

- `caseload_per_fte` (Staffing 1: Caseload size; target at most 20): consumers
  on the caseload on the period's last day (referred on or before it and not
  declined services since) / the specialists' FTE added up. Per specialist:
  their own consumers / their FTE.
- `employer_contacts_per_week` (Services 6: Job development, frequent employer
  contact; target 6): face-to-face employer contacts dated in the period /
  specialist-weeks (the number of specialists x days in the period / 7; FTE
  plays no part). Per specialist: their contacts / (days / 7).
  `employer_contacts_by_week` holds the same contacts per ISO week (2027-W03)
  and specialist, with every week that touches the period and every
  specialist, zeros included.
- `first_employer_contact_30d` (Services 4: Rapid job search for competitive
  job): new entrants' `first_employer_contact` due contacts (one per first
  meeting, its window opening on the first-meeting day) whose first meeting is
  in the period: done / settled. Done means a face-to-face employer contact
  naming the consumer within 30 days of the first meeting.
- `follow_along_on_time` (Services 11: Individualized follow-along supports):
  `pre_start_contact`, `post_start_contact`, `weekly_follow_along` and
  `monthly_follow_along` due contacts whose due date is in the period: done /
  settled, all four together; per rule in the breakdown and in
  `on_time_by_rule` (`monthly_follow_along` there names Services 12:
  Time-unlimited follow-along supports).
- `job_loss_contact_3d` (Services 11): `job_loss_contact` due contacts due in
  the period: done / settled (done: any contact within 3 days of learning of the
  job loss).
- `benefits_planning_on_time` (Services 1: Work incentives planning):
  `benefits_planning` due contacts due in the period: done / settled.
- `outreach_attempts_per_consumer` (Services 14: Assertive engagement and
  outreach by integrated treatment team): outreach attempts logged in the
  period / consumers in outreach in the period (an `outreach_attempt` due
  contact whose window [window_start, due] shares a day with the period, or an
  attempt logged in the period).
- `outreach_team_members` (Services 14; target 2, "more than one team
  member"): for each of those consumers, the number of different people (`by`)
  who made their attempts in the period, added up / the same consumers: the
  average number of people per consumer.
- `job_type_diversity` (Services 8: Diversity of job types; target 0.85):
  different job titles (ignoring case and spaces at the ends) among the jobs
  whose start date is in the period / those jobs.
- `employer_diversity` (Services 9: Diversity of employers; target 0.85):
  different employers (likewise) among the same jobs / those jobs.
- `competitive_jobs` (Services 10: Competitive jobs; target 0.95): the same
  jobs marked competitive / those jobs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from reports.model import FidelityFigure, FidelityReport, Ips25Item
from reports.scope import ReportError, ReportScope, episodes, report_scope
from rules import calendar
from store import DueContactRecord, Store

STAFFING_1 = Ips25Item("Staffing", 1, "Caseload size")
SERVICES_1 = Ips25Item("Services", 1, "Work incentives planning")
SERVICES_4 = Ips25Item("Services", 4, "Rapid job search for competitive job")
SERVICES_6 = Ips25Item("Services", 6, "Job development: frequent employer contact")
SERVICES_8 = Ips25Item("Services", 8, "Diversity of job types")
SERVICES_9 = Ips25Item("Services", 9, "Diversity of employers")
SERVICES_10 = Ips25Item("Services", 10, "Competitive jobs")
SERVICES_11 = Ips25Item("Services", 11, "Individualized follow-along supports")
SERVICES_12 = Ips25Item("Services", 12, "Time-unlimited follow-along supports")
SERVICES_14 = Ips25Item(
    "Services", 14, "Assertive engagement and outreach by integrated treatment team"
)

CASELOAD_LIMIT = 20.0
EMPLOYER_CONTACTS_TARGET = 6.0
OUTREACH_TEAM_MEMBERS_TARGET = 2.0
DIVERSITY_TARGET = 0.85
COMPETITIVE_TARGET = 0.95
# The longest period a report covers: ten years of weeks is plenty for a chart.
MAX_DAYS = 3660

FOLLOW_ALONG_RULES = (
    "pre_start_contact",
    "post_start_contact",
    "weekly_follow_along",
    "monthly_follow_along",
)
_SETTLED = ("done", "missed")


def fidelity_report(
    store: Store,
    start: date,
    end: date,
    *,
    supervisor_id: str | None = None,
    specialist_id: str | None = None,
) -> FidelityReport:
    """The fidelity figures of [start, end] (see the module's docstring for what
    each counts). ReportError when the period is empty or longer than MAX_DAYS."""
    if end < start:
        raise ReportError("to", f"{end.isoformat()} is before from {start.isoformat()}")
    if (end - start).days + 1 > MAX_DAYS:
        raise ReportError("to", f"a report covers at most {MAX_DAYS} days")
    scope = report_scope(store, supervisor_id=supervisor_id, specialist_id=specialist_id)
    due = [d for d in store.list_due_contacts() if d.consumer_id in scope.consumer_ids]
    follow_along = _follow_along(due, start, end)
    contacts, by_week = _employer_contacts(store, scope, start, end)
    return FidelityReport(
        start=start,
        end=end,
        scope=scope.label,
        figures=[
            _caseload(store, scope, end),
            contacts,
            _first_employer_contact(due, start, end),
            follow_along,
            _settled_share(
                "job_loss_contact_3d",
                "Job-loss contacts within 3 days",
                SERVICES_11,
                [d for d in due if d.rule == "job_loss_contact" and start <= d.due <= end],
                "job-loss contacts due in the period",
            ),
            _settled_share(
                "benefits_planning_on_time",
                "Benefits planning offered on time",
                SERVICES_1,
                [d for d in due if d.rule == "benefits_planning" and start <= d.due <= end],
                "benefits planning due in the period",
            ),
            *_outreach(store, scope, due, start, end),
            *_jobs(store, scope, start, end),
        ],
        employer_contacts_by_week=by_week,
        on_time_by_rule=dict(follow_along.breakdown),
    )


def figure(
    key: str,
    title: str,
    ips25: Ips25Item,
    numerator: float,
    numerator_counts: str,
    denominator: float,
    denominator_counts: str,
    unit: str,
    *,
    target: float | None = None,
    at_most: bool = False,
    breakdown: dict[str, FidelityFigure] | None = None,
) -> FidelityFigure:
    """A figure with its value and whether it reaches `target` (at least it, or
    with `at_most` no more than it)."""
    value = numerator / denominator if denominator else None
    meets = None
    if value is not None and target is not None:
        meets = value <= target if at_most else value >= target
    return FidelityFigure(
        key=key,
        title=title,
        ips25=ips25,
        numerator=numerator,
        numerator_counts=numerator_counts,
        denominator=denominator,
        denominator_counts=denominator_counts,
        value=value,
        unit=unit,
        target=target,
        meets=meets,
        breakdown=breakdown or {},
    )


def _caseload(store: Store, scope: ReportScope, end: date) -> FidelityFigure:
    history = episodes(store, scope.consumers)
    active: Counter[str] = Counter(
        c.specialist_id
        for c in scope.consumers
        if any(e.active_on(end) for e in history.get(c.id, []))
    )

    def caseload(
        n: int, fte: float, breakdown: dict[str, FidelityFigure] | None = None
    ) -> FidelityFigure:
        return figure(
            "caseload_per_fte",
            "Caseload per full-time specialist",
            STAFFING_1,
            n,
            f"consumers on the caseload on {end.isoformat()}",
            fte,
            "FTE of the specialists",
            "per FTE",
            target=CASELOAD_LIMIT,
            at_most=True,
            breakdown=breakdown,
        )

    per_specialist = {s.id: caseload(active[s.id], s.fte) for s in scope.specialists}
    return caseload(sum(active.values()), sum(s.fte for s in scope.specialists), per_specialist)


def _employer_contacts(
    store: Store, scope: ReportScope, start: date, end: date
) -> tuple[FidelityFigure, dict[str, dict[str, int]]]:
    zones = {s.id: s.timezone for s in scope.specialists}
    weeks = ((end - start).days + 1) / 7
    per_specialist: Counter[str] = Counter()
    by_week: dict[str, dict[str, int]] = {
        week: {s.id: 0 for s in scope.specialists} for week in iso_weeks(start, end)
    }
    for contact in store.list_employer_contacts():
        if contact.specialist_id not in zones or not contact.face_to_face:
            continue
        day = calendar.local_date(contact.at, zones[contact.specialist_id])
        if start <= day <= end:
            per_specialist[contact.specialist_id] += 1
            by_week[iso_week(day)][contact.specialist_id] += 1

    def contacts(
        n: int, specialists: int, breakdown: dict[str, FidelityFigure] | None = None
    ) -> FidelityFigure:
        return figure(
            "employer_contacts_per_week",
            "Face-to-face employer contacts per specialist per week",
            SERVICES_6,
            n,
            "face-to-face employer contacts in the period",
            specialists * weeks,
            f"specialist-weeks ({specialists} specialists x {weeks:g} weeks)",
            "per week",
            target=EMPLOYER_CONTACTS_TARGET,
            breakdown=breakdown,
        )

    breakdown = {s.id: contacts(per_specialist[s.id], 1) for s in scope.specialists}
    total = contacts(sum(per_specialist.values()), len(scope.specialists), breakdown)
    return total, by_week


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def iso_weeks(start: date, end: date) -> list[str]:
    """The ISO weeks that share a day with [start, end], in order."""
    days = [start + timedelta(days=n) for n in range(0, (end - start).days + 1, 7)] + [end]
    return list(dict.fromkeys(iso_week(day) for day in days))


def _first_employer_contact(due: list[DueContactRecord], start: date, end: date) -> FidelityFigure:
    entrants = [
        d for d in due if d.rule == "first_employer_contact" and start <= d.window_start <= end
    ]
    return _settled_share(
        "first_employer_contact_30d",
        "New entrants with a face-to-face employer contact within 30 days",
        SERVICES_4,
        entrants,
        "new entrants (first meeting in the period)",
    )


def _settled_share(
    key: str,
    title: str,
    ips25: Ips25Item,
    contacts: Iterable[DueContactRecord],
    what: str,
    breakdown: dict[str, FidelityFigure] | None = None,
) -> FidelityFigure:
    statuses = Counter(d.status for d in contacts)
    return figure(
        key,
        title,
        ips25,
        statuses["done"],
        f"{what}, done on time",
        sum(statuses[s] for s in _SETTLED),
        f"{what}, done or missed",
        "share",
        breakdown=breakdown,
    )


def _follow_along(due: list[DueContactRecord], start: date, end: date) -> FidelityFigure:
    in_period = [d for d in due if d.rule in FOLLOW_ALONG_RULES and start <= d.due <= end]
    by_rule = {
        rule: _settled_share(
            rule,
            f"{rule.replace('_', ' ').capitalize()} on time",
            SERVICES_12 if rule == "monthly_follow_along" else SERVICES_11,
            [d for d in in_period if d.rule == rule],
            f"{rule} due in the period",
        )
        for rule in FOLLOW_ALONG_RULES
    }
    return _settled_share(
        "follow_along_on_time",
        "Follow-along contacts met on time",
        SERVICES_11,
        in_period,
        "follow-along contacts due in the period",
        by_rule,
    )


def _outreach(
    store: Store, scope: ReportScope, due: list[DueContactRecord], start: date, end: date
) -> list[FidelityFigure]:
    zones = {c.id: c.timezone for c in scope.consumers}
    in_outreach = {
        d.consumer_id
        for d in due
        if d.rule == "outreach_attempt" and d.window_start <= end and d.due >= start
    }
    attempts: Counter[str] = Counter()
    people: dict[str, set[str]] = defaultdict(set)
    for attempt in store.list_outreach():
        if attempt.consumer_id not in zones:
            continue
        if start <= calendar.local_date(attempt.at, zones[attempt.consumer_id]) <= end:
            attempts[attempt.consumer_id] += 1
            people[attempt.consumer_id].add(attempt.by)
            in_outreach.add(attempt.consumer_id)
    consumers = len(in_outreach)
    return [
        figure(
            "outreach_attempts_per_consumer",
            "Outreach attempts per disengaged consumer",
            SERVICES_14,
            sum(attempts.values()),
            "outreach attempts logged in the period",
            consumers,
            "consumers in outreach in the period",
            "per consumer",
        ),
        figure(
            "outreach_team_members",
            "Different team members making outreach attempts, per consumer",
            SERVICES_14,
            sum(len(by) for by in people.values()),
            "different people making each consumer's attempts, added up",
            consumers,
            "consumers in outreach in the period",
            "people per consumer",
            target=OUTREACH_TEAM_MEMBERS_TARGET,
        ),
    ]


def _jobs(store: Store, scope: ReportScope, start: date, end: date) -> list[FidelityFigure]:
    jobs = [
        j
        for j in store.list_jobs()
        if j.consumer_id in scope.consumer_ids and start <= j.start_date <= end
    ]
    started = "jobs started in the period"
    return [
        figure(
            "job_type_diversity",
            "Diversity of job types",
            SERVICES_8,
            len({j.title.strip().casefold() for j in jobs}),
            "different job titles",
            len(jobs),
            started,
            "share",
            target=DIVERSITY_TARGET,
        ),
        figure(
            "employer_diversity",
            "Diversity of employers",
            SERVICES_9,
            len({j.employer.strip().casefold() for j in jobs}),
            "different employers",
            len(jobs),
            started,
            "share",
            target=DIVERSITY_TARGET,
        ),
        figure(
            "competitive_jobs",
            "Competitive jobs",
            SERVICES_10,
            sum(1 for j in jobs if j.competitive),
            "competitive jobs",
            len(jobs),
            started,
            "share",
            target=COMPETITIVE_TARGET,
        ),
    ]
