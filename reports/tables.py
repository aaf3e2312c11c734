"""The reports as JSON and as rows (for the CLI's table and for CSV), the same
for `ips report` and `GET /reports/...`.

A fidelity row is a figure, then one row per specialist (or rule) of its
breakdown, named in the `of` column; the figure's own row has `of` empty.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from reports.model import FidelityFigure, FidelityReport, OutcomesReport

FIDELITY_COLUMNS = [
    "key",
    "of",
    "title",
    "ips25_item",
    "numerator",
    "numerator_counts",
    "denominator",
    "denominator_counts",
    "value",
    "unit",
    "target",
    "meets",
]
OUTCOMES_COLUMNS = [
    "quarter",
    "start",
    "end",
    "employed",
    "active",
    "rate",
    "average_benchmark",
    "excellent_benchmark",
]


def figure_json(f: FidelityFigure) -> dict[str, Any]:
    return {
        "key": f.key,
        "title": f.title,
        "ips25": {
            "section": f.ips25.section,
            "number": f.ips25.number,
            "title": f.ips25.title,
            "label": f.ips25.label,
        },
        "numerator": f.numerator,
        "numerator_counts": f.numerator_counts,
        "denominator": f.denominator,
        "denominator_counts": f.denominator_counts,
        "value": f.value,
        "unit": f.unit,
        "target": f.target,
        "meets": f.meets,
        "breakdown": {k: figure_json(v) for k, v in f.breakdown.items()},
    }


def fidelity_json(r: FidelityReport) -> dict[str, Any]:
    return {
        "start": r.start.isoformat(),
        "end": r.end.isoformat(),
        "scope": r.scope,
        "figures": [figure_json(f) for f in r.figures],
        "employer_contacts_by_week": r.employer_contacts_by_week,
        "on_time_by_rule": {k: figure_json(v) for k, v in r.on_time_by_rule.items()},
    }


def fidelity_rows(r: FidelityReport) -> list[list[Any]]:
    rows = []
    for f in r.figures:
        rows.append(_row(f, ""))
        rows.extend(_row(part, of) for of, part in f.breakdown.items())
    return rows


def _row(f: FidelityFigure, of: str) -> list[Any]:
    return [
        f.key,
        of,
        f.title,
        f.ips25.label,
        f.numerator,
        f.numerator_counts,
        f.denominator,
        f.denominator_counts,
        f.value,
        f.unit,
        f.target,
        f.meets,
    ]


def outcomes_json(r: OutcomesReport) -> dict[str, Any]:
    return {
        "quarter": r.quarter,
        "start": r.start.isoformat(),
        "end": r.end.isoformat(),
        "employed": r.employed,
        "active": r.active,
        "rate": r.rate,
        "average_benchmark": r.average_benchmark,
        "excellent_benchmark": r.excellent_benchmark,
        "employed_consumers": r.employed_consumers,
        "active_consumers": r.active_consumers,
    }


def outcomes_rows(r: OutcomesReport) -> list[list[Any]]:
    return [
        [
            r.quarter,
            r.start,
            r.end,
            r.employed,
            r.active,
            r.rate,
            r.average_benchmark,
            r.excellent_benchmark,
        ]
    ]


def to_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A header row, then the rows: None is empty, True/False are true/false,
    numbers as Python writes them (0.5, 22.0)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
