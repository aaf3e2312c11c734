"""The fidelity figures of the agency in conftest.py, counted by hand over
PERIOD (2041-03-04 to 2041-03-17: 14 days, 2 weeks)."""

from __future__ import annotations

from datetime import date

import pytest

from reports.fidelity import fidelity_report
from reports.model import FidelityFigure, FidelityReport
from reports.scope import ReportError
from store import Store
from tests.reports.conftest import END, START, people


def by_key(report: FidelityReport) -> dict[str, FidelityFigure]:
    return {f.key: f for f in report.figures}


def counts(f: FidelityFigure) -> tuple[float, float, float | None]:
    return (f.numerator, f.denominator, f.value)


def test_team_figures_counted_by_hand(agency: Store) -> None:
    report = fidelity_report(agency, START, END, supervisor_id="sup-1")
    f = by_key(report)
    assert report.scope == "team of sup-1"

    # On 03-17: es-1 has c-1 only (c-2 declined 03-10, c-3 referred 03-18, c-4
    # closed in 2040, c-5 referred in April): 1 / 1.0. es-2: all eleven / 0.5 = 22,
    # over the limit of 20. Team: 12 / 1.5 = 8.
    caseload = f["caseload_per_fte"]
    assert counts(caseload) == (12, 1.5, 8.0)
    assert caseload.ips25.label == "Staffing 1: Caseload size"
    assert (caseload.target, caseload.meets) == (20, True)
    assert counts(caseload.breakdown["es-1"]) == (1, 1.0, 1.0)
    assert counts(caseload.breakdown["es-2"]) == (11, 0.5, 22.0)
    assert caseload.breakdown["es-2"].meets is False

    # es-1: 03-04, Sunday 03-10 23:30 and Monday 03-11 00:30 = 3 in 2 weeks = 1.5;
    # es-2: 12 / 2 = 6, the target. Team: 15 / (2 specialists x 2 weeks) = 3.75.
    contacts = f["employer_contacts_per_week"]
    assert counts(contacts) == (15, 4, 3.75)
    assert contacts.ips25.label == "Services 6: Job development: frequent employer contact"
    assert counts(contacts.breakdown["es-1"]) == (3, 2, 1.5)
    assert counts(contacts.breakdown["es-2"]) == (12, 2, 6.0)
    assert (contacts.breakdown["es-1"].meets, contacts.breakdown["es-2"].meets) == (False, True)
    # The Sunday-night contact stays in its local week, W10, though it is Monday in UTC.
    assert report.employer_contacts_by_week == {
        "2041-W10": {"es-1": 2, "es-2": 6},
        "2041-W11": {"es-1": 1, "es-2": 6},
    }

    # Entrants in the period: c-1 (done), c-20 (missed), c-21 (still open, left
    # out); c-22 entered in February. 1 / 2.
    assert counts(f["first_employer_contact_30d"]) == (1, 2, 0.5)
    assert f["first_employer_contact_30d"].ips25.number == 4

    # Due in the period: weekly 03-05 done, 03-12 missed (1/2); monthly 03-15 and
    # 03-17 done (2/2; 03-18 is after the period); post-start 03-09 done (1/1);
    # pre-start not applicable (0/0). All: 4 / 5.
    follow = f["follow_along_on_time"]
    assert counts(follow) == (4, 5, 0.8)
    assert counts(report.on_time_by_rule["weekly_follow_along"]) == (1, 2, 0.5)
    assert counts(report.on_time_by_rule["monthly_follow_along"]) == (2, 2, 1.0)
    assert counts(report.on_time_by_rule["post_start_contact"]) == (1, 1, 1.0)
    assert counts(report.on_time_by_rule["pre_start_contact"]) == (0, 0, None)
    assert report.on_time_by_rule["monthly_follow_along"].ips25.number == 12
    assert follow.breakdown == report.on_time_by_rule

    # c-20's done; c-21's cancelled is left out; c-40 is sup-2's. 1 / 1.
    assert counts(f["job_loss_contact_3d"]) == (1, 1, 1.0)
    # c-1's missed: 0 / 1.
    assert counts(f["benefits_planning_on_time"]) == (0, 1, 0.0)
    assert f["benefits_planning_on_time"].ips25.label == "Services 1: Work incentives planning"

    # In outreach: c-2 (its task's window shares 03-04..03-08) and c-23 (an attempt
    # on 03-08). Attempts in the period: c-2 three (03-02 is before), c-23 one:
    # 4 / 2 = 2. People: c-2 es-1 and cm-1 (2), c-23 es-2 (1): 3 / 2 = 1.5.
    assert counts(f["outreach_attempts_per_consumer"]) == (4, 2, 2.0)
    members = f["outreach_team_members"]
    assert counts(members) == (3, 2, 1.5)
    assert (members.target, members.meets) == (2, False)
    assert members.ips25.number == 14

    # Started in the period: c-1 Stock associate at Acme, c-20 "stock Associate "
    # at ACME, c-21 Cook at Diner (not competitive). Titles: 2 / 3; employers 2 / 3;
    # competitive 2 / 3.
    for key, number in (("job_type_diversity", 8), ("employer_diversity", 9)):
        assert counts(f[key])[:2] == (2, 3)
        assert f[key].ips25.number == number
    assert counts(f["competitive_jobs"])[:2] == (2, 3)
    assert f["competitive_jobs"].value == pytest.approx(2 / 3)
    assert f["competitive_jobs"].meets is False


