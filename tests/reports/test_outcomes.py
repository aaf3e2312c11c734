"""The quarterly employment rate of the agency in conftest.py, counted by hand."""

from __future__ import annotations

from datetime import date

import pytest

from reports.outcomes import outcomes_by_quarter, outcomes_report, parse_quarter
from reports.scope import ReportError
from store import Store


def test_team_rate_in_2041q1(agency: Store) -> None:
    report = outcomes_report(agency, "2041Q1", supervisor_id="sup-1")
    # Active some day of 01-01..03-31: c-1, c-2 (declined 03-10), c-3 (referred
    # 03-18) and es-2's eleven = 14; not c-4 (closed 2040-12-20) nor c-5 (April).
    assert report.active == 14
    assert report.active_consumers == sorted(
        ["c-1", "c-2", "c-3", *[f"c-{n}" for n in range(20, 31)]]
    )
    # Competitive and overlapping the quarter: c-1 (from 03-05), c-20 (03-06), c-22
    # (02-01 to 02-20). Not c-21 (not competitive), c-24 (ended 2040-12-31), c-25
    # (starts 04-01), c-4 (working, but not on the caseload). 3 / 14.
    assert report.employed_consumers == ["c-1", "c-20", "c-22"]
    assert (report.employed, report.rate) == (3, 3 / 14)
    assert (report.start, report.end) == (date(2041, 1, 1), date(2041, 3, 31))
    assert (report.average_benchmark, report.excellent_benchmark) == (0.41, 0.50)


def test_by_quarter_and_an_empty_one(agency: Store) -> None:
    reports = outcomes_by_quarter(agency, "2040Q4", "2041Q2", supervisor_id="sup-1")
    assert [r.quarter for r in reports] == ["2040Q4", "2041Q1", "2041Q2"]
    # 2040Q4: c-4 (declined 12-20) only, working from 2041: 0 / 1.
    assert (reports[0].active, reports[0].employed) == (1, 0)
    # 2041Q2: c-1, c-3, c-5 and es-2's eleven = 14; c-1, c-20 and c-25 working.
    assert (reports[2].active, reports[2].employed_consumers) == (14, ["c-1", "c-20", "c-25"])
    empty = outcomes_report(agency, "2030Q1")
    assert (empty.active, empty.employed, empty.rate) == (0, 0, None)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2027Q1", date(2027, 1, 1), date(2027, 3, 31)),
        ("2027Q2", date(2027, 4, 1), date(2027, 6, 30)),
        ("2028Q1", date(2028, 1, 1), date(2028, 3, 31)),
        ("2027Q4", date(2027, 10, 1), date(2027, 12, 31)),
    ],
)
def test_quarters(text: str, start: date, end: date) -> None:
    assert parse_quarter(text) == (start, end)


@pytest.mark.parametrize(
    "text",
    ["2027q1", "2027Q0", "2027Q5", "2027-Q1", " 2027Q1", "27Q1", "0000Q1", "2027Q1x", "٢٠٢٧Q1", ""],
)
def test_bad_quarters_name_the_field(text: str) -> None:
    with pytest.raises(ReportError) as err:
        parse_quarter(text)
    assert err.value.field == "quarter"
    assert "like 2027Q1" in err.value.reason


def test_by_quarter_refuses_a_reversed_range(store: Store) -> None:
    with pytest.raises(ReportError) as err:
        outcomes_by_quarter(store, "2041Q2", "2041Q1")
    assert err.value.field == "last"
