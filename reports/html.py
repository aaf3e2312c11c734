"""The supervisor's report as one self-contained HTML page (SPEC §10).

Inline CSS and inline SVG only: no script, and nothing fetched from anywhere
(a Content-Security-Policy says so to the browser too), so the file can be
mailed, opened offline and printed. It is about staff and counts: consumers
never appear.

Every figure is shown with its IPS-25 item, its numerator and denominator and
what each counts, so that a supervisor can check it by hand. The three charts
(employment rate by quarter, employer contacts per specialist per week,
follow-along on time per rule) each come with a table of the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from html import escape

from reports.charts import Bar, Group, Line, column_chart, share_bar_chart
from reports.model import (
    EMPLOYMENT_RATE_AVERAGE,
    EMPLOYMENT_RATE_EXCELLENT,
    FidelityFigure,
    FidelityReport,
    OutcomesReport,
)

# The IPS model's expectation: 6 face-to-face employer contacts per
# specialist per week. The figure's own target wins when it has one.
EMPLOYER_CONTACTS_FIGURE = "employer_contacts_per_week"
EMPLOYER_CONTACTS_TARGET = 6.0

CHART_EMPLOYMENT_RATE = "chart-employment-rate"
CHART_EMPLOYER_CONTACTS = "chart-employer-contacts"
CHART_FOLLOW_ALONG = "chart-follow-along"

NO_DUE_CONTACTS = "no due contacts"
NO_ACTIVE_CASELOAD = "no active caseload"

CSS = """
body { font-family: system-ui, sans-serif; color: #1a1a1a; margin: 2rem auto; max-width: 1100px;
  padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
h2 { font-size: 1.25rem; margin-top: 1.5rem; border-bottom: 1px solid #ccc; }
dl.about { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
dl.about dt { font-weight: 600; }
dl.about dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .9rem; }
caption { text-align: left; font-size: .85rem; color: #555; padding: .25rem 0; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
thead th { background: #f0f0f0; }
td.number { text-align: right; }
.counts { color: #555; font-size: .8rem; display: block; }
tr.breakdown th, tr.breakdown td { font-size: .85rem; }
tr.breakdown th { padding-left: 1.5rem; font-weight: normal; }
.meets-yes { color: #0b6b2f; font-weight: 600; }
.meets-no { color: #a4290c; font-weight: 600; }
.meets-none { color: #555; }
figure { margin: 1rem 0 1.5rem; display: flex; flex-wrap: wrap; gap: 0 1.5rem;
  align-items: flex-start; }
figcaption { flex-basis: 100%; }
figure svg.chart { flex: 3 1 560px; }
figure table.chart-data { flex: 1 1 250px; }
figcaption { font-weight: 600; margin-bottom: .25rem; }
svg.chart { max-width: 100%; height: auto; display: block; }
table.chart-data { width: auto; margin: 0; }
@media print { body { margin: 0; max-width: none; } figure { break-inside: avoid; } }
"""

# Nothing may be loaded: not a font, an image or a style sheet.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render_html(
    fidelity: FidelityReport,
    outcomes: list[OutcomesReport],
    *,
    agency: str | None = None,
    generated_at: datetime,
) -> str:
    """The whole report as one HTML document."""
    period = _period(fidelity.start, fidelity.end)
    heading = "IPS supported employment report"
    title = f"{heading}: {agency}, {period}" if agency else f"{heading}: {period}"
    quarters = sorted(outcomes, key=lambda o: o.start)
    about = [
        ("Agency", agency),
        ("Period", period),
        ("Scope", fidelity.scope),
        (
            "Employment rate quarters",
            f"{quarters[0].quarter} to {quarters[-1].quarter}" if quarters else None,
        ),
        ("Made", _moment(generated_at)),
    ]
    body = [
        "<header>",
        f"<h1>{_t(heading)}</h1>",
        '<dl class="about">',
        *(f"<dt>{_t(k)}</dt><dd>{_t(v)}</dd>" for k, v in about if v is not None),
        "</dl>",
        "</header>",
        "<main>",
        '<section id="fidelity">',
        "<h2>Fidelity figures</h2>",
        _figures_table(fidelity.figures),
        "</section>",
        '<section id="charts">',
        "<h2>Charts</h2>",
        _employment_rate(quarters),
        _employer_contacts(fidelity),
        _follow_along(fidelity),
        "</section>",
        "</main>",
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_t(CSP)}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_t(title)}</title>",
            f"<style>{CSS}</style>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )


def _t(text: str | None) -> str:
    return escape(text or "", quote=True)


def _period(start: date, end: date) -> str:
    return f"{_day(start)} to {_day(end)}"


def _day(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def _moment(at: datetime) -> str:
    zone = f" {at.tzname()}" if at.tzinfo is not None else ""
    return f"{_day(at.date())}, {at:%H:%M}{zone}"


def _count(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}".rstrip("0")


def _share(x: float) -> str:
    return f"{x:.0%}"


def _amount(x: float, unit: str) -> str:
    if unit == "share":
        return _share(x)
    shown = str(int(x)) if float(x).is_integer() else f"{x:.1f}"
    return f"{shown} {unit}"


def _figure_cells(figure: FidelityFigure) -> list[str]:
    if figure.value is None:
        value = f"not measured: no {figure.denominator_counts}"
    else:
        value = _amount(figure.value, figure.unit)
    target = _amount(figure.target, figure.unit) if figure.target is not None else "no target"
    if figure.meets is True:
        meets = '<td class="meets-yes">meets the target</td>'
    elif figure.meets is False:
        meets = '<td class="meets-no">below the target</td>'
    else:
        meets = '<td class="meets-none">not judged</td>'
    return [
        f'<td class="number">{_t(_count(figure.numerator))}'
        f'<span class="counts">{_t(figure.numerator_counts)}</span></td>',
        f'<td class="number">{_t(_count(figure.denominator))}'
        f'<span class="counts">{_t(figure.denominator_counts)}</span></td>',
        f'<td class="number">{_t(value)}</td>',
        f'<td class="number">{_t(target)}</td>',
        meets,
    ]


def _figures_table(figures: Sequence[FidelityFigure]) -> str:
    rows = [
        '<table id="fidelity-figures">',
        "<caption>Each figure is numerator / denominator; the IPS-25 item is the item of the"
        " IPS Supported Employment Fidelity Scale it informs.</caption>",
        "<thead><tr><th scope='col'>IPS-25 item</th><th scope='col'>Figure</th>"
        "<th scope='col'>Numerator</th><th scope='col'>Denominator</th>"
        "<th scope='col'>Value</th><th scope='col'>Target</th>"
        "<th scope='col'>Meets the target?</th></tr></thead>",
        "<tbody>",
    ]
    for figure in figures:
        rows.append(
            f'<tr id="figure-{_t(figure.key)}"><td>{_t(figure.ips25.label)}</td>'
            f'<th scope="row">{_t(figure.title)}</th>{"".join(_figure_cells(figure))}</tr>'
        )
        for name, part in figure.breakdown.items():
            rows.append(
                f'<tr class="breakdown"><td></td><th scope="row">{_t(name)}</th>'
                f"{''.join(_figure_cells(part))}</tr>"
            )
    rows += ["</tbody>", "</table>"]
    return "\n".join(rows)


def _data_table(caption: str, head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    parts = [
        '<table class="chart-data">',
        f"<caption>{_t(caption)}</caption>",
        "<thead><tr>",
        *(f'<th scope="col">{_t(h)}</th>' for h in head),
        "</tr></thead><tbody>",
    ]
    for row in rows:
        first, *rest = row
        parts.append(
            f'<tr><th scope="row">{_t(first)}</th>'
            + "".join(f'<td class="number">{_t(c)}</td>' for c in rest)
            + "</tr>"
        )
    parts.append("</tbody></table>")
    return "".join(parts)


def _figure(chart_id: str, caption: str, svg: str, table: str) -> str:
    return (
        f'<figure aria-labelledby="{chart_id}-caption">'
        f'<figcaption id="{chart_id}-caption">{_t(caption)}</figcaption>'
        f"{svg}{table}</figure>"
    )


def _employment_rate(quarters: Sequence[OutcomesReport]) -> str:
    average = quarters[0].average_benchmark if quarters else EMPLOYMENT_RATE_AVERAGE
    excellent = quarters[0].excellent_benchmark if quarters else EMPLOYMENT_RATE_EXCELLENT

    def text(q: OutcomesReport) -> str:
        if q.rate is None:
            return NO_ACTIVE_CASELOAD
        return f"{_share(q.rate)} ({q.employed} of {q.active})"

    groups = [Group(q.quarter, [Bar("employment rate", q.rate, text(q))]) for q in quarters]
    caption = "Employment rate by quarter"
    description = (
        "Consumers who worked a competitive job at any time in the quarter, as a share of"
        f" the active caseload. Benchmarks: {_share(average)} average,"
        f" {_share(excellent)} excellent. "
        + "; ".join(f"{q.quarter}: {text(q)}" for q in quarters)
        + "."
    )
    top = max([excellent, *(q.rate or 0.0 for q in quarters)])
    y_max = min(1.0, max(0.6, (int(top * 10) + 1) / 10))
    svg = column_chart(
        chart_id=CHART_EMPLOYMENT_RATE,
        title=caption,
        description=description,
        groups=groups,
        y_max=y_max,
        y_ticks=[t / 10 for t in range(int(round(y_max * 10)) + 1)],
        y_tick_text=_share,
        y_label="Employed / active caseload",
        x_label="Quarter",
        lines=[
            Line(average, f"{_share(average)} average"),
            Line(excellent, f"{_share(excellent)} excellent"),
        ],
    )
    table = _data_table(
        "The numbers in the chart",
        ["Quarter", "Worked a competitive job", "Active caseload", "Employment rate"],
        [
            [
                q.quarter,
                str(q.employed),
                str(q.active),
                _share(q.rate) if q.rate is not None else NO_ACTIVE_CASELOAD,
            ]
            for q in quarters
        ],
    )
    return _figure(CHART_EMPLOYMENT_RATE, caption, svg, table)


def _iso_week(d: date) -> str:
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"


def report_weeks(fidelity: FidelityReport) -> list[str]:
    """Every ISO week the period touches, so that a week nobody made an
    employer contact shows as zeros rather than vanishing; with any week the
    data names outside it."""
    weeks = set()
    day = fidelity.start
    while day <= fidelity.end:
        weeks.add(_iso_week(day))
        day += timedelta(days=1)
    weeks.update(fidelity.employer_contacts_by_week)
    return sorted(weeks)


def _per_specialist(by_week: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """{week: {specialist: n}}, as the report holds it, by specialist instead."""
    turned: dict[str, dict[str, int]] = {}
    for week, counts in by_week.items():
        for specialist, n in counts.items():
            turned.setdefault(specialist, {})[week] = n
    return turned


def _employer_contacts(fidelity: FidelityReport) -> str:
    target = next(
        (
            f.target
            for f in fidelity.figures
            if f.key == EMPLOYER_CONTACTS_FIGURE and f.target is not None
        ),
        EMPLOYER_CONTACTS_TARGET,
    )
    by_specialist = _per_specialist(fidelity.employer_contacts_by_week)
    specialists = sorted(by_specialist)
    weeks = report_weeks(fidelity)
    groups = [
        Group(
            week,
            [
                Bar(es, by_specialist[es].get(week, 0), str(by_specialist[es].get(week, 0)), i)
                for i, es in enumerate(specialists)
            ],
        )
        for week in weeks
    ]
    caption = "Face-to-face employer contacts per specialist per week"
    description = (
        f"Target: {_count(target)} contacts per specialist per week. "
        + "; ".join(
            f"{week}: " + ", ".join(f"{es} {by_specialist[es].get(week, 0)}" for es in specialists)
            for week in weeks
        )
        + "."
    )
    highest = max([target, *(n for by_week in by_specialist.values() for n in by_week.values())])
    step = 2 if highest <= 16 else 5
    y_max = float(step * (int(highest * 1.25) // step + 1))
    svg = column_chart(
        chart_id=CHART_EMPLOYER_CONTACTS,
        title=caption,
        description=description,
        groups=groups,
        y_max=y_max,
        y_ticks=[float(t) for t in range(0, int(y_max) + 1, step)],
        y_tick_text=_count,
        y_label="Employer contacts",
        x_label="ISO week",
        lines=[Line(target, f"target {_count(target)} a week")],
        series=specialists,
    )
    table = _data_table(
        "The numbers in the chart",
        ["ISO week", *specialists],
        [[week, *(str(by_specialist[es].get(week, 0)) for es in specialists)] for week in weeks],
    )
    return _figure(CHART_EMPLOYER_CONTACTS, caption, svg, table)


def _follow_along(fidelity: FidelityReport) -> str:
    rules = fidelity.on_time_by_rule

    def text(f: FidelityFigure) -> str:
        if f.value is None:
            return NO_DUE_CONTACTS
        return f"{_share(f.value)} ({_count(f.numerator)} of {_count(f.denominator)})"

    caption = "Follow-along contacts met on time, by rule"
    description = (
        "The share of due follow-along contacts met within their window. "
        + "; ".join(f"{rule}: {text(f)}" for rule, f in rules.items())
        + "."
    )
    svg = share_bar_chart(
        chart_id=CHART_FOLLOW_ALONG,
        title=caption,
        description=description,
        bars=[Bar(rule, f.value, text(f)) for rule, f in rules.items()],
        x_label="Met on time / due",
        y_label="Rule",
    )
    table = _data_table(
        "The numbers in the chart",
        ["Rule", "Met on time", "Due", "Share on time"],
        [
            [
                rule,
                _count(f.numerator),
                _count(f.denominator),
                _share(f.value) if f.value is not None else NO_DUE_CONTACTS,
            ]
            for rule, f in rules.items()
        ],
    )
    return _figure(CHART_FOLLOW_ALONG, caption, svg, table)