def test_agency_and_specialist_scopes(agency: Store) -> None:
    f = by_key(fidelity_report(agency, START, END))
    # Plus es-3 (FTE 1.0, c-40 on the caseload): 13 / 2.5 = 5.2.
    assert counts(f["caseload_per_fte"]) == (13, 2.5, 5.2)
    # Plus es-3's one contact: 16 / (3 x 2) weeks.
    assert counts(f["employer_contacts_per_week"])[:2] == (16, 6)
    # Plus c-40's missed job-loss contact: 1 / 2.
    assert counts(f["job_loss_contact_3d"]) == (1, 2, 0.5)

    mine = fidelity_report(agency, START, END, specialist_id="es-2")
    f = by_key(mine)
    assert mine.scope == "specialist es-2"
    assert counts(f["caseload_per_fte"]) == (11, 0.5, 22.0)
    assert f["caseload_per_fte"].meets is False
    assert counts(f["employer_contacts_per_week"]) == (12, 2, 6.0)
    assert list(f["employer_contacts_per_week"].breakdown) == ["es-2"]


def test_a_period_with_nothing_in_it_has_no_values(agency: Store) -> None:
    f = by_key(fidelity_report(agency, date(2045, 1, 2), date(2045, 1, 8)))
    # Specialists and caseload there are, so those are 0-or-more, never None.
    assert counts(f["employer_contacts_per_week"]) == (0, 3, 0.0)
    for key in (
        "first_employer_contact_30d",
        "follow_along_on_time",
        "job_loss_contact_3d",
        "benefits_planning_on_time",
        "outreach_attempts_per_consumer",
        "outreach_team_members",
        "job_type_diversity",
        "employer_diversity",
        "competitive_jobs",
    ):
        assert counts(f[key]) == (0, 0, None), key
        assert f[key].meets is None


def test_a_team_with_no_one_has_no_values(store: Store) -> None:
    people(store)
    f = by_key(fidelity_report(store, START, END, supervisor_id="sup-9"))
    assert counts(f["caseload_per_fte"]) == (0, 0, None)
    assert counts(f["employer_contacts_per_week"]) == (0, 0, None)


def test_one_day_and_reversed_periods(agency: Store) -> None:
    # One day, Sunday 03-10: es-1's 23:30 contact, in 1/7 of a week.
    one = fidelity_report(agency, date(2041, 3, 10), date(2041, 3, 10), specialist_id="es-1")
    assert by_key(one)["employer_contacts_per_week"].numerator == 1
    assert by_key(one)["employer_contacts_per_week"].value == pytest.approx(7.0)
    assert one.employer_contacts_by_week == {"2041-W10": {"es-1": 1}}
    with pytest.raises(ReportError) as err:
        fidelity_report(agency, END, START)
    assert err.value.field == "to"
