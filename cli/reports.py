"""`ips report`: the fidelity figures and the quarterly employment rate (SPEC §10).

Each fidelity figure shows its numerator and denominator and what each counts,
so a supervisor can check it by hand; `reports.fidelity` says exactly what
counts for each.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.journeys import parse_day
from cli.output import print_fields, print_json, print_table
from cli.session import ACTING_HELP, JsonOption, TokenOption, staff_session
from reports import tables
from service import reports
from service.errors import Invalid

report_app = typer.Typer(
    help="Reports for supervisors: fidelity figures and the quarterly employment rate.",
    no_args_is_help=True,
)

_OPTIONS = {"from": "--from", "to": "--to", "quarter": "--quarter", "supervisor": "--team"}

SCOPE_HELP = (
    "Whose figures: a specialist gets their own, a supervisor their team's, an admin "
    "(or the operator) the agency's, or one team's with --team."
)

TeamOption = Annotated[
    str | None,
    typer.Option("--team", help="Only this supervisor's team (the supervisor's id)."),
]
FromOption = Annotated[
    date,
    typer.Option("--from", parser=parse_day, metavar="DAY", help="The first day counted."),
]
ToOption = Annotated[
    date,
    typer.Option("--to", parser=parse_day, metavar="DAY", help="The last day counted (included)."),
]
CsvOption = Annotated[
    bool, typer.Option("--csv", help="Print CSV (with a header row) instead of a table.")
]


@report_app.command("fidelity", epilog=f"{SCOPE_HELP}\n\n{ACTING_HELP}")
def fidelity(
    start: FromOption,
    end: ToOption,
    team: TeamOption = None,
    token: TokenOption = None,
    json_output: JsonOption = False,
    csv_output: CsvOption = False,
) -> None:
    """The IPS-25 fidelity items the data can measure, from --from to --to.

    Each figure is numerator / denominator, with what each counts, its target and
    the IPS-25 item it informs; per specialist (or rule) below it. For example:

        ips report fidelity --from 2027-01-04 --to 2027-01-31 --team sup-1
    """
    _one_format(json_output, csv_output)
    with staff_session(token, _OPTIONS) as session:
        report = reports.fidelity(session.store, session.actor, start, end, team)
    if json_output:
        print_json(tables.fidelity_json(report))
        return
    if csv_output:
        typer.echo(tables.to_csv(tables.FIDELITY_COLUMNS, tables.fidelity_rows(report)), nl=False)
        return
    typer.echo(f"Fidelity, {report.scope}, {report.start.isoformat()} to {report.end.isoformat()}")
    print_table(
        ["figure", "of", "numerator", "denominator", "value", "target", "meets", "IPS-25 item"],
        [
            [
                key if not of else "",
                of,
                _number(numerator),
                _number(denominator),
                _number(value),
                _number(target),
                meets,
                item if not of else "",
            ]
            for key, of, _, item, numerator, _, denominator, _, value, _, target, meets in (
                tables.fidelity_rows(report)
            )
        ],
    )
    typer.echo("\nWhat is counted:")
    for f in report.figures:
        typer.echo(f"  {f.key}: {f.numerator_counts} / {f.denominator_counts} ({f.unit})")


@report_app.command("html", epilog=f"{SCOPE_HELP}\n\n{ACTING_HELP}")
def html_report(
    start: FromOption,
    end: ToOption,
    out: Annotated[
        Path,
        typer.Option("--out", metavar="FILE", dir_okay=False, help="The HTML file to write."),
    ],
    team: TeamOption = None,
    token: TokenOption = None,
) -> None:
    """The supervisor's report as one HTML file that opens in any browser, with no
    network: the fidelity figures from --from to --to and charts of the employment
    rate by quarter, employer contacts per specialist per week and on-time
    follow-along by rule. For example:

        ips report html --from 2027-01-01 --to 2027-03-31 --team sup-1 --out q1.html
    """
    with staff_session(token, _OPTIONS | {"out": "--out"}) as session:
        page = reports.html(
            session.store,
            session.actor,
            start,
            end,
            team,
            now=session.services.now(),
            agency=session.settings.agency_name,
        )
        try:
            out.write_text(page, encoding="utf-8")
        except OSError as err:
            raise Invalid("out", f"cannot write {str(out)!r}: {err.strerror}") from None
    typer.echo(f"Wrote the report to {out}")


@report_app.command("outcomes", epilog=f"{SCOPE_HELP}\n\n{ACTING_HELP}")
def outcomes(
    quarter: Annotated[
        str, typer.Option("--quarter", metavar="QUARTER", help="The quarter, like 2027Q1.")
    ],
    team: TeamOption = None,
    token: TokenOption = None,
    json_output: JsonOption = False,
    csv_output: CsvOption = False,
) -> None:
    """The quarterly employment rate: consumers who worked a competitive job at any
    time in the quarter / the active caseload in the quarter, against the IPS
    benchmarks (41% average, 50% excellent)."""
    _one_format(json_output, csv_output)
    with staff_session(token, _OPTIONS) as session:
        report = reports.outcomes(session.store, session.actor, quarter, team)
    if json_output:
        print_json(tables.outcomes_json(report))
        return
    if csv_output:
        typer.echo(tables.to_csv(tables.OUTCOMES_COLUMNS, tables.outcomes_rows(report)), nl=False)
        return
    rate = "none (no active caseload)" if report.rate is None else f"{report.rate:.1%}"
    print_fields(
        [
            ("quarter", f"{report.quarter} ({report.start} to {report.end})"),
            ("employed", f"{report.employed} (worked a competitive job in the quarter)"),
            ("active", f"{report.active} (on the caseload in the quarter)"),
            ("rate", rate),
            (
                "benchmarks",
                f"{report.average_benchmark:.0%} average, {report.excellent_benchmark:.0%} "
                "excellent",
            ),
            ("employed consumers", report.employed_consumers),
        ]
    )


def _one_format(json_output: bool, csv_output: bool) -> None:
    if json_output and csv_output:
        raise typer.BadParameter("give one of --json and --csv", param_hint="'--csv'")


def _number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:g}"
    return str(value)
